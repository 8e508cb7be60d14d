/* planted.h - the faults planted in tests/netfuzz/planted_broker, the broker
 * the network fuzzer (netfuzz/) must find bugs in. One fault per oracle kind;
 * the exact triggers and the statements they break are at the top of
 * planted_bugs.c and in docs/netfuzz-planted.md.
 *
 * The faults sit beside the engine, not in it: pb_inbound() sees every byte a
 * client sends before the engine does, pb_outbound() sees every whole packet
 * the engine sends before the transport does. With no fault enabled both are
 * pass-through, so the broker is byte for byte the engine behind net/.
 *
 * Prefix pb_. Ownership: a pb_conn owns its buffers (pb_conn_free); a
 * pb_leaks owns nothing it can give back, by design. */
#ifndef PB_PLANTED_H
#define PB_PLANTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqc.h"

typedef enum {
  PB_OVERFLOW = 1u << 0, /* crash: heap overflow on a 5.0 PUBLISH property pair */
  PB_HANG = 1u << 1,     /* hang: SUBSCRIBE f, UNSUBSCRIBE f, PINGREQ */
  PB_BADWIRE = 1u << 2,  /* bad wire: SUBACK with reason code 0x03 */
  PB_QOS2LOSS = 1u << 3, /* spec: QoS 2 deliveries beyond 20 in flight dropped */
  PB_LEAK = 1u << 4,     /* leak: 64 KiB and one descriptor per connection */
  PB_ALL = 0x1f,         /* the five above, one per oracle kind */
  PB_NOWILL = 1u << 5,   /* spec: wills (PUBLISHes on topics ending in "will") never delivered */
  /* leak at exit (not in "all": it fails every ASan exit): a second CONNECT
   * after one with a Will loses a block only LeakSanitizer sees, at exit */
  PB_EXITLEAK = 1u << 6,
  /* crash needing two sessions (not in "all"): a retained PUBLISH on a topic
   * with an empty level ("a//b") arms it; a SUBSCRIBE from another
   * connection then overflows a heap buffer */
  PB_STALE = 1u << 7,
  /* resource faults (not in "all"), for the oracles that see what neither a
   * crash nor a leak report shows:
   * bigalloc: the remaining length a packet's header claims is allocated
   * before its bytes come, untouched (CVE-2017-7651, CVE-2023-0809) */
  PB_BIGALLOC = 1u << 8,
  /* cpuburn: every property of a 5.0 packet checked against every later one
   * for duplicates, User Properties too: quadratic (CVE-2021-41039) */
  PB_CPUBURN = 1u << 9,
  /* heldgrowth: a QoS 2 PUBLISH repeating the packet identifier of one
   * still awaiting its PUBREL keeps PB_HELD_BYTES until the connection
   * closes (CVE-2023-28366) */
  PB_HELD = 1u << 10,
  /* idlespin: an UNSUBSCRIBE directly followed by a PINGREQ on one
   * connection makes the server's loop poll with a zero timeout from then
   * on: it still serves everyone, and burns a core while idle */
  PB_IDLESPIN = 1u << 11,
} pb_bug;

/* QoS 2 deliveries in flight to one connection before the rest are dropped. */
#define PB_Q2_LIMIT 20
/* Claims of this many bytes or more are allocated up front (bigalloc). */
#define PB_BIG_CLAIM (1u << 20)
/* Bytes held (and touched) per repeated identifier, and at most this many
 * blocks per connection (heldgrowth): 128 MiB. */
#define PB_HELD_BYTES (1u << 20)
#define PB_HELD_MAX   128
/* Bytes leaked (and touched) per connection. */
#define PB_LEAK_BYTES (64u << 10)

/* Parses a comma list of overflow, hang, badwire, qos2loss, leak, nowill, exitleak, stale,
 * bigalloc, cpuburn, heldgrowth, idlespin, or
 * "all" (the first five), or "none". out: *bugs (PB_* bits). returns false on an unknown name. */
bool pb_parse_bugs(const char *list, unsigned *bugs);

/* State the faults share across connections (stale); the server owns it. */
typedef struct {
  const void *armed_by; /* the connection whose retained PUBLISH armed it */
  bool spinning;        /* idlespin fired: the loop never sleeps again */
} pb_shared;

/* Per-connection fault state. */
typedef struct {
  pb_shared *shared; /* borrowed; NULL: no fault that spans connections */
  unsigned bugs;
  mqc_version version; /* from the client's CONNECT; 0 before */
  bool tap_off;        /* inbound stream unframeable: faults stay quiet */
  uint8_t *in;         /* inbound bytes not yet a whole packet (owned) */
  size_t in_n, in_cap;
  /* hang: 1 after a SUBSCRIBE, 2 after an UNSUBSCRIBE of its first filter */
  uint8_t hang_step;
  bool after_unsub;     /* idlespin: the last packet was an UNSUBSCRIBE */
  uint64_t hang_filter; /* FNV-1a of that filter */
  /* badwire: the SUBACK to corrupt */
  bool bad_suback;
  uint16_t bad_suback_id;
  /* qos2loss: bitmap of the packet IDs of QoS 2 PUBLISHes sent, not yet
   * completed by PUBCOMP (owned, 8 KiB; NULL without the fault) */
  uint8_t *q2_sent;
  unsigned q2_inflight;
  unsigned long q2_dropped;
  /* overflow: the last routing key built (owned) */
  uint8_t *route_key;
  bool will_kept; /* exitleak: the first CONNECT carried a Will */
  void *big;      /* bigalloc: the block a claim made (owned, never touched) */
  /* heldgrowth: packet identifiers of inbound QoS 2 PUBLISHes awaiting
   * PUBREL (bitmap, owned, 8 KiB), and the blocks held (a list threaded
   * through them, owned) */
  uint8_t *q2_in;
  void *held;
  unsigned n_held;
  volatile unsigned long burn; /* cpuburn: duplicates counted (kept, so the loop stays) */
  /* PB_* faults whose trigger condition was met on this connection, armed
   * or not (the inbound ones: overflow, hang, badwire); planted_reach counts
   * them. The tap runs only when some fault is armed. */
  unsigned met;
  /* the fault that made pb_outbound() drop its last packet (PB_QOS2LOSS or
   * PB_NOWILL), 0 when it kept it */
  unsigned dropped_by;
} pb_conn;

/* returns false when out of memory (c is then zeroed and needs no free). */
bool pb_conn_init(pb_conn *c, unsigned bugs);
void pb_conn_free(pb_conn *c);

/* Sees len bytes (borrowed) a client sent, before the engine does. May crash
 * the process (PB_OVERFLOW, by design). returns true when PB_HANG fired: the
 * caller must then stop serving. */
bool pb_inbound(pb_conn *c, const uint8_t *buf, size_t len);

/* Filters one whole server packet pkt[0, len) (writable, rewritten in place)
 * on its way to the client. returns the bytes to send: len, or 0 to drop it. */
size_t pb_outbound(pb_conn *c, uint8_t *pkt, size_t len);

/* The leak fault's bookkeeping. Blocks stay reachable from head (a list
 * threaded through the blocks), so LeakSanitizer does not report them. */
typedef struct {
  void *head;
  size_t count;  /* connections that leaked */
  size_t cap;    /* connections that leak memory; later ones do not */
  size_t fd_cap; /* connections that leak a descriptor (room left for serving) */
} pb_leaks;

/* One connection's worth of leak: PB_LEAK_BYTES touched (while count < cap),
 * one /dev/null descriptor never closed (while count < fd_cap). */
void pb_leak(pb_leaks *l);

#endif
