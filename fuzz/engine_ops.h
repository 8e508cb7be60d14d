/* engine_ops.h - the record format of the engine target's input, shared with
 * the mutator's layout (layouts.c) and the corpus generator (gen-corpus.py
 * mirrors these values; keep them in step).
 *
 * Input: MQF_ENGINE_PREFIX config bytes, then records. A record is an op byte
 * (high 3 bits: action, low 5 bits: arguments), plus:
 *   FEED    (0x00-0x3F) conn = op & 3, split = (op >> 2) & 15, then one MQTT
 *           packet (framed by its own header; an unframeable rest is fed whole)
 *   CANNED  (0x40-0x5F) conn = op & 3, template = (op >> 2) & 7, then 1 arg byte
 *   CLOCK   (0x60-0x7F) advance the virtual clock by a step from a table, tick
 *   DRAIN   (0x80-0x9F) conn = op & 3, bit 2: partial, bit 3: auto-acknowledge,
 *           bit 4: through mqe_conn_send (copying) instead of pending/consumed
 *   CLOSE   (0xA0-0xBF) conn = op & 3, bit 2: abrupt, bit 3: kick (server side)
 *   OPEN    (0xC0-0xDF) conn = op & 3
 *   MISC    (0xE0-0xFF) 0xFF: shutdown; 0xFE: leave the connections open for
 *           mqe_engine_free; others: no-op (stats read) */
#ifndef MQF_ENGINE_OPS_H
#define MQF_ENGINE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQF_ENGINE_PREFIX 4
#define MQF_ENGINE_CONNS  4

enum {
  MQF_OP_FEED = 0x00,
  MQF_OP_CANNED = 0x40,
  MQF_OP_CLOCK = 0x60,
  MQF_OP_DRAIN = 0x80,
  MQF_OP_CLOSE = 0xA0,
  MQF_OP_OPEN = 0xC0,
  MQF_OP_MISC = 0xE0
};

static inline unsigned mqf_engine_action(uint8_t op) {
  return op < 0x40 ? MQF_OP_FEED : (unsigned)(op & 0xE0);
}
static inline bool mqf_engine_op_has_packet(uint8_t op) {
  return mqf_engine_action(op) == MQF_OP_FEED;
}
static inline size_t mqf_engine_op_head_len(uint8_t op) {
  return mqf_engine_action(op) == MQF_OP_CANNED ? 2 : 1;
}

#endif
