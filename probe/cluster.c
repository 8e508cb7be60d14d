/* cluster.c - the promises a cluster's nodes keep, probed across them
 * (docs/cluster.md): a message published on one node reaches a subscriber on
 * another, a retained message set on one node is read on another, a CONNECT on
 * another node takes a client ID over, a shared group with a member on each
 * node delivers each message once, a session resumes on another node.
 *
 * Every cross-node wait is a deadline (the probe's step timeout): a cluster
 * propagates in its own time, and the slowest propagation measured becomes
 * the profile's bound. Node 0 (the probe's target) is paired with each other
 * node; a promise holds when it holds for every pair. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probe_int.h"

typedef struct {
  mqp__probe *p;
  mqc_version v;
  mqn_url url[MQP_NODES_MAX];
  uint16_t pid;
  unsigned seq; /* client IDs and topics of this step */
  double worst; /* the slowest propagation measured so far (ms) */
} cl;

__attribute__((format(printf, 4, 5))) static void cset(mqp_result *r, mqp_cluster_item i, mqp_tri s,
                                                       const char *fmt, ...) {
  r->cluster[i].state = s;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->cluster[i].note, sizeof r->cluster[i].note, fmt, ap);
  va_end(ap);
}

static const char *name(const cl *c, size_t k) {
  return c->p->r->node_names[k];
}

/* A client of this step on node k; NULL with why on failure. */
static mqp__conn *on_node(cl *c, size_t k, const char *role, bool clean, char *why, size_t cap) {
  char cid[64];
  snprintf(cid, sizeof cid, "%s-c%u-%s", c->p->prefix, c->seq, role);
  mqp__connect_args a = {.version = c->v, .client_id = cid, .clean = clean, .credentials = true};
  if (!clean && c->v == MQC_V5) a.session_expiry = 300;
  mqp__conn *conn;
  mqp__ack ack;
  char w[160]; /* leaves room in why for the node name */
  if (mqp__connect(c->p, &c->url[k], &a, &conn, &ack, w, sizeof w) == MQP__ACCEPTED) return conn;
  snprintf(why, cap, "node %s: %s", name(c, k), w);
  return NULL;
}

static void topic_of(const cl *c, const char *leaf, char *out, size_t cap) {
  snprintf(out, cap, "mqcheck/probe/%s/c%u/%s", c->p->prefix, c->seq, leaf);
}

/* QoS 0 sentinels from pub every 50 ms until sub (subscribed to t) gets one:
 * a cluster may learn of a subscription after its SUBACK. Milliseconds it
 * took, or -1 when nothing crossed within the deadline. */
static double sentinels(cl *c, mqp__conn *sub, mqp__conn *pub, const char *t) {
  int64_t t0 = mqn_now_ms(), deadline = t0 + c->p->tmo;
  while (mqn_now_ms() < deadline) {
    if (mqp__publish(pub, t, "sentinel", 0, false, 0, 0, c->p->tmo) != MQP__GOT) return -1;
    int r = mqp__await(sub, MQC_PUBLISH, t, 50);
    if (r == MQP__GOT) return (double)(mqn_now_ms() - t0);
    if (r != MQP__TIMEOUT) return -1;
  }
  return -1;
}

/* Both directions between node 0 and node k. */
static int delivery(cl *c, size_t k, double *worst, char *why, size_t cap) {
  for (int dir = 0; dir < 2; dir++) {
    size_t ns = dir ? k : 0, np = dir ? 0 : k;
    c->seq++;
    char t[128];
    topic_of(c, "d", t, sizeof t);
    mqp__conn *sub = on_node(c, ns, "s", true, why, cap), *pub = NULL;
    uint8_t g = 0;
    if (!sub || !(pub = on_node(c, np, "p", true, why, cap)) ||
        mqp__subscribe(sub, ++c->pid, t, 1, 0, c->p->tmo, &g) != MQP__GOT || g > 2) {
      if (sub && pub) snprintf(why, cap, "node %s: SUBSCRIBE %s refused", name(c, ns), t);
      mqp__close(sub);
      mqp__close(pub);
      return -1;
    }
    double ms = sentinels(c, sub, pub, t);
    mqp__close(sub);
    mqp__close(pub);
    if (ms < 0) {
      snprintf(why, cap, "published on node %s, nothing reached node %s within %u ms", name(c, np),
               name(c, ns), c->p->tmo);
      return 1;
    }
    if (ms > *worst) *worst = ms;
  }
  return 0;
}

/* Set on node 0, read by a new subscription on node k (retried until the
 * deadline: the message may still be on its way), then cleared. */
