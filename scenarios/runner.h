/* runner.h - state of one running case, shared by run.c, steps.c and
 * transcript.c (internal to the scenarios module). */
#ifndef MQS_RUNNER_H
#define MQS_RUNNER_H

#include "internal.h"

#define MQS__MAX_CLIENTS 16

/* One received packet: its bytes (owned) and the decoded view into them. */
typedef struct {
  uint8_t *bytes;
  size_t len;
  mqc_packet pkt;
  bool bad; /* did not decode: err says why */
  mqc_error err;
  uint64_t t;
} mqs__rx;

typedef struct {
  bool open; /* a transport exists (not yet closed) */
  bool ever_opened;
  bool transport_error; /* closed by a TLS/WS failure */
  char close_msg[320];
  uint8_t *rx; /* bytes not yet framed */
  size_t rx_n, rx_cap;
  bool poisoned; /* the byte stream could not be framed */
  char poison_msg[200];
  bool connacked; /* a CONNACK arrived on this connection */
  bool refusal;   /* ... and it refused the connection */
  mqs__rx *q;     /* received packets; [q_head, q_n) unconsumed */
  size_t q_head, q_n, q_cap;
  uint32_t closes;               /* count of observed closes */
  uint64_t closed_at, last_sent; /* target clock: the last close, the last send */
} mqs__client;

typedef struct {
  uint64_t t;
  unsigned client;
  char dir; /* '>' sent, '<' received, '!' event */
  char *text;
} mqs__tr_entry;

typedef struct {
  mqs__tr_entry *e;
  size_t n, cap;
} mqs__transcript;

void mqs__tr_add(mqs__transcript *tr, uint64_t t, unsigned client, char dir, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Renders every entry: "  +12 ms  sub   <  PUBLISH ..." relative to t0. */
void mqs__tr_render(const mqs__transcript *tr, const mqs_scenario *s, uint64_t t0, mqs__buf *out);
void mqs__tr_free(mqs__transcript *tr);

/* The target instance factory (run.c calls it per case). */
int mqs__target_new(const mqs_target_spec *spec, const mqs_run_opts *opts, const mqs_scenario *s,
                    const mqs_vars *vars, const mqs_target_ops **ops, mqs_target **out, char *err,
                    size_t cap);
/* server: the scenario's `server:` block (may be NULL or empty). */
/* vars: the case's variables, for `server:` values that use them. */
/* fault: the mqe_fault to plant (mqcheck mutants), 0 = none. */
int mqs__engine_target_new(const mqs_server_cfg *server, const mqs_vars *vars, unsigned fault,
                           const mqs_target_ops **ops, mqs_target **out);
/* Wraps the target so every client's I/O is reported to tap (borrowed for the
 * target's life); on failure (-1, out of memory) ops and t are untouched. */
int mqs__tap_wrap(const mqs_tap *tap, const mqs_target_ops **ops, mqs_target **t);
int mqs__net_target_new(const mqs_target_spec *spec, uint32_t connect_timeout_ms,
                        uint32_t io_timeout_ms, const mqs_target_ops **ops, mqs_target **out);

typedef struct {
  const mqs_case *c;
  const mqs_scenario *s;
  const mqs_run_opts *o;
  const mqs_target_ops *ops;
  mqs_target *t;
  mqs_sink sink;
  mqc_version v;
  mqs_vars vars;
  mqs__client cl[MQS__MAX_CLIENTS];
  mqs__transcript tr;
  uint64_t t0;
  uint64_t case_deadline; /* target clock */
  double scale;
  uint8_t *arena; /* per-step scratch for packet building */
  size_t arena_cap;
  mqs_result *res;
  mqs__buf detail; /* failure explanation, before the transcript */
  size_t step_no;
  /* verdict bookkeeping (docs/scenarios.md, "Verdicts") */
  size_t cur;          /* index of the running step */
  uint8_t *step_state; /* MQS__STEP_* per step */
  bool stopped;        /* a check could not go on: later steps not reached */
  bool errored;        /* the stop was an ERROR (transport, setup) */
  bool transport;
  struct {
    const char *id; /* static */
    bool fail;
    unsigned line;
  } extra[8]; /* statements judged by a field, outside the step's rules */
  size_t n_extra;
  /* cluster cases (docs/cluster.md) */
  unsigned node_of[MQS__MAX_CLIENTS];  /* the node each client's transport went to */
  unsigned sync_got[MQS__MAX_CLIENTS]; /* line of the last sync sentinel received */
  uint64_t propagation;                /* cross-node bound (scaled) added to waits */
  uint64_t rtt_ms;                     /* slowest CONNECT -> CONNACK seen in the case */
  bool any_positive;                   /* something that had to arrive did */
  unsigned negative_line;              /* last absence/close check not yet followed by a
                                          positive one (0 = none) */
} mqs__run;

enum { MQS__STEP_NOT_RUN, MQS__STEP_PASSED, MQS__STEP_FAILED, MQS__STEP_SKIPPED };

/* Executes one step. Returns 0 to go on, -1 when the case ended (res set). */
int mqs__step(mqs__run *r, const mqs_step *st);

/* Shared helpers for steps.c */
uint64_t mqs__scaled(const mqs__run *r, uint32_t ms);
/* Head of client's queue, waiting until deadline; NULL when none came (or
 * the connection closed / the stream broke). */
mqs__rx *mqs__next(mqs__run *r, unsigned client, uint64_t deadline);
void mqs__consume(mqs__run *r, unsigned client);
void mqs__client_reset(mqs__client *c);
/* A check of the running step failed but the case can go on (the connection
 * is in the state the next steps expect): its statements fail, later ones
 * are still judged. message is one line. Returns 0. */
int mqs__fail_soft(mqs__run *r, const mqs_step *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Something that had to arrive did (a positive control), or a check only
 * saw nothing arrive or a close (negative: a later positive must follow). */
void mqs__positive(mqs__run *r);
void mqs__negative(mqs__run *r, const mqs_step *st);
/* A statement judged by one field rather than by the step's rules. */
void mqs__judged(mqs__run *r, const mqs_step *st, const char *id, bool fail);
/* Ends the case: MQS_FAIL = the running check failed and the case cannot go
 * on; MQS_ERROR = no verdict (transport, setup). message is one line. */
int mqs__end(mqs__run *r, const mqs_step *st, mqs_verdict v, bool transport, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Text of a packet for transcripts (password redacted). */
void mqs__packet_line(const mqc_packet *p, mqc_version v, char *out, size_t cap);

#endif
