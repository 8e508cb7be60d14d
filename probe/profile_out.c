/* profile_out.c - a probe result as a target profile (the YAML the profile
 * loader reads, with everything else the probe learned as comments) and as
 * the mqs_profile a run uses directly. */
#include <stdlib.h>
#include <string.h>

#include "probe_int.h"

/* Items that are run capabilities, with the capability each one decides. */
static const struct {
  mqp_item item;
  mqs_cap cap;
} cap_items[] = {
    {MQP_QOS1, MQS_CAP_QOS1},
    {MQP_QOS2, MQS_CAP_QOS2},
    {MQP_RETAIN, MQS_CAP_RETAIN},
    {MQP_WILDCARDS, MQS_CAP_WILDCARDS},
    {MQP_SHARED, MQS_CAP_SHARED_SUBSCRIPTIONS},
    {MQP_SUB_IDS, MQS_CAP_SUBSCRIPTION_IDENTIFIERS},
    {MQP_TOPIC_ALIAS, MQS_CAP_TOPIC_ALIAS},
    {MQP_ASSIGNED_ID, MQS_CAP_ASSIGNED_CLIENT_ID},
    {MQP_SESSIONS, MQS_CAP_PERSISTENT_SESSIONS},
};
#define N_CAP_ITEMS (sizeof cap_items / sizeof cap_items[0])

/* Comments stay on one line whatever a broker sent. */
static void comment_text(FILE *f, const char *s) {
  for (; *s; s++)
    fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
  }
  fputc('"', f);
}

static unsigned versions_of(const mqp_result *r) {
  return (r->a[MQP_V311].state == MQP_YES ? MQS_V311 : 0) |
         (r->a[MQP_V5].state == MQP_YES ? MQS_V5 : 0) |
         (r->a[MQP_V31].state == MQP_YES ? MQS_V31 : 0);
}

/* session-expiry follows persistent sessions where the 5.0 interval exists */
static mqp_tri session_expiry(const mqp_result *r) {
  if (!r->using || strcmp(r->using, "5.0")) return MQP_UNKNOWN;
  return r->a[MQP_SESSIONS].state;
}

/* The propagation bound a profile gets from what was measured: five times
 * the slowest, in whole 100 ms, never under the default. */
static uint32_t propagation_bound(const mqp_result *r) {
  uint32_t ms = r->propagation_ms > 0 ? (uint32_t)(r->propagation_ms * 5 + 99) / 100 * 100 : 0;
  return ms > MQS_PROPAGATION_DEFAULT_MS ? ms : MQS_PROPAGATION_DEFAULT_MS;
}

static void write_cluster(const mqp_result *r, FILE *f) {
  fprintf(f, "# Cluster of %zu nodes: the promises probed between node %s and the others.\n",
          r->n_nodes, r->node_names[0]);
  for (int i = 0; i < MQP_CL_COUNT; i++) {
    fprintf(f, "#   %-26s %-8s ", mqp_cluster_item_name((mqp_cluster_item)i),
            mqp_tri_name(r->cluster[i].state));
    comment_text(f, r->cluster[i].note);
    fputc('\n', f);
  }
  if (r->propagation_ms >= 0)
    fprintf(f,
            "#   %-26s %.0f ms (slowest measured); the bound below is 5 times that, at least "
            "%u ms\n",
            "propagation", r->propagation_ms, MQS_PROPAGATION_DEFAULT_MS);
  if (r->cluster[MQP_CL_DELIVERY].state == MQP_NO)
    fprintf(f, "# These nodes do not route to each other: every cluster case fails on them.\n");
  if (r->cluster[MQP_CL_RETAINED].state == MQP_NO || r->cluster[MQP_CL_SHARED].state == MQP_NO)
    fprintf(f, "# A retained message or a shared group that does not span the nodes has no key "
               "of its own: the cluster cases that need it fail (docs/cluster.md).\n");
}

