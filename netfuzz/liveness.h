/*
 * liveness.h - the hang oracle's probe: one fresh client that proves the
 * broker still does real work (accepts a session, routes a QoS 1 message to
 * a subscriber and acknowledges it), all within one deadline; blocking, or
 * stepped without blocking. Internal to netfuzz/.
 */
#ifndef MQZ_LIVENESS_H
#define MQZ_LIVENESS_H

#include <stddef.h>
#include <stdint.h>

#include "mqc.h"
#include "mqn.h"

/* Connects a fresh client to url, sends CONNECT (version v: 3.1, 3.1.1 or
 * 5.0; clean start, keep-alive 60 s, client_id, username and password when
 * not NULL), waits for CONNACK with code 0, SUBSCRIBEs to topic at QoS 1 and
 * waits for a SUBACK granting it (any code below 0x80), then PUBLISHes QoS 1
 * to topic a payload unique to this probe and requires both the PUBACK (code
 * below 0x80) and the PUBLISH itself back with the same payload (which it
 * acknowledges). When a 5.0 CONNACK says Maximum QoS 0, the probe subscribes
 * and publishes at QoS 0 and needs only the message back. Other messages on
 * topic (say, left retained by a fuzz session) are acknowledged and skipped.
 * Everything must happen before deadline_ms from the call; the probe then
 * sends DISCONNECT and closes without waiting for the broker.
 * in:  url, the strings (borrowed); tls (borrowed; client context for
 *      mqtts/wss, may be NULL for tcp/ws). topic must be a valid topic name
 *      that only the probe uses.
 * out: why (cap bytes, may be NULL): "" when alive, else which step failed
 *      and how, e.g. "no CONNACK within 500 ms", "CONNACK refused: code
 *      0x87", "no PUBLISH echo within 500 ms", "connection closed while
 *      waiting for PUBACK", "connect: <net's status and text>",
 *      "undecodable packet while waiting for SUBACK: <codec's message>".
 * returns 0 when the broker is alive, -1 otherwise. Never waits past the
 *      deadline, except up to 50 ms to hand the final DISCONNECT to the
 *      kernel (instant on loopback). */
int mqz_liveness(const mqn_url *url, mqn_tls *tls, mqc_version v, const char *client_id,
                 const char *username, const char *password, const char *topic,
                 uint32_t deadline_ms, char *why, size_t cap);

/* The same probe without blocking: the fuzzing run starts one, goes on
 * running sessions, and steps it between them, so a probe costs the run no
 * waiting (a blocking one held every session in flight for its round
 * trips). Each probe has a loop (an epoll set) of its own. */
typedef struct mqz_probe mqz_probe;

/* Starts the probe above (arguments as for mqz_liveness, copied; url and
 * tls borrowed until mqz_probe_free). Never blocks (numeric hosts).
 * returns the probe (caller frees with mqz_probe_free; bad arguments or a
 * refused dial make a probe that has already failed), NULL when out of
 * memory. */
mqz_probe *mqz_probe_start(const mqn_url *url, mqn_tls *tls, mqc_version v, const char *client_id,
                           const char *username, const char *password, const char *topic,
                           uint32_t deadline_ms);
/* Handles what happened, waiting up to wait_ms (0: not at all) but never
 * past the deadline. returns 1 while running, 0 when the broker is alive,
 * -1 when the probe failed: why (cap bytes, may be NULL) as for
 * mqz_liveness. Once 0 or -1, it stays so. */
int mqz_probe_step(mqz_probe *p, int wait_ms, char *why, size_t cap);
/* Closes the probe's connection (abortively if it is still running) and
 * frees it; NULL is fine. */
void mqz_probe_free(mqz_probe *p);

#endif /* MQZ_LIVENESS_H */
