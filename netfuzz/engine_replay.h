/* engine_replay.h - a session played on the reference engine (internal). */
#ifndef MQZ_ENGINE_REPLAY_H
#define MQZ_ENGINE_REPLAY_H

#include "mqz.h"

/* What the engine sent to client after record rec (its index in the
 * session) was played: one whole packet p[0..n) (borrowed for the call), or
 * p == NULL when the engine closed the client's connection. */
typedef void (*mqz_engine_rx_fn)(void *ctx, size_t rec, unsigned client, const uint8_t *p,
                                 size_t n);

/* How the executor sends a record's packet (the oracle model decides). */
enum { MQZ_REPLAY_SENT = 0, MQZ_REPLAY_SUPPRESSED = 1, MQZ_REPLAY_PROBED = 2 };

/* Plays s[0..n) on a fresh engine with the default configuration, with
 * token in place of MQZ_TOKEN, sending what the executor sends: packets the
 * model suppresses are left out, a PINGREQ follows a packet that breaks the
 * protocol. how (may be NULL; how_cap entries) gets MQZ_REPLAY_* per record.
 * Returns 0, or -1 when out of memory. */
int mqz_engine_replay(const uint8_t *s, size_t n, const char *token, mqz_engine_rx_fn fn, void *ctx,
                      uint8_t *how, size_t how_cap);

#endif