static int retained(cl *c, size_t k, double *worst, char *why, size_t cap) {
  c->seq++;
  char t[128];
  topic_of(c, "r", t, sizeof t);
  mqp__conn *pub = on_node(c, 0, "p", true, why, cap);
  if (!pub) return -1;
  if (mqp__publish(pub, t, "retained", 1, true, ++c->pid, 0, c->p->tmo) != MQP__GOT) {
    snprintf(why, cap, "node %s: a retained PUBLISH was not acknowledged", name(c, 0));
    mqp__close(pub);
    return -1;
  }
  int64_t t0 = mqn_now_ms(), deadline = t0 + c->p->tmo;
  int rc = 1;
  while (rc == 1 && mqn_now_ms() < deadline) {
    mqp__conn *sub = on_node(c, k, "s", true, why, cap);
    uint8_t g = 0;
    if (!sub) {
      rc = -1;
      break;
    }
    if (mqp__subscribe(sub, ++c->pid, t, 1, 0, c->p->tmo, &g) == MQP__GOT && g <= 2 &&
        mqp__await(sub, MQC_PUBLISH, t, 100) == MQP__GOT) {
      double ms = (double)(mqn_now_ms() - t0);
      if (ms > *worst) *worst = ms;
      rc = 0;
    }
    mqp__close(sub);
  }
  if (rc == 1)
    snprintf(why, cap, "set on node %s, no new subscription on node %s got it within %u ms",
             name(c, 0), name(c, k), c->p->tmo);
  (void)mqp__publish(pub, t, "", 1, true, ++c->pid, 0, c->p->tmo); /* cleared */
  mqp__close(pub);
  return rc;
}

/* The same client ID on node 0, then on node k: the first connection must
 * be closed (MQTT-3.1.4-2, 5.0 MQTT-3.1.4-3). */
static int takeover(cl *c, size_t k, char *why, size_t cap) {
  c->seq++;
  mqp__conn *old = on_node(c, 0, "t", true, why, cap);
  if (!old) return -1;
  mqp__conn *now = on_node(c, k, "t", true, why, cap);
  if (!now) {
    mqp__close(old);
    return -1;
  }
  int64_t deadline = mqn_now_ms() + c->p->tmo;
  int r = MQP__GOT;
  while (r == MQP__GOT && mqn_now_ms() < deadline) /* a 5.0 DISCONNECT 0x8E comes first */
    r = mqp__recv(old, (uint32_t)(deadline - mqn_now_ms()));
  bool closed = r == MQP__CLOSED || r == MQP__BROKEN;
  mqp__conn_drop(old);
  mqp__close(now);
  if (!closed)
    snprintf(why, cap,
             "a CONNECT on node %s left the same client ID's connection on node %s "
             "open for %u ms",
             name(c, k), name(c, 0), c->p->tmo);
  return closed ? 0 : 1;
}

/* One member of a shared group on node 0 and one on node k; four QoS 1
 * messages published on node 0 must reach the group four times in all. */
static int shared(cl *c, size_t k, char *why, size_t cap) {
  c->seq++;
  char t[128], f[160];
  topic_of(c, "g", t, sizeof t);
  snprintf(f, sizeof f, "$share/mqcheck/%s", t);
  mqp__conn *m[2] = {on_node(c, 0, "m0", true, why, cap), on_node(c, k, "mk", true, why, cap)};
  mqp__conn *pub = on_node(c, 0, "p", true, why, cap);
  int rc = -1;
  uint8_t g0 = 0xFF, g1 = 0xFF;
  if (m[0] && m[1] && pub && mqp__subscribe(m[0], ++c->pid, f, 1, 0, c->p->tmo, &g0) == MQP__GOT &&
      mqp__subscribe(m[1], ++c->pid, f, 1, 0, c->p->tmo, &g1) == MQP__GOT && g0 <= 2 && g1 <= 2) {
    /* the far member's subscription must be known on node 0 first: a plain
     * subscription of that member, sentinels through it */
    char s[128];
    topic_of(c, "gsync", s, sizeof s);
    uint8_t gs = 0;
    if (mqp__subscribe(m[1], ++c->pid, s, 0, 0, c->p->tmo, &gs) != MQP__GOT ||
        sentinels(c, m[1], pub, s) < 0) {
      snprintf(why, cap, "nothing published on node %s reached node %s", name(c, 0), name(c, k));
    } else {
      for (int i = 0; i < 4; i++)
        (void)mqp__publish(pub, t, "member", 1, false, ++c->pid, 0, c->p->tmo);
      /* count until the group has been quiet for a while (a copy per node
       * arrives within a propagation of the first: the window grows with the
       * slowest one measured, so a loaded machine's late copy still counts)
       * or the deadline */
      int got[2] = {0, 0};
      int64_t window = 300 + 4 * (int64_t)c->worst;
      int64_t deadline = mqn_now_ms() + c->p->tmo, quiet = mqn_now_ms() + window;
      while (mqn_now_ms() < deadline && mqn_now_ms() < quiet)
        for (int i = 0; i < 2; i++)
          if (mqp__await(m[i], MQC_PUBLISH, t, 25) == MQP__GOT) {
            got[i]++;
            quiet = mqn_now_ms() + window;
          }
      rc = got[0] + got[1] == 4 ? 0 : 1;
      if (rc)
        snprintf(why, cap, "4 messages reached the group %d times (%d on node %s, %d on node %s)%s",
                 got[0] + got[1], got[0], name(c, 0), got[1], name(c, k),
                 got[0] + got[1] > 4 ? ": a group per node" : "");
    }
  } else if (m[0] && m[1] && pub) {
    snprintf(why, cap, "SUBSCRIBE %s refused", f);
  }
  mqp__close(m[0]);
  mqp__close(m[1]);
  mqp__close(pub);
  return rc;
}