int mqp_write_profile(const mqp_result *r, FILE *f) {
  fprintf(f, "# mqcheck probe of %s at %s, %.1f s, capabilities probed over MQTT %s.\n", r->target,
          r->started, r->wall_ms / 1000.0, r->using ? r->using : "(none)");
  fprintf(f, "# Each line: what was probed, the answer, and how it was decided.\n");
  for (int i = 0; i < MQP_ITEM_COUNT; i++) {
    fprintf(f, "#   %-26s %-8s ", mqp_item_name((mqp_item)i), mqp_tri_name(r->a[i].state));
    comment_text(f, r->a[i].note);
    fputc('\n', f);
  }
  fprintf(f, "#   %-26s %s\n", "maximum QoS",
          r->max_qos < 0    ? "unknown"
          : r->max_qos == 0 ? "0"
          : r->max_qos == 1 ? "1"
                            : "2");
  if (r->using && !strcmp(r->using, "5.0")) {
    fprintf(f, "#   %-26s %s", "CONNACK Maximum QoS",
            r->has_max_qos_declared ? "" : "absent (2)\n");
    if (r->has_max_qos_declared) fprintf(f, "%u\n", r->max_qos_declared);
    fprintf(f, "#   %-26s %u\n", "receive maximum", r->receive_maximum);
    fprintf(f, "#   %-26s %u\n", "topic alias maximum", r->topic_alias_maximum);
    if (r->has_max_packet_size)
      fprintf(f, "#   %-26s %u bytes\n", "maximum packet size", r->max_packet_size);
    else
      fprintf(f, "#   %-26s no limit announced\n", "maximum packet size");
    if (r->has_session_expiry)
      fprintf(f, "#   %-26s %u s granted for \"never\" (0xFFFFFFFF)\n", "session expiry",
              r->session_expiry);
    else
      fprintf(f, "#   %-26s as requested (\"never\" accepted)\n", "session expiry");
    if (r->has_server_keep_alive)
      fprintf(f, "#   %-26s %u s (asked 60 s)\n", "server keep alive", r->server_keep_alive);
    else
      fprintf(f, "#   %-26s none (the client's 60 s stands)\n", "server keep alive");
  }
  for (size_t i = 0; i < r->n_transports; i++) {
    fprintf(f, "#   transport %-16s %-8s ", r->transports[i].url,
            r->transports[i].answers ? "answers" : "no");
    comment_text(f, r->transports[i].note);
    fputc('\n', f);
  }
  if (r->n_nodes > 1) write_cluster(r, f);
  if (r->n_findings) fprintf(f, "# Findings (declared against done):\n");
  for (size_t i = 0; i < r->n_findings; i++) {
    fprintf(f, "#   finding %s: ", r->findings[i].statement);
    comment_text(f, r->findings[i].text);
    fputc('\n', f);
  }
  bool undecided = false;
  for (size_t i = 0; i < N_CAP_ITEMS; i++)
    undecided |= r->a[cap_items[i].item].state == MQP_UNKNOWN;
  if (undecided)
    fprintf(f, "# Undecided capabilities are left out below: a run assumes them present.\n");
  char name[400];
  snprintf(name, sizeof name, "probe of %s", r->target);
  fprintf(f, "name: ");
  quoted(f, name);
  fprintf(f, "\ntarget: ");
  if (r->n_nodes > 1) {
    fputc('[', f);
    for (size_t k = 0; k < r->n_nodes; k++) {
      char one[400];
      snprintf(one, sizeof one, "%s=%s", r->node_names[k], r->node_urls[k]);
      if (k) fprintf(f, ", ");
      quoted(f, one);
    }
    fputc(']', f);
  } else {
    quoted(f, r->target);
  }
  unsigned v = versions_of(r);
  if (v) {
    const char *sep = "";
    fprintf(f, "\nversions: [");
    for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb))
      if (v & vb) {
        fprintf(f, "%s%s", sep, mqs_version_label(vb));
        sep = ", ";
      }
    fprintf(f, "]");
  }
  fprintf(f, "\ncapabilities:\n");
  bool any = false;
  for (size_t i = 0; i < N_CAP_ITEMS; i++) {
    mqp_tri s = r->a[cap_items[i].item].state;
    if (s == MQP_UNKNOWN) continue;
    fprintf(f, "  %s: %s\n", mqs_cap_name(cap_items[i].cap), s == MQP_YES ? "true" : "false");
    any = true;
  }
  mqp_tri se = session_expiry(r);
  if (se != MQP_UNKNOWN) {
    fprintf(f, "  %s: %s\n", mqs_cap_name(MQS_CAP_SESSION_EXPIRY),
            se == MQP_YES ? "true" : "false");
    any = true;
  }
  if (!any) fprintf(f, "  {}\n");
  if (r->n_nodes > 1) {
    fprintf(f, "cluster:\n  propagation_ms: %u\n", propagation_bound(r));
    /* an undecided promise is left out: a run assumes it */
    if (r->cluster[MQP_CL_TAKEOVER].state != MQP_UNKNOWN)
      fprintf(f, "  takeover: %s\n",
              r->cluster[MQP_CL_TAKEOVER].state == MQP_YES ? "true" : "false");
    if (r->cluster[MQP_CL_RESUME].state != MQP_UNKNOWN)
      fprintf(f, "  session_resume: %s\n",
              r->cluster[MQP_CL_RESUME].state == MQP_YES ? "true" : "false");
  }
  return ferror(f) ? -1 : 0;
}

size_t mqp_summary(const mqp_result *r, char *out, size_t cap) {
  static const mqp_item shown[] = {MQP_RETAIN,      MQP_WILDCARDS,   MQP_SHARED,   MQP_SUB_IDS,
                                   MQP_TOPIC_ALIAS, MQP_ASSIGNED_ID, MQP_SESSIONS, MQP_SYS};
  char buf[1024];
  size_t n = 0;
#define ADD(...)                                                                                   \
  do {                                                                                             \
    if (n < sizeof buf) n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__);               \
  } while (0)
  ADD("MQTT");
  for (int i = MQP_V31; i <= MQP_V5; i++)
    if (r->a[i].state == MQP_YES)
      ADD(" %s", i == MQP_V31 ? "3.1" : i == MQP_V311 ? "3.1.1" : "5.0");
  if (!versions_of(r)) ADD(" (none)");
  ADD("; auth %s", mqp_tri_name(r->a[MQP_AUTH].state));
  if (r->max_qos >= 0)
    ADD("; QoS <= %d", r->max_qos);
  else
    ADD("; QoS unknown");
  for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
    ADD("; %s %s", mqp_item_name(shown[i]), mqp_tri_name(r->a[shown[i]].state));
  size_t up = 0;
  for (size_t i = 0; i < r->n_transports; i++)
    up += r->transports[i].answers;
  ADD("; %zu/%zu transports answer", up, r->n_transports);
  if (r->n_findings) ADD("; %zu finding(s)", r->n_findings);
  if (r->n_nodes > 1) {
    ADD("; cluster of %zu:", r->n_nodes);
    static const char *const brief[MQP_CL_COUNT] = {"delivery", "retained", "takeover", "shared",
                                                    "session"};
    for (int i = 0; i < MQP_CL_COUNT; i++)
      ADD(" %s %s", brief[i], mqp_tri_name(r->cluster[i].state));
    if (r->propagation_ms >= 0) ADD(", propagation %.0f ms", r->propagation_ms);
  }
#undef ADD
  return (size_t)snprintf(out, cap, "%s", buf);
}

int mqp_to_profile(const mqp_result *r, mqs_profile *p) {
  memset(p, 0, sizeof *p);
  char name[400];
  snprintf(name, sizeof name, "probe of %s", r->target);
  if (!(p->name = strdup(name))) return -1;
  p->versions = versions_of(r);
  for (size_t i = 0; i < N_CAP_ITEMS; i++) {
    mqp_tri s = r->a[cap_items[i].item].state;
    if (s == MQP_YES) p->caps_on |= 1u << cap_items[i].cap;
    if (s == MQP_NO) p->caps_off |= 1u << cap_items[i].cap;
  }
  mqp_tri se = session_expiry(r);
  if (se == MQP_YES) p->caps_on |= 1u << MQS_CAP_SESSION_EXPIRY;
  if (se == MQP_NO) p->caps_off |= 1u << MQS_CAP_SESSION_EXPIRY;
  if (r->n_nodes > 1) {
    p->has_cluster = true;
    p->propagation_ms = propagation_bound(r);
    if (r->cluster[MQP_CL_TAKEOVER].state == MQP_NO) p->cluster_off |= MQS_CLUSTER_TAKEOVER;
    if (r->cluster[MQP_CL_RESUME].state == MQP_NO) p->cluster_off |= MQS_CLUSTER_SESSION_RESUME;
  }
  return 0;
}

const char *mqp_version_skip_reason(const mqp_result *r, unsigned vbit) {
  mqp_item it = vbit == MQS_V311 ? MQP_V311 : vbit == MQS_V31 ? MQP_V31 : MQP_V5;
  return r->a[it].state == MQP_NO ? r->a[it].note : NULL;
}