/* A session made on node 0 (Clean Start 0, a subscription) is present when
 * the client comes back on node k, and gets what was published meanwhile. */
static int resume(cl *c, size_t k, char *why, size_t cap) {
  c->seq++;
  char t[128];
  topic_of(c, "s", t, sizeof t);
  mqp__conn *a = on_node(c, 0, "r", false, why, cap);
  uint8_t g = 0;
  if (!a) return -1;
  if (mqp__subscribe(a, ++c->pid, t, 1, 0, c->p->tmo, &g) != MQP__GOT || g == 0 || g > 2) {
    snprintf(why, cap, "node %s: SUBSCRIBE at QoS 1 refused or downgraded", name(c, 0));
    mqp__close(a);
    return -1;
  }
  mqp__close(a);
  char cid[64];
  snprintf(cid, sizeof cid, "%s-c%u-r", c->p->prefix, c->seq);
  mqp__connect_args args = {.version = c->v, .client_id = cid, .clean = false, .credentials = true};
  if (c->v == MQC_V5) args.session_expiry = 300;
  mqp__ack ack;
  char w[160]; /* leaves room in why for the node name */
  int rc = -1;
  /* the session may take a while to be known on node k: twice the slowest
   * propagation measured. One try only: a CONNECT with Clean Start 0 that
   * finds nothing makes a session there, which a second try would find. */
  double wait = 2 * c->worst > 100 ? 2 * c->worst : 100;
  if (wait > c->p->tmo) wait = c->p->tmo;
  struct timespec ts = {(time_t)(wait / 1000), (long)((long)wait % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  if (mqp__connect(c->p, &c->url[k], &args, &a, &ack, w, sizeof w) != MQP__ACCEPTED) {
    snprintf(why, cap, "node %s: %s", name(c, k), w);
  } else {
    rc = ack.session_present ? 0 : 1;
    mqp__close(a);
  }
  if (rc == 1)
    snprintf(why, cap, "a session made on node %s was not present on node %s (Session Present 0)",
             name(c, 0), name(c, k));
  /* end the session on both nodes */
  args.clean = true;
  args.session_expiry = 0;
  for (size_t n = 0; n <= k; n += k)
    if (mqp__connect(c->p, &c->url[n], &args, &a, &ack, w, sizeof w) == MQP__ACCEPTED)
      mqp__close(a);
  return rc;
}

void mqp__cluster(mqp__probe *p, mqc_version v) {
  mqp_result *r = p->r;
  cl c = {.p = p, .v = v};
  for (size_t k = 0; k < r->n_nodes; k++)
    if (mqn_url_parse(p->o->node_urls[k], &c.url[k]) != MQN_OK) {
      for (int i = 0; i < MQP_CL_COUNT; i++)
        cset(r, (mqp_cluster_item)i, MQP_UNKNOWN, "node %s: not a URL", name(&c, k));
      return;
    }
  for (int i = 0; i < MQP_CL_COUNT; i++) {
    mqp_cluster_item it = (mqp_cluster_item)i;
    if (it == MQP_CL_SHARED && r->a[MQP_SHARED].state != MQP_YES) {
      cset(r, it, MQP_UNKNOWN, "not probed: no shared subscriptions on node %s", name(&c, 0));
      continue;
    }
    if (it == MQP_CL_RESUME && r->a[MQP_SESSIONS].state != MQP_YES) {
      cset(r, it, MQP_UNKNOWN, "not probed: no persistent sessions on node %s", name(&c, 0));
      continue;
    }
    /* not the retain capability: on a cluster its check may see the live
     * copy of the message first (docs/cluster.md); only a broker that said
     * Retain Available 0 must not be sent one (MQTT-3.2.2-14) */
    if (it == MQP_CL_RETAINED && r->retain_unavailable) {
      cset(r, it, MQP_UNKNOWN, "not probed: node %s said Retain Available 0", name(&c, 0));
      continue;
    }
    int rc = 0;
    char why[MQP_NOTE_MAX] = "";
    for (size_t k = 1; k < r->n_nodes && rc == 0; k++) {
      switch (it) {
      case MQP_CL_DELIVERY:
        rc = delivery(&c, k, &c.worst, why, sizeof why);
        break;
      case MQP_CL_RETAINED:
        rc = retained(&c, k, &c.worst, why, sizeof why);
        break;
      case MQP_CL_TAKEOVER:
        rc = takeover(&c, k, why, sizeof why);
        break;
      case MQP_CL_SHARED:
        rc = shared(&c, k, why, sizeof why);
        break;
      default:
        rc = resume(&c, k, why, sizeof why);
        break;
      }
    }
    if (rc < 0)
      cset(r, it, MQP_UNKNOWN, "%s", why);
    else if (rc)
      cset(r, it, MQP_NO, "%s", why);
    else
      cset(r, it, MQP_YES, "between node %s and every other node", name(&c, 0));
  }
  r->propagation_ms = r->cluster[MQP_CL_DELIVERY].state == MQP_YES ? c.worst : -1;
}
