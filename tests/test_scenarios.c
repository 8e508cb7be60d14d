/* test_scenarios.c - scenario loader, variables, matcher, runner (engine
 * target) and the reports/baseline library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mqe.h"
#include "mqr.h"
#include "mqs.h"

static void test_vars(void **state) {
  (void)state;
  mqs_vars v;
  mqs_vars_init(&v);
  assert_int_equal(mqs_vars_set(&v, "topic_prefix", "a/b/", 4), 0);
  char out[64], bad[64];
  assert_int_equal(mqs_vars_expand(&v, "${topic_prefix}x $$y", 20, out, sizeof out, bad), 8);
  assert_string_equal(out, "a/b/x $y");
  assert_int_equal(mqs_vars_expand(&v, "${nope}", 7, out, sizeof out, bad), -1);
  assert_string_equal(bad, "nope");
  char name[64];
  assert_true(mqs_vars_is_ref("${pid}", 6, name));
  assert_string_equal(name, "pid");
  assert_false(mqs_vars_is_ref("x${pid}", 7, name));
  /* too small an output is an error, never an overflow */
  assert_int_equal(mqs_vars_expand(&v, "${topic_prefix}", 15, out, 3, bad), -1);
}

static const char *good =
    "format: 1\n"
    "name: t/qos1\n"
    "versions: [3.1.1, 5.0]\n"
    "rules: [MQTT-4.3.2-1]\n"
    "clients: [sub, pub]\n"
    "steps:\n"
    "  - {client: sub, connect: {}}\n"
    "  - client: sub\n"
    "    send: {type: SUBSCRIBE, packet_id: 1, subscriptions: [{topic_filter: "
    "\"${topic_prefix}t\", qos: 1}]}\n"
    "  - {client: sub, expect: {type: SUBACK, packet_id: 1, reason_codes: [1]}}\n"
    "  - {client: pub, connect: {}}\n"
    "  - {client: pub, send: {type: PUBLISH, qos: 1, packet_id: 3, topic: \"${topic_prefix}t\", "
    "payload: hi}}\n"
    "  - expect_all:\n"
    "      - pub: {type: PUBACK, packet_id: 3}\n"
    "      - sub: {type: PUBLISH, qos: 1, payload: hi, packet_id: \"${p}\"}\n"
    "  - {client: sub, send: {type: PUBACK, packet_id: \"${p}\"}}\n"
    "  - {client: sub, expect_none: 80s}\n"
    "  - {client: sub, control: true}\n";

/* Runs text; the result's statement IDs borrow from the scenario, kept in
 * *keep when keep is not NULL (free it after the result). */
static void run_faults(const char *text, unsigned version, unsigned fault, mqs_result *res,
                       mqs_scenario **keep);
static void run_keep(const char *text, unsigned version, mqs_result *res, mqs_scenario **keep) {
  run_faults(text, version, 0, res, keep);
}

/* run_keep on an engine with a planted deviation (an mqe_fault, 0 = none). */
static void run_faults(const char *text, unsigned version, unsigned fault, mqs_result *res,
                       mqs_scenario **keep) {
  mqs_scenario *s;
  mqs_load_error e;
  int rc = mqs_scenario_load_text("mem.yaml", text, strlen(text), &s, &e);
  if (rc) fprintf(stderr, "%zu:%zu: %s\n", e.line, e.column, e.message);
  assert_int_equal(rc, 0);
  mqs_target_spec *spec;
  char err[200];
  assert_int_equal(mqs_target_spec_new("engine", NULL, &spec, err, sizeof err), 0);
  mqs_run_opts o = {
      .target = spec, .caps = mqs_target_spec_default_caps(spec), .jobs = 1, .engine_fault = fault};
  mqs_case c = {s, version};
  mqs_run_case(&c, 0, &o, res);
  mqs_target_spec_free(spec);
  if (keep)
    *keep = s;
  else
    mqs_scenario_free(s);
}

static void run_text(const char *text, unsigned version, mqs_result *res) {
  run_keep(text, version, res, NULL);
}

static void test_run_pass(void **state) {
  (void)state;
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1) {
    mqs_result r;
    run_text(good, vb, &r);
    if (r.verdict != MQS_PASS) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
    assert_int_equal(r.verdict, MQS_PASS);
    assert_true(r.target_ms >= 80000); /* the 80 s wait ran on the virtual clock */
    assert_true(r.wall_ms < 5000);
    mqs_result_free(&r);
  }
}

static void test_run_fail_detail(void **state) {
  (void)state;
  char *bad = strdup(good);
  char *p = strstr(bad, "payload: hi, packet_id");
  assert_non_null(p);
  memcpy(p, "payload: ho", 11);
  mqs_result r;
  run_text(bad, MQS_V5, &r);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(r.step_line, 13);
  assert_non_null(strstr(r.detail, "MQTT-4.3.2-1"));
  assert_non_null(strstr(r.detail, "payload"));
  assert_non_null(strstr(r.detail, "-> PUBLISH"));
  assert_non_null(strstr(r.detail, "<- PUBLISH"));
  mqs_result_free(&r);
  free(bad);
}

/* An expected {hex: ...} payload longer than a variable's value (a network
 * fuzzer finding's 64 KiB PUBLISH) compares in full: equal passes, one byte
 * off fails. */
static void test_expect_long_hex(void **state) {
  (void)state;
  const size_t n = 65536;
  char *hex = malloc(2 * n + 1);
  assert_non_null(hex);
  for (size_t i = 0; i < n; i++)
    memcpy(hex + 2 * i, "58", 2);
  hex[2 * n] = '\0';
  size_t cap = 4 * n + 2048;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int off = 0; off < 2; off++) {
    int k = snprintf(text, cap,
                     "format: 1\nname: t/long-hex\nversions: [5.0]\nrules: {5.0: [MQTT-3.3.4-1]}\n"
                     "clients: [s, p]\nsteps:\n"
                     "  - {client: s, connect: {}}\n"
                     "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                     "[{topic_filter: t, qos: 0}]}}\n"
                     "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
                     "  - {client: p, connect: {}}\n"
                     "  - {client: p, send: {type: PUBLISH, topic: t, payload: {hex: \"%s\"}}}\n",
                     hex);
    hex[2 * n - 1] = off ? '9' : '8'; /* the expected last byte: 0x58 or 0x59 */
    snprintf(text + k, cap - (size_t)k,
             "  - {client: s, expect: {type: PUBLISH, topic: t, payload: {hex: \"%s\"}}}\n", hex);
    hex[2 * n - 1] = '8';
    mqs_result r;
    run_text(text, MQS_V5, &r);
    if (r.verdict != (off ? MQS_FAIL : MQS_PASS)) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
    assert_int_equal(r.verdict, off ? MQS_FAIL : MQS_PASS);
    mqs_result_free(&r);
  }
  free(text);
  free(hex);
}

/* repeat: expands its steps count times with the counter bound; each
 * iteration captures afresh; malformed repeats are refused at their line. */
static void test_repeat(void **state) {
  (void)state;
  const char *ok = "format: 1\nname: r\nversions: [3.1.1, 5.0, 3.1]\nrules: [MQTT-3.12.4-1]\n"
                   "steps:\n  - connect: {}\n"
                   "  - repeat: {count: 3, as: i}\n    steps:\n"
                   "      - send: {type: PUBLISH, qos: 1, packet_id: \"${i}\", topic: t, payload: "
                   "\"m${i}\"}\n"
                   "      - expect: {type: PUBACK, packet_id: \"${p}\"}\n"
                   "  - send: {type: PINGREQ}\n  - expect: {type: PINGRESP}\n";
  mqs_scenario *s;
  mqs_load_error e;
  assert_int_equal(mqs_scenario_load_text("r.yaml", ok, strlen(ok), &s, &e), 0);
  assert_int_equal(s->n_steps, 1 + 3 * 2 + 2);
  assert_true(s->steps[1].loop_first && s->steps[1].loop_val == 1);
  assert_true(!s->steps[2].loop_first && s->steps[6].loop_val == 3);
  mqs_scenario_free(s);
  /* ${p} is rebound in each iteration: ids 1, 2, 3 all match */
  for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
    mqs_result r;
    run_text(ok, vb, &r);
    assert_int_equal(r.verdict, MQS_PASS);
    mqs_result_free(&r);
  }
  /* the counter drives the packets: a wrong expectation in iteration 2 fails */
  const char *bad =
      "format: 1\nname: r\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\n"
      "steps:\n  - connect: {}\n"
      "  - repeat: {count: 3, as: i}\n    steps:\n"
      "      - send: {type: PUBLISH, qos: 1, packet_id: \"${i}\", topic: t, payload: x}\n"
      "      - expect: {type: PUBACK, packet_id: 1}\n"
      "  - send: {type: PINGREQ}\n  - expect: {type: PINGRESP}\n";
  mqs_result r;
  run_text(bad, MQS_V5, &r);
  assert_int_equal(r.verdict, MQS_FAIL);
  mqs_result_free(&r);
  static const char *const refused[] = {
      "format: 1\nname: r\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\nsteps:\n"
      "  - repeat: {count: 0, as: i}\n    steps: [{wait: 1}]\n",
      "format: 1\nname: r\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\nsteps:\n"
      "  - repeat: {count: 2, as: i}\n    steps:\n      - repeat: {count: 2}\n        steps: "
      "[{wait: 1}]\n",
      "format: 1\nname: r\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\nsteps:\n"
      "  - repeat: {count: 2, as: i}\n    client: c\n    steps: [{wait: 1}]\n",
      "format: 1\nname: r\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\nsteps:\n"
      "  - repeat: {count: 1001}\n    steps: [{wait: 1}]\n",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    s = (mqs_scenario *)1;
    if (mqs_scenario_load_text("r.yaml", refused[i], strlen(refused[i]), &s, &e) == 0)
      fail_msg("accepted bad repeat #%zu", i);
    assert_null(s);
  }
}

static void test_load_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    size_t line, column;
    const char *msg;
  } cases[] = {
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\nsteps:\n  - {sned: {}}\n", 6, 6,
       "unknown step key"},
      {"format: 2\nname: x\n", 1, 9, "unsupported format"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [bogus]\nsteps: [{wait: 1}]\n", 4, 9,
       "not a statement ID"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\nrequires: [teleport]\nsteps: "
       "[{wait: 1}]\n",
       5, 12, "unknown capability"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\nsteps:\n  - send: {type: "
       "PUBLISH, qos: 7}\n",
       6, 32, "over the maximum"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\nsteps:\n  - expect: {type: "
       "SUBACK, topic: a}\n",
       6, 28, "no field 'topic'"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\nsteps:\n  - send: {type: "
       "PUBLISH, topic: \"${unset}\"}\n",
       6, 34, "unbound variable"},
      {"format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.12.4-1, MQTT-3.1.0-2]\nsteps:\n"
       "  - {connect: {}, presumes: [MQTT-3.12.4-1]}\n"
       "  - {control: true, rules: [MQTT-3.12.4-1, MQTT-3.1.0-2]}\n",
       6, 5, "no earlier step checks"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mqs_scenario *s = (mqs_scenario *)1;
    mqs_load_error e;
    assert_int_equal(mqs_scenario_load_text("f.yaml", cases[i].text, strlen(cases[i].text), &s, &e),
                     -1);
    assert_null(s);
    if (!strstr(e.message, cases[i].msg) || e.line != cases[i].line)
      fprintf(stderr, "case %zu: %zu:%zu %s\n", i, e.line, e.column, e.message);
    assert_non_null(strstr(e.message, cases[i].msg));
    assert_int_equal(e.line, cases[i].line);
    if (e.column != cases[i].column) fprintf(stderr, "case %zu col %zu\n", i, e.column);
    assert_int_equal(e.column, cases[i].column);
    assert_string_equal(e.file, "f.yaml");
  }
}

static void test_skip_missing_capability(void **state) {
  (void)state;
  const char *t = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-1.5.4-1]\n"
                  "requires: [websocket]\nsteps: [{connect: {}}, {control: true}]\n";
  mqs_result r;
  run_text(t, MQS_V5, &r);
  assert_int_equal(r.verdict, MQS_SKIP);
  assert_non_null(strstr(r.message, "websocket"));
  mqs_result_free(&r);
}

static int load_only(const char *text, char *msg, size_t cap) {
  mqs_scenario *s;
  mqs_load_error e;
  int rc = mqs_scenario_load_text("mem.yaml", text, strlen(text), &s, &e);
  snprintf(msg, cap, "%s", rc ? e.message : "");
  if (!rc) mqs_scenario_free(s);
  return rc;
}

/* A server: block and the capabilities that let brokers skip it go together. */
static void test_server_block(void **state) {
  (void)state;
  char msg[300];
  const char *head = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.2.2-15]\n";
  char t[1024];
  snprintf(t, sizeof t,
           "%sserver: {maximum_packet_size: 64}\nsteps: [{connect: {}}, {control: true}]\n", head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  assert_non_null(strstr(msg, "max-packet-size"));
  snprintf(t, sizeof t, "%srequires: [receive-maximum]\nsteps: [{connect: {}}, {control: true}]\n",
           head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  snprintf(t, sizeof t, "%sserver: {bogus: 1}\nsteps: [{connect: {}}, {control: true}]\n", head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  snprintf(t, sizeof t,
           "%sserver: {outbound_aliases: 3}\nsteps: [{connect: {}}, {control: true}]\n", head);
  assert_int_equal(load_only(t, msg, sizeof msg), 0); /* engine-only switch */
  /* applied on the engine: the announced limit, and a bigger packet is refused */
  snprintf(t, sizeof t,
           "%srequires: [max-packet-size]\nserver: {maximum_packet_size: 64}\nsteps:\n"
           "  - connect: {}\n    connack: {properties: [{maximum_packet_size: 64}]}\n"
           "  - send: {type: PUBLISH, topic: t, payload: "
           "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}\n"
           "  - expect_disconnect: {reason_code: 0x95}\n"
           "  - control: true\n",
           head);
  mqs_result r;
  run_text(t, MQS_V5, &r);
  if (r.verdict != MQS_PASS) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
  assert_int_equal(r.verdict, MQS_PASS);
  mqs_result_free(&r);
}

/* expect with a client list, ignore_others, if:, and the set/order matchers. */
static void test_expect_extensions(void **state) {
  (void)state;
  const char *t =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.3.4-4]\nclients: [a, b, p]\nsteps:\n"
      "  - {client: a, connect: {}}\n  - {client: b, connect: {}}\n  - {client: p, connect: {}}\n"
      "  - {client: b, send: {type: SUBSCRIBE, packet_id: 1, properties: "
      "[{subscription_identifier: 9}],"
      " subscriptions: [{topic_filter: t, qos: 0}]}}\n"
      "  - {client: [a, b], expect: {type: SUBACK, packet_id: 1}}\n"
      "  - {client: p, send: {type: PUBLISH, topic: t, payload: one}}\n"
      "  - {client: p, send: {type: PUBLISH, topic: t, payload: two, properties: [{user_property: "
      "[k, '1']},"
      " {user_property: [a, '2']}]}}\n"
      "  - {client: b, expect: {type: PUBLISH, payload: two, user_properties: [[k, '1'], [a, '2']],"
      " subscription_identifiers: '${ids}'}, ignore_others: true}\n"
      /* if: each branch fails the case when the condition is not honoured */
      "  - {client: b, send: {type: PINGREQ}, if: {ids: '9'}}\n"
      "  - {client: b, expect: {type: PUBLISH, payload: never}, if: {ids: '1,2'}}\n"
      "  - {client: b, expect: {type: PINGRESP}}\n";
  mqs_result r;
  run_text(t, MQS_V5, &r);
  if (r.verdict != MQS_PASS) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
  assert_int_equal(r.verdict, MQS_PASS);
  mqs_result_free(&r);
  /* the wrong order of user properties fails */
  const char *u =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.3.2-18]\nsteps:\n  - connect: {}\n"
      "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: [{topic_filter: t, qos: 0}]}\n"
      "  - expect: {type: SUBACK}\n"
      "  - send: {type: PUBLISH, topic: t, payload: x, properties: [{user_property: [k, '1']},"
      " {user_property: [a, '2']}]}\n"
      "  - expect: {type: PUBLISH, user_properties: [[a, '2'], [k, '1']]}\n";
  run_text(u, MQS_V5, &r);
  assert_int_equal(r.verdict, MQS_FAIL);
  mqs_result_free(&r);
}

static void test_baseline(void **state) {
  (void)state;
  char path[] = "/tmp/mqcheck-baseline-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "# comment\nfail a@5.0  # MQTT-1-1: known\n\nerror b@3.1.1 # flaky link\n");
  fclose(f);
  mqr_baseline b;
  char err[200];
  assert_int_equal(mqr_baseline_load(path, &b, err, sizeof err), 0);
  assert_int_equal(b.n, 2);
  assert_string_equal(b.e[0].reason, "MQTT-1-1: known");
  mqr_case cs[] = {
      {.id = "a@5.0", .name = "a", .version = "5.0", .verdict = MQR_FAIL},
      {.id = "b@3.1.1", .name = "b", .version = "3.1.1", .verdict = MQR_PASS},
      {.id = "c@5.0", .name = "c", .version = "5.0", .verdict = MQR_FAIL},
  };
  mqr_run run = {.target = "engine", .cases = cs, .n = 3};
  mqr_gate g;
  mqr_baseline_compare(&b, &run, NULL, NULL, &g);
  assert_int_equal(g.regressions, 1);
  assert_int_equal(g.known, 1);
  assert_int_equal(g.fixed, 1);
  mqr_baseline_free(&b);
  remove(path);
}

/* JSON baselines record step and statements: a known failure that fails
 * another way is CHANGED, an entry that no longer runs is NOT RUN, and a
 * regression that passes on a rerun is FLAKY, never a regression. */
static void test_baseline_json(void **state) {
  (void)state;
  mqr_stmt fail_a[] = {{"MQTT-3.3.2-8", "fail", 11}, {"MQTT-4.13.1-1", "pass", 0}};
  mqr_stmt fail_b[] = {{"MQTT-3.3.2-8", "pass", 0}, {"MQTT-4.13.1-1", "fail", 11}};
  mqr_case cs[] = {
      {.id = "a@5.0",
       .version = "5.0",
       .verdict = MQR_FAIL,
       .step_line = 11,
       .stmts = fail_a,
       .n_stmts = 2,
       .message = "wrong reason code"},
      {.id = "gone@5.0", .version = "5.0", .verdict = MQR_FAIL, .step_line = 3},
  };
  mqr_run run = {.target = "tcp://x", .cases = cs, .n = 2};
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(mqr_baseline_write(&run, NULL, "test", f), 0);
  fclose(f);
  assert_non_null(strstr(buf, "\"case\": \"a@5.0\", \"verdict\": \"fail\", \"step_line\": 11"));
  assert_non_null(strstr(buf, "\"statements\": [\"MQTT-3.3.2-8\"]"));
  char path[] = "/tmp/mqcheck-baseline-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  f = fdopen(fd, "w");
  fputs(buf, f);
  fclose(f);
  free(buf);
  mqr_baseline b;
  char err[200];
  assert_int_equal(mqr_baseline_load(path, &b, err, sizeof err), 0);
  assert_int_equal(b.n, 2);
  assert_int_equal(b.e[0].step_line, 11);
  assert_int_equal(b.e[0].n_stmts, 1);
  char why[300];
  assert_int_equal(mqr_baseline_judge(&b, &cs[0], why, sizeof why), MQR_GATE_KNOWN);
  /* the same case failing another statement, or at another step, changed */
  mqr_case other = cs[0];
  other.stmts = fail_b;
  assert_int_equal(mqr_baseline_judge(&b, &other, why, sizeof why), MQR_GATE_CHANGED);
  assert_non_null(strstr(why, "MQTT-4.13.1-1"));
  other = cs[0];
  other.step_line = 14;
  assert_int_equal(mqr_baseline_judge(&b, &other, why, sizeof why), MQR_GATE_CHANGED);
  other = cs[0];
  other.verdict = MQR_ERROR;
  assert_int_equal(mqr_baseline_judge(&b, &other, why, sizeof why), MQR_GATE_CHANGED);
  /* a run without "gone", a changed a, and a new failure c that was flaky */
  mqr_case now[] = {other, {.id = "c@5.0", .version = "5.0", .verdict = MQR_FAIL}};
  mqr_run run2 = {.target = "tcp://x", .cases = now, .n = 2};
  const char *flaky[] = {NULL, "fail at line 3, then pass on rerun 1"};
  mqr_gate g;
  mqr_baseline_compare(&b, &run2, flaky, NULL, &g);
  assert_int_equal(g.changed, 1);
  assert_int_equal(g.missing, 1);
  assert_int_equal(g.flaky, 1);
  assert_int_equal(g.regressions, 0);
  mqr_baseline_compare(&b, &run2, NULL, NULL, &g);
  assert_int_equal(g.regressions, 1);
  mqr_baseline_free(&b);
  remove(path);
}

static void test_writers(void **state) {
  (void)state;
  const char *rules[] = {"MQTT-3.1.0-2"};
  mqr_case cs[] = {{.id = "x@5.0",
                    .name = "x",
                    .version = "5.0",
                    .file = "f<1>.yaml",
                    .rules = rules,
                    .n_rules = 1,
                    .verdict = MQR_FAIL,
                    .message = "a \"b\" & c",
                    .detail = "line1\nline2"}};
  mqr_run run = {.tool = "t", .target = "engine", .cases = cs, .n = 1};
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(mqr_write_junit(&run, f), 0);
  assert_int_equal(mqr_write_json(&run, f), 0);
  assert_int_equal(mqr_write_matrix_md(&run, f), 0);
  fclose(f);
  assert_non_null(strstr(buf, "f&lt;1&gt;.yaml"));
  assert_non_null(strstr(buf, "\"a \\\"b\\\" & c\""));
  assert_non_null(strstr(buf, "| MQTT-3.1.0-2 |  | **FAIL** (1 of 1) |"));
  free(buf);
  /* per-statement verdicts: the same truth in every report */
  const char *rules2[] = {"MQTT-3.1.0-2", "MQTT-4.4.0-1"};
  mqr_stmt st[] = {
      {"MQTT-3.1.0-2", "pass", 0}, {"MQTT-4.4.0-1", "not-reached", 0}, {"MQTT-3.2.2-3", "fail", 9}};
  cs[0].rules = rules2;
  cs[0].n_rules = 2;
  cs[0].stmts = st;
  cs[0].n_stmts = 3;
  f = open_memstream(&buf, &len);
  assert_int_equal(mqr_write_junit(&run, f), 0);
  assert_int_equal(mqr_write_json(&run, f), 0);
  assert_int_equal(mqr_write_matrix_md(&run, f), 0);
  fclose(f);
  assert_non_null(strstr(buf, "<property name=\"verdict:MQTT-3.2.2-3\" value=\"fail\"/>"));
  assert_non_null(strstr(buf, "message=\"MQTT-3.2.2-3 fails; "));
  assert_non_null(strstr(buf, "{\"id\": \"MQTT-3.2.2-3\", \"verdict\": \"fail\", \"line\": 9}"));
  assert_non_null(strstr(buf, "| MQTT-3.1.0-2 |  | pass (1) |"));
  assert_non_null(strstr(buf, "| MQTT-4.4.0-1 |  | not-reached (1) |"));
  assert_non_null(strstr(buf, "| MQTT-3.2.2-3 |  | **FAIL** (1 of 1) |"));
  assert_non_null(strstr(buf, "| `x@5.0` | fail | MQTT-3.2.2-3 |"));
  free(buf);
}

static mqs_stmt_verdict stmt_of(const mqs_result *r, const char *id) {
  for (size_t i = 0; i < r->n_stmts; i++)
    if (!strcmp(r->stmts[i].id, id)) return r->stmts[i].verdict;
  fail_msg("no verdict for %s", id);
  return MQS_ST_SKIP;
}

static bool has_stmt(const mqs_result *r, const char *id) {
  for (size_t i = 0; i < r->n_stmts; i++)
    if (!strcmp(r->stmts[i].id, id)) return true;
  return false;
}

/* A failing check fails only its statement; the case goes on after a field
 * mismatch and marks the checks it could not reach "not reached". */
static void test_statement_verdicts(void **state) {
  (void)state;
  const char *head = "format: 1\nname: x\nversions: [3.1.1, 5.0]\n"
                     "rules: [MQTT-4.3.2-1, MQTT-3.12.4-1]\nclients: [sub, pub]\nsteps:\n"
                     "  - {client: sub, connect: {}}\n"
                     "  - {client: sub, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                     "[{topic_filter: t, qos: 1}]}}\n"
                     "  - {client: sub, expect: {type: SUBACK, packet_id: 1}}\n";
  char t[2048];
  /* a wrong Session Present (a fresh session has 0) blames MQTT-3.2.2-x only */
  snprintf(t, sizeof t,
           "%s  - {client: pub, connect: {}, connack: {session_present: true}}\n"
           "  - {client: pub, send: {type: PUBLISH, qos: 1, packet_id: 3, topic: t, payload: a}}\n"
           "  - {client: sub, expect: {type: PUBLISH, payload: a}, rules: [MQTT-4.3.2-1]}\n"
           "  - {client: pub, expect: {type: PUBACK, packet_id: 3}, rules: [MQTT-4.3.2-1]}\n"
           "  - {client: pub, control: true, rules: [MQTT-3.12.4-1]}\n",
           head);
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1) {
    mqs_result r;
    mqs_scenario *sc;
    run_keep(t, vb, &r, &sc);
    assert_int_equal(r.verdict, MQS_FAIL);
    assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_PASS);
    assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_PASS);
    /* 3.1.1: clean session 1 -> MQTT-3.2.2-1; 5.0: clean start 1 -> MQTT-3.2.2-2 */
    assert_int_equal(stmt_of(&r, vb == MQS_V311 ? "MQTT-3.2.2-1" : "MQTT-3.2.2-2"), MQS_ST_FAIL);
    assert_non_null(strstr(r.message, "Session Present"));
    mqs_result_free(&r);
    mqs_scenario_free(sc);
  }
  /* a field mismatch fails its statement, the case goes on */
  snprintf(t, sizeof t,
           "%s  - {client: pub, connect: {}}\n"
           "  - {client: pub, send: {type: PUBLISH, topic: t, payload: a}}\n"
           "  - {client: sub, expect: {type: PUBLISH, payload: b}, rules: [MQTT-4.3.2-1]}\n"
           "  - {client: pub, control: true, rules: [MQTT-3.12.4-1]}\n",
           head);
  mqs_result r;
  mqs_scenario *sc;
  run_keep(t, MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* nothing arrives: the case cannot go on, later statements are not reached */
  snprintf(t, sizeof t,
           "%s  - {client: pub, connect: {}}\n"
           "  - {client: sub, expect: {type: PUBLISH, payload: b}, rules: [MQTT-4.3.2-1]}\n"
           "  - {client: pub, control: true, rules: [MQTT-3.12.4-1]}\n",
           head);
  run_keep(t, MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* an if: that keeps every check off leaves the statements unchecked: no pass */
  snprintf(t, sizeof t,
           "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-4.3.2-1]\nclients: [sub]\n"
           "steps:\n  - {client: sub, connect: {}}\n"
           "  - {client: sub, expect: {type: PUBLISH}, rules: [MQTT-4.3.2-1], if: {x: y}}\n"
           "  - {client: sub, control: true}\n");
  run_keep(t, MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_NOT_CHECKED);
  assert_non_null(strstr(r.message, "not checked"));
  mqs_result_free(&r);
  mqs_scenario_free(sc);
}

/* No pass without something that had to arrive after the last absence or
 * close check. */
static void test_positive_control(void **state) {
  (void)state;
  const char *base = "format: 1\nname: x\nversions: [3.1.1, 5.0]\nrules: [MQTT-3.1.0-2]\n"
                     "steps:\n  - connect: {}\n  - send: {type: CONNECT, client_id: again}\n"
                     "  - expect_disconnect: true\n";
  mqs_result r;
  mqs_scenario *sc;
  run_keep(base, MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_non_null(strstr(r.message, "no positive control"));
  assert_int_equal(stmt_of(&r, "MQTT-3.1.0-2"), MQS_ST_NOT_CHECKED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  char t[1024];
  snprintf(t, sizeof t, "%s  - control: true\n", base);
  run_keep(t, MQS_V5, &r, &sc);
  if (r.verdict != MQS_PASS) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
  assert_int_equal(r.verdict, MQS_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.0-2"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a CONNACK alone is no control: a server that goes silent sends one */
  run_text("format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.0-1]\nsteps: [{connect: {}}]\n",
           MQS_V5, &r);
  assert_int_equal(r.verdict, MQS_FAIL);
  mqs_result_free(&r);
}

/* Step rules: a subset of the scenario's, and every cited statement has a check. */
static void test_step_rules_load(void **state) {
  (void)state;
  char msg[300];
  const char *head = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.0-1, MQTT-3.1.0-2]\n";
  char t[1024];
  snprintf(t, sizeof t,
           "%ssteps:\n  - {connect: {}, rules: [MQTT-3.1.0-1]}\n  - send: {type: PINGREQ}\n"
           "  - {expect: {type: PINGRESP}, rules: [MQTT-3.1.0-2]}\n",
           head);
  assert_int_equal(load_only(t, msg, sizeof msg), 0);
  /* with several statements, a check without rules verifies none of them:
   * it would blame whatever was left on a setup step */
  snprintf(t, sizeof t,
           "%ssteps:\n  - {connect: {}, rules: [MQTT-3.1.0-1]}\n  - send: {type: PINGREQ}\n"
           "  - expect: {type: PINGRESP}\n",
           head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  assert_non_null(strstr(msg, "MQTT-3.1.0-2 (MQTT 5.0) is named by no check"));
  snprintf(t, sizeof t,
           "%ssteps:\n  - {connect: {}, rules: [MQTT-3.1.0-1]}\n"
           "  - {control: true, rules: [MQTT-3.1.0-1]}\n",
           head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  assert_non_null(strstr(msg, "MQTT-3.1.0-2 (MQTT 5.0) is named by no check"));
  /* one statement: any check verifies it */
  assert_int_equal(load_only("format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.0-1]\n"
                             "steps:\n  - connect: {}\n  - control: true\n",
                             msg, sizeof msg),
                   0);
  /* per version: a 3.1.1-only rule leaves 5.0's single statement to any check */
  assert_int_equal(
      load_only("format: 1\nname: x\nversions: [3.1.1, 5.0]\n"
                "rules: {3.1.1: [MQTT-3.1.0-1, MQTT-3.2.0-1], 5.0: [MQTT-3.1.0-1]}\nsteps:\n"
                "  - {connect: {}, rules: {3.1.1: [MQTT-3.1.0-1, MQTT-3.2.0-1]}}\n"
                "  - control: true\n",
                msg, sizeof msg),
      0);
  assert_int_equal(
      load_only("format: 1\nname: x\nversions: [3.1.1, 5.0]\n"
                "rules: {3.1.1: [MQTT-3.1.0-1, MQTT-3.2.0-1], 5.0: [MQTT-3.1.0-1]}\nsteps:\n"
                "  - {connect: {}, rules: {3.1.1: [MQTT-3.1.0-1]}}\n  - control: true\n",
                msg, sizeof msg),
      -1);
  assert_non_null(strstr(msg, "MQTT-3.2.0-1 (MQTT 3.1.1) is named by no check"));
  snprintf(t, sizeof t, "%ssteps:\n  - {control: true, rules: [MQTT-3.1.0-3]}\n", head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  assert_non_null(strstr(msg, "not among the scenario's rules"));
  snprintf(t, sizeof t, "%ssteps:\n  - {send: {type: PINGREQ}, rules: [MQTT-3.1.0-1]}\n", head);
  assert_int_equal(load_only(t, msg, sizeof msg), -1);
  assert_non_null(strstr(msg, "check steps"));
}

/* Issue 15: named nodes, node: per client, cluster promises and their skips. */
static void test_cluster_nodes(void **state) {
  (void)state;
  mqs_target_spec *spec;
  char err[300];
  const char *two[] = {"a=tcp://127.0.0.1:1", "b=ws://127.0.0.1:2/mqtt?x=1"};
  assert_int_equal(mqs_target_spec_new_nodes(two, 2, NULL, &spec, err, sizeof err), 0);
  assert_int_equal(mqs_target_spec_n_nodes(spec), 2);
  assert_string_equal(mqs_target_spec_node_name(spec, 1), "b");
  assert_string_equal(mqs_target_spec_node_url(spec, 1), "ws://127.0.0.1:2/mqtt?x=1");
  assert_int_equal(mqs_target_spec_node_index(spec, "home"), 0);
  assert_int_equal(mqs_target_spec_node_index(spec, "other"), 1);
  assert_int_equal(mqs_target_spec_node_index(spec, "b"), 1);
  assert_int_equal(mqs_target_spec_node_index(spec, "c"), -1);
  mqs_target_spec_free(spec);
  /* one node: every name is that node, exactly as a plain URL */
  const char *one[] = {"tcp://127.0.0.1:1"};
  assert_int_equal(mqs_target_spec_new_nodes(one, 1, NULL, &spec, err, sizeof err), 0);
  assert_int_equal(mqs_target_spec_node_index(spec, "other"), 0);
  assert_int_equal(mqs_target_spec_node_index(spec, "zz"), 0);
  assert_string_equal(mqs_target_spec_node_name(spec, 0), "node1");
  mqs_target_spec_free(spec);
  const char *dup[] = {"a=tcp://h:1", "a=tcp://h:2"};
  assert_int_equal(mqs_target_spec_new_nodes(dup, 2, NULL, &spec, err, sizeof err), -1);
  assert_non_null(strstr(err, "given twice"));
  const char *eng[] = {"a=tcp://h:1", "b=engine"};
  assert_int_equal(mqs_target_spec_new_nodes(eng, 2, NULL, &spec, err, sizeof err), -1);
  assert_non_null(strstr(err, "engine"));
  const char *badname[] = {"a b=tcp://h:1", "c=tcp://h:2"};
  assert_int_equal(mqs_target_spec_new_nodes(badname, 2, NULL, &spec, err, sizeof err), -1);
  assert_non_null(strstr(err, "node name"));

  static const char sc[] = "format: 1\nname: c\nversions: [5.0]\nrules: {5.0: [MQTT-4.5.0-1]}\n"
                           "requires: [cluster-takeover]\n"
                           "clients: [{name: s, node: home}, {name: p, node: other}]\n"
                           "steps:\n"
                           "  - {client: s, connect: {}}\n"
                           "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                           "[{topic_filter: \"${topic_prefix}#\", qos: 0}]}}\n"
                           "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
                           "  - {client: p, connect: {}, node: home}\n"
                           "  - {client: s, sync: {from: p, topic: \"${topic_prefix}y\"}}\n"
                           "  - {client: p, send: {type: PUBLISH, topic: \"${topic_prefix}t\", "
                           "payload: m}}\n"
                           "  - {client: s, expect: {type: PUBLISH, payload: m}}\n"
                           "  - {client: s, expect_none: 100}\n"
                           "  - control: true\n";
  mqs_scenario *s;
  mqs_load_error e;
  int rc = mqs_scenario_load_text("c.yaml", sc, strlen(sc), &s, &e);
  if (rc) fprintf(stderr, "%zu:%zu: %s\n", e.line, e.column, e.message);
  assert_int_equal(rc, 0);
  assert_int_equal(s->cluster_needs, MQS_CLUSTER | MQS_CLUSTER_TAKEOVER);
  assert_string_equal(s->client_nodes[1], "other");
  assert_string_equal(s->steps[3].on_node, "home");
  assert_true(s->has_sync);
  assert_int_equal(mqs_target_spec_new("engine", NULL, &spec, err, sizeof err), 0);
  mqs_run_opts o = {.target = spec, .caps = mqs_target_spec_default_caps(spec), .jobs = 1};
  mqs_case c = {s, MQS_V5};
  mqs_result r;
  /* no cluster: skipped with the reason */
  mqs_run_case(&c, 0, &o, &r);
  assert_int_equal(r.verdict, MQS_SKIP);
  assert_non_null(strstr(r.message, "needs a cluster target"));
  mqs_result_free(&r);
  /* a cluster without the takeover promise */
  o.cluster = MQS_CLUSTER | MQS_CLUSTER_SESSION_RESUME;
  mqs_run_case(&c, 0, &o, &r);
  assert_int_equal(r.verdict, MQS_SKIP);
  assert_non_null(strstr(r.message, "does not promise cluster-takeover"));
  mqs_result_free(&r);
  /* the engine keeps every promise: the sync sentinel never reaches an
   * expectation, propagation is measured */
  o.cluster = MQS_CLUSTER_ALL;
  mqs_run_case(&c, 0, &o, &r);
  if (r.verdict != MQS_PASS) fprintf(stderr, "%s\n%s\n", r.message, r.detail ? r.detail : "");
  assert_int_equal(r.verdict, MQS_PASS);
  assert_true(r.has_propagation);
  mqs_result_free(&r);
  mqs_target_spec_free(spec);
  mqs_scenario_free(s);

  static const char badnode[] =
      "format: 1\nname: c\nversions: [5.0]\nrules: {5.0: [MQTT-4.5.0-1]}\n"
      "clients: [s]\nsteps:\n  - {client: s, expect_none: 10, node: a}\n";
  assert_int_equal(mqs_scenario_load_text("c.yaml", badnode, strlen(badnode), &s, &e), -1);
  assert_non_null(strstr(e.message, "node belongs to steps that open"));

  char path[] = "/tmp/mqcheck-profile-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("target: [a=tcp://h:1, b=tcp://h:2]\n"
        "cluster: {propagation_ms: 250, takeover: false}\n",
        f);
  fclose(f);
  mqs_profile p;
  assert_int_equal(mqs_profile_load(path, &p, &e), 0);
  assert_int_equal(p.n_targets, 2);
  assert_string_equal(p.targets[1], "b=tcp://h:2");
  assert_int_equal(p.propagation_ms, 250);
  assert_int_equal(p.cluster_off, MQS_CLUSTER_TAKEOVER);
  mqs_profile_free(&p);
  f = fopen(path, "w");
  fputs("cluster: {takeovr: false}\n", f);
  fclose(f);
  assert_int_equal(mqs_profile_load(path, &p, &e), -1);
  assert_non_null(strstr(e.message, "unknown cluster key"));
  unlink(path);
}

/* Issue 18: a field judged as its own statement (the QoS of a delivery) fails
 * that statement only, the step's own statements hold, and what the packet
 * carried is still captured for the steps after it; a wrong reason code
 * before a close fails the statement about it, not MQTT-4.13.1-1. */
static void test_field_and_close_statements(void **state) {
  (void)state;
  const char *qos =
      "format: 1\nname: x\nversions: [3.1.1, 5.0]\n"
      "rules: {3.1.1: [MQTT-3.3.4-1, MQTT-4.3.2-1], 5.0: [MQTT-3.3.4-1, MQTT-4.3.2-1]}\n"
      "clients: [sub, pub]\nsteps:\n"
      "  - {client: sub, connect: {}}\n"
      "  - {client: sub, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: t, qos: 1}]}}\n"
      "  - {client: sub, expect: {type: SUBACK, packet_id: 1}}\n"
      "  - {client: pub, connect: {}}\n"
      "  - {client: pub, send: {type: PUBLISH, qos: 1, packet_id: 3, topic: t, payload: a}}\n"
      "  - {client: pub, expect: {type: PUBACK, packet_id: 3}, rules: [MQTT-3.3.4-1]}\n"
      "  - comment: delivered at QoS 1; the QoS 2 expected here is wrong on purpose\n"
      "    client: sub\n"
      "    expect: {type: PUBLISH, qos: 2, payload: a, packet_id: \"${p}\"}\n"
      "    rules: [MQTT-4.3.2-1]\n"
      "  - {client: sub, send: {type: PUBACK, packet_id: \"${p}\"}}\n"
      "  - {client: sub, expect_none: {fence: ping}, rules: [MQTT-4.3.2-1]}\n";
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1) {
    mqs_result r;
    mqs_scenario *sc;
    run_keep(qos, vb, &r, &sc);
    if (r.verdict != MQS_FAIL) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
    assert_int_equal(r.verdict, MQS_FAIL);
    assert_int_equal(stmt_of(&r, vb == MQS_V311 ? "MQTT-3.8.4-6" : "MQTT-3.8.4-8"), MQS_ST_FAIL);
    assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_PASS);
    assert_int_equal(stmt_of(&r, "MQTT-3.3.4-1"), MQS_ST_PASS);
    mqs_result_free(&r);
    mqs_scenario_free(sc);
  }
  const char *close = "format: 1\nname: x\nversions: [5.0]\n"
                      "rules: [MQTT-3.3.2-8, MQTT-4.13.1-1]\nsteps:\n"
                      "  - connect: {}\n"
                      "  - send: {type: PUBLISH, topic: t, payload: x, properties: "
                      "[{topic_alias: 0}]}\n"
                      "  - {expect_disconnect: {reason_code: RC}, rules: [RULES]}\n"
                      "  - control: true\n";
  struct {
    const char *rc, *rules;
    mqs_verdict verdict;
    mqs_stmt_verdict alias, close_;
  } rows[] = {
      /* the engine sends 0x94: an expected 0x81 differs */
      {"0x94", "MQTT-3.3.2-8, MQTT-4.13.1-1", MQS_PASS, MQS_ST_PASS, MQS_ST_PASS},
      {"0x81", "MQTT-3.3.2-8, MQTT-4.13.1-1", MQS_FAIL, MQS_ST_FAIL, MQS_ST_PASS},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char t[1024], *p;
    snprintf(t, sizeof t, "%s", close);
    char out[1024];
    p = strstr(t, "RC");
    snprintf(out, sizeof out, "%.*s%s%s", (int)(p - t), t, rows[i].rc, p + 2);
    snprintf(t, sizeof t, "%s", out);
    p = strstr(t, "RULES");
    snprintf(out, sizeof out, "%.*s%s%s", (int)(p - t), t, rows[i].rules, p + 5);
    mqs_result r;
    mqs_scenario *sc;
    run_keep(out, MQS_V5, &r, &sc);
    if (r.verdict != rows[i].verdict) fprintf(stderr, "%s\n", r.detail ? r.detail : "");
    assert_int_equal(r.verdict, rows[i].verdict);
    assert_int_equal(stmt_of(&r, "MQTT-3.3.2-8"), rows[i].alias);
    assert_int_equal(stmt_of(&r, "MQTT-4.13.1-1"), rows[i].close_);
    mqs_result_free(&r);
    mqs_scenario_free(sc);
  }
  /* a step whose statements ask only for the close passes on another code */
  mqs_result r;
  mqs_scenario *sc;
  run_keep("format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-4.13.1-1]\nsteps:\n"
           "  - connect: {}\n  - send: {type: PUBLISH, topic: t, payload: x, properties: "
           "[{topic_alias: 0}]}\n  - expect_disconnect: {reason_code: 0x81}\n  - control: true\n",
           MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-4.13.1-1"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a ping fence without its PINGRESP proves no absence: MQTT-3.12.4-1 fails,
   * the step's own statement is not reached */
  run_faults("format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.3.1-11]\nsteps:\n"
             "  - connect: {}\n  - {expect_none: {fence: ping}, client: c}\n",
             MQS_V311, MQE_FAULT_NO_PINGRESP, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.1-11"), MQS_ST_NOT_REACHED);
  assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_FAIL);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a SUBACK that never comes is MQTT-3.8.4-1's, whatever the check names */
  const char *sub = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.3.1-5, MQTT-2.3.1-7]\n"
                    "steps:\n  - connect: {}\n"
                    "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                    "[{topic_filter: t, qos: 0}]}\n"
                    "  - {expect: {type: SUBACK, packet_id: 1}, rules: [MQTT-2.3.1-7]}\n"
                    "  - {send: {type: PUBLISH, retain: true, topic: t, payload: x}}\n"
                    "  - {expect: {type: PUBLISH, payload: x}, rules: [MQTT-3.3.1-5]}\n";
  run_faults(sub, MQS_V311, mqe_fault_lookup("no-suback")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-2.3.1-7"), MQS_ST_NOT_REACHED);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.1-5"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a property forwarded wrong fails its own statement, not the check's */
  const char *props = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.3.2-4, MQTT-3.3.2-20]\n"
                      "steps:\n  - connect: {}\n"
                      "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                      "[{topic_filter: t, qos: 0}]}\n"
                      "  - expect: {type: SUBACK, packet_id: 1}\n"
                      "  - send: {type: PUBLISH, topic: t, payload: x, properties: "
                      "[{payload_format_indicator: 1}, {content_type: a/b}]}\n"
                      "  - expect: {type: PUBLISH, payload: x, properties: "
                      "[{payload_format_indicator: 1}, {content_type: a/b}]}\n"
                      "    rules: [MQTT-3.3.2-4, MQTT-3.3.2-20]\n";
  run_faults(props, MQS_V5, mqe_fault_lookup("drop-content-type")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.2-20"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.2-4"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
}

/* Issue 18, collateral: a planted deviation fails its own statement, not
 * the check's. Each rule below, switched off, blames the check's statement
 * again (the collateral `mqcheck mutants` counts). */
static void test_runner_collateral(void **state) {
  (void)state;
  mqs_result r;
  mqs_scenario *sc;
  /* owed: a will that never comes fails the statement owing it, and the
   * check of its form is not reached */
  const char *will =
      "format: 1\nname: x\nversions: [3.1.1]\n"
      "rules: [MQTT-3.1.2-16, MQTT-3.1.2-8]\nclients: [s, w]\nsteps:\n"
      "  - {client: s, connect: {}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: w, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 1}, rules: [MQTT-3.1.2-16]}\n"
      "  - {client: w, connect: {will: {topic: w, payload: bye}}}\n"
      "  - {client: w, drop: true}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: bye, retain: false}, "
      "rules: [MQTT-3.1.2-16], owed: [MQTT-3.1.2-8]}\n";
  run_faults(will, MQS_V311, mqe_fault_lookup("will-not-published")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-8"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-16"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* DUP 1 on a first send fails the sender's duty of its QoS */
  const char *dup = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.8.4-6, MQTT-4.3.2-1]\n"
                    "clients: [s, p]\nsteps:\n"
                    "  - {client: s, connect: {}}\n"
                    "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                    "[{topic_filter: t, qos: 1}]}}\n"
                    "  - {client: s, expect: {type: SUBACK, packet_id: 1}, rules: [MQTT-3.8.4-6]}\n"
                    "  - {client: p, connect: {}}\n"
                    "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: t, "
                    "payload: x}}\n"
                    "  - {client: p, expect: {type: PUBACK, packet_id: 1}, rules: [MQTT-4.3.2-1]}\n"
                    "  - {client: s, expect: {type: PUBLISH, qos: 1, dup: false, payload: x}, "
                    "rules: [MQTT-3.8.4-6]}\n";
  run_faults(dup, MQS_V311, mqe_fault_lookup("dup-on-qos1")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.2-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-6"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* DUP 1 on QoS 0 fails MQTT-3.3.1-2 (as the codec names it) and its
   * restatement MQTT-4.3.1-1 */
  const char *dup0 = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.8.4-6]\n"
                     "steps:\n  - connect: {}\n"
                     "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                     "[{topic_filter: t, qos: 0}]}\n"
                     "  - expect: {type: SUBACK, packet_id: 1}\n"
                     "  - send: {type: PUBLISH, topic: t, payload: x}\n"
                     "  - {expect: {type: PUBLISH, qos: 0, dup: false, payload: x}, "
                     "rules: [MQTT-3.8.4-6]}\n";
  run_faults(dup0, MQS_V311, mqe_fault_lookup("dup-on-qos0")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.1-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.1-1"), MQS_ST_FAIL);
  /* the codec rejects the packet: the check itself is not reached */
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-6"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* the right SUBACK codes in another order fail the order statement */
  const char *order = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.8.4-5, MQTT-3.9.3-1]\n"
                      "steps:\n  - connect: {}\n"
                      "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                      "[{topic_filter: a, qos: 0}, {topic_filter: b, qos: 1}]}\n"
                      "  - {expect: {type: SUBACK, packet_id: 1, reason_codes: [0, 1]}, "
                      "rules: [MQTT-3.8.4-5]}\n"
                      "  - {control: true, rules: [MQTT-3.9.3-1]}\n";
  run_faults(order, MQS_V311, mqe_fault_lookup("suback-reversed")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.9.3-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-5"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* acknowledgements in an expect_all that never come fail the statement
   * owing them */
  const char *acks = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-4.9.0-1]\n"
                     "clients: [c]\nsteps:\n  - {client: c, connect: {}}\n"
                     "  - {client: c, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: t, "
                     "payload: x}}\n"
                     "  - {client: c, send: {type: PUBLISH, qos: 1, packet_id: 2, topic: t, "
                     "payload: y}}\n"
                     "  - expect_all:\n"
                     "      - c: {type: PUBACK, packet_id: 1}\n"
                     "      - c: {type: PUBACK, packet_id: 2}\n";
  run_faults(acks, MQS_V5, mqe_fault_lookup("no-puback")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.3.2-4"), MQS_ST_FAIL);
  /* 5.0 states that duty again in the PUBLISH section: blamed together */
  assert_int_equal(stmt_of(&r, "MQTT-3.3.4-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.9.0-1"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a PINGRESP behind an extra PUBLISH came: MQTT-3.12.4-1 holds, the
   * PUBLISH is left for the check after it, which names what forbids it */
  const char *late = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.3.4-9]\n"
                     "clients: [s, p]\nsteps:\n"
                     "  - {client: s, connect: {properties: [{receive_maximum: 1}]}}\n"
                     "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                     "[{topic_filter: t, qos: 1}]}}\n"
                     "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
                     "  - {client: p, connect: {}}\n"
                     "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: t, "
                     "payload: a}}\n"
                     "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 2, topic: t, "
                     "payload: b}}\n"
                     "  - {client: s, expect: {type: PUBLISH, payload: a}}\n"
                     "  - {client: s, send: {type: PINGREQ}}\n"
                     "  - {client: s, expect: {type: PINGRESP}}\n"
                     "  - {client: s, expect_none: {fence: ping}, rules: [MQTT-3.3.4-9]}\n";
  run_faults(late, MQS_V5, mqe_fault_lookup("receive-maximum-ignored")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.4-9"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* an AUTH challenge that is not a Continue fails MQTT-4.12.0-2, and the
   * exchange goes on to be judged */
  const char *auth =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-4.12.0-5]\nrequires: [enhanced-auth]\n"
      "server: {auth_method: {method: mqcheck-challenge, secret: s}}\nsteps:\n"
      "  - {connect: {properties: [{authentication_method: mqcheck-challenge}]}, connack: none}\n"
      "  - expect: {type: AUTH, reason_code: 0x18, properties: [{authentication_method: "
      "mqcheck-challenge}, {authentication_data: \"${n}\"}]}\n"
      "  - send: {type: AUTH, reason_code: 0x18, properties: [{authentication_method: "
      "mqcheck-challenge}, {authentication_data: {mqcheck_challenge: {secret: s, nonce: "
      "\"${n}\"}}}]}\n"
      "  - expect: {type: CONNACK, reason_code: 0, properties: [{authentication_method: "
      "mqcheck-challenge}]}\n";
  run_faults(auth, MQS_V5, mqe_fault_lookup("auth-wrong-reason")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.12.0-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.12.0-5"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* an accepting CONNACK where a refusal was owed fails the step's owed:
   * statement; the refusal's form is not reached */
  const char *refusal =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.2.2-19, MQTT-4.12.0-1]\nsteps:\n"
      "  - {connect: {properties: [{maximum_packet_size: 24}, {authentication_method: nope}]}, "
      "connack: none}\n"
      "  - {expect: {type: CONNACK, reason_code: [0x8C, 0x87], no_properties: [reason_string]}, "
      "rules: [MQTT-3.2.2-19], owed: [MQTT-4.12.0-1]}\n"
      "  - expect_disconnect: true\n";
  run_faults(refusal, MQS_V5, mqe_fault_lookup("auth-unknown-method-accepted")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.12.0-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-19"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* the same in expect_disconnect: the close's own statement not reached */
  const char *closed =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.14.0-1, MQTT-4.12.0-1]\n"
      "steps:\n  - {connect: {properties: [{authentication_method: nope}]}, "
      "connack: none}\n"
      "  - {expect_disconnect: {disconnect_packet: false}, rules: [MQTT-3.14.0-1], "
      "owed: [MQTT-4.12.0-1]}\n";
  run_faults(closed, MQS_V5, mqe_fault_lookup("auth-unknown-method-accepted")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.12.0-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.14.0-1"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a CONNACK expected after `connack: none` behind a DISCONNECT: that is
   * MQTT-3.2.0-1 (the deviation's also), and the CONNACK's form still holds */
  run_faults(refusal, MQS_V5, mqe_fault_lookup("disconnect-before-connack")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.0-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-19"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a topic sent by alias alone is read from the alias: deliveries are
   * judged on what came (aliases are the checks' about them) */
  const char *alias = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-4.6.0-5]\n"
                      "clients: [s, p]\nsteps:\n  - {client: s, connect: {}}\n"
                      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                      "[{topic_filter: t, qos: 0}]}}\n"
                      "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
                      "  - {client: p, connect: {}}\n"
                      "  - {client: p, send: {type: PUBLISH, topic: t, payload: a}}\n"
                      "  - {client: p, send: {type: PUBLISH, topic: t, payload: b}}\n"
                      "  - {client: s, expect: {type: PUBLISH, topic: t, payload: a}}\n"
                      "  - {client: s, expect: {type: PUBLISH, topic: t, payload: b}}\n";
  run_faults(alias, MQS_V5, mqe_fault_lookup("alias-without-client-max")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-4.6.0-5"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a DISCONNECT not followed by the close: the client closes, so the will
   * a close publishes is still judged */
  const char *open_will =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.2-8, MQTT-4.13.1-1]\n"
      "clients: [s, w]\nsteps:\n"
      "  - {client: s, connect: {}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: w, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 1}, rules: [MQTT-3.1.2-8]}\n"
      "  - {client: w, connect: {will: {topic: w, payload: bye}}}\n"
      "  - {client: w, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: x, payload: x, "
      "faults: {flags: 6}}}\n"
      "  - {client: w, expect_disconnect: true, rules: [MQTT-4.13.1-1]}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: bye}, rules: [MQTT-3.1.2-8]}\n";
  run_faults(open_will, MQS_V5, mqe_fault_lookup("disconnect-keeps-open")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.14.4-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-8"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* SUBACK codes: a refusal where a grant was due, or another grant */
  const char *maxq = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.2.2-10, MQTT-3.8.4-7]\n"
                     "requires: [maximum-qos]\nserver: {maximum_qos: 1}\nsteps:\n  - connect: {}\n"
                     "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                     "[{topic_filter: a, qos: 2}, {topic_filter: b, qos: 0}]}\n"
                     "  - {expect: {type: SUBACK, packet_id: 1, reason_codes: [1, 0]}, "
                     "rules: [MQTT-3.2.2-10, MQTT-3.8.4-7]}\n";
  run_faults(maxq, MQS_V5, mqe_fault_lookup("subscribe-above-max-qos-refused")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-10"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-7"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(maxq, MQS_V5, mqe_fault_lookup("granted-qos-not-capped")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-10"), MQS_ST_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-7"), MQS_ST_FAIL);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* UNSUBACK codes of another value (not another order) */
  const char *unsub = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.11.3-1]\n"
                      "steps:\n  - connect: {}\n"
                      "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                      "[{topic_filter: a, qos: 0}]}\n"
                      "  - expect: {type: SUBACK, packet_id: 1}\n"
                      "  - send: {type: UNSUBSCRIBE, packet_id: 2, topic_filters: [a, b]}\n"
                      "  - expect: {type: UNSUBACK, packet_id: 2, reason_codes: [0, 0x11]}\n";
  run_faults(unsub, MQS_V5, mqe_fault_lookup("unsuback-always-success")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.11.3-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.11.3-1"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(unsub, MQS_V5, mqe_fault_lookup("unsuback-reversed")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.11.3-1"), MQS_ST_FAIL);
  assert_false(has_stmt(&r, "MQTT-3.11.3-2"));
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* User Properties missing fail their forwarding, not their order */
  const char *up = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.3.2-18]\n"
                   "steps:\n  - connect: {}\n"
                   "  - send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                   "[{topic_filter: t, qos: 0}]}\n"
                   "  - expect: {type: SUBACK, packet_id: 1}\n"
                   "  - send: {type: PUBLISH, topic: t, payload: x, properties: "
                   "[{user_property: [a, \"1\"]}, {user_property: [b, \"2\"]}]}\n"
                   "  - expect: {type: PUBLISH, payload: x, user_properties: [[a, \"1\"], "
                   "[b, \"2\"]]}\n";
  run_faults(up, MQS_V5, mqe_fault_lookup("drop-user-properties")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.2-17"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.2-18"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* presumes: a check that presumes a statement which failed earlier is not
   * reached (the case ends); it is judged when that statement held */
  const char *multi =
      "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.10.4-2, MQTT-3.10.4-6]\n"
      "clients: [s, p]\nsteps:\n"
      "  - {client: s, connect: {}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: a, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 2, subscriptions: "
      "[{topic_filter: b, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 2}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 3, subscriptions: "
      "[{topic_filter: c, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 3}}\n"
      "  - {client: s, send: {type: UNSUBSCRIBE, packet_id: 4, topic_filters: [c]}}\n"
      "  - {client: s, expect: {type: UNSUBACK, packet_id: 4}}\n"
      "  - {client: p, connect: {}}\n"
      "  - {client: p, send: {type: PUBLISH, topic: c, payload: gone}}\n"
      "  - {client: p, send: {type: PUBLISH, topic: a, payload: sentinel}}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: sentinel}, rules: [MQTT-3.10.4-2]}\n"
      "  - {client: s, send: {type: UNSUBSCRIBE, packet_id: 5, topic_filters: [a, b]}, "
      "presumes: [MQTT-3.10.4-2]}\n"
      "  - {client: s, expect: {type: UNSUBACK, packet_id: 5}}\n"
      "  - {client: p, send: {type: PUBLISH, topic: b, payload: y}}\n"
      "  - {client: s, expect_none: 300, rules: [MQTT-3.10.4-6]}\n"
      "  - {client: s, control: true}\n";
  run_faults(multi, MQS_V311, mqe_fault_lookup("unsubscribe-kept")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.10.4-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.10.4-6"), MQS_ST_NOT_REACHED);
  /* without presumes: the UNSUBACK check found the sentinel and blamed it */
  assert_false(has_stmt(&r, "MQTT-3.10.4-4"));
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(multi, MQS_V311, mqe_fault_lookup("unsubscribe-first-only")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.10.4-2"), MQS_ST_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-3.10.4-6"), MQS_ST_FAIL);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(up, MQS_V5, mqe_fault_lookup("user-properties-reordered")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.3.2-18"), MQS_ST_FAIL);
  assert_false(has_stmt(&r, "MQTT-3.3.2-17"));
  mqs_result_free(&r);
  mqs_scenario_free(sc);
}

/* Issue 18: runner attribution. A packet the codec rejects fails the
 * statement the codec names (the step's own are not reached); a second
 * CONNACK fails MQTT-3.2.0-2 and the case goes on; a field judged as its own
 * statement blames the one the step names, unless one of its list already
 * failed in the case. */
/* A resumed session is proved before what a case is about: a peek finds a
 * packet behind others and leaves them all queued, its owed statement is
 * the only one a lost session fails, and a captured Session Present picks
 * that statement without being judged itself. */
static void test_runner_session_controls(void **state) {
  (void)state;
  mqs_result r;
  mqs_scenario *sc;
  const char *text =
      "format: 1\nname: x\nversions: [5.0]\n"
      "rules: [MQTT-3.1.2-5, MQTT-3.1.2-23, MQTT-4.5.0-1, MQTT-4.6.0-6]\n"
      "clients: [s, p]\nsteps:\n"
      "  - {client: s, connect: {clean_start: false, properties: "
      "[{session_expiry_interval: 300}]}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: t, qos: 1}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
      "  - {client: s, disconnect: true}\n"
      "  - {client: p, connect: {}}\n"
      "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: t, payload: q}}\n"
      "  - {client: p, expect: {type: PUBACK, packet_id: 1}}\n"
      "  - {client: s, reconnect: {properties: [{session_expiry_interval: 300}]}, "
      "connack: {session_present: \"${sp}\"}}\n"
      "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 2, topic: t, payload: live}}\n"
      "  - {client: p, expect: {type: PUBACK, packet_id: 2}}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: live}, peek: true, if: {sp: 1}, "
      "rules: [MQTT-3.1.2-5], owed: [MQTT-3.1.2-5]}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: live}, peek: true, if: {sp: 0}, "
      "rules: [MQTT-3.1.2-23], owed: [MQTT-3.1.2-23]}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: q}, peek: true, "
      "rules: [MQTT-4.5.0-1], owed: [MQTT-4.5.0-1]}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: q}, rules: [MQTT-4.6.0-6]}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: live}, rules: [MQTT-4.6.0-6]}\n";
  /* conformant: the peeks consume nothing, so the queued message is still
   * first and the live one after it */
  run_keep(text, MQS_V5, &r, &sc);
  assert_int_equal(r.verdict, MQS_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-4.6.0-6"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* Session Present 1, the session not resumed: MQTT-3.1.2-5 alone */
  run_faults(text, MQS_V5, mqe_fault_lookup("session-not-resumed")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-5"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.5.0-1"), MQS_ST_NOT_REACHED);
  assert_int_equal(stmt_of(&r, "MQTT-4.6.0-6"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* Session Present 0, the session dropped at the disconnect: MQTT-3.1.2-23
   * alone, and Session Present (captured) is not judged */
  run_faults(text, MQS_V5, mqe_fault_lookup("session-ends-on-disconnect")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-23"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-5"), MQS_ST_NOT_REACHED); /* its branch was off */
  assert_false(has_stmt(&r, "MQTT-3.2.2-3"));
  assert_int_equal(stmt_of(&r, "MQTT-4.6.0-6"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* the subscription kept, the queue lost: the queue's statement alone */
  run_faults(text, MQS_V5, mqe_fault_lookup("offline-not-queued")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-5"), MQS_ST_PASS);
  assert_int_equal(stmt_of(&r, "MQTT-4.5.0-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-4.6.0-6"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* peek belongs to expect */
  mqs_load_error e;
  const char *bad = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.2-5]\nsteps:\n"
                    "  - {connect: {}, peek: true}\n";
  assert_int_not_equal(mqs_scenario_load_text("mem.yaml", bad, strlen(bad), &sc, &e), 0);
  assert_non_null(strstr(e.message, "peek"));
}

static void test_runner_attribution(void **state) {
  (void)state;
  mqs_result r;
  mqs_scenario *sc;
  const char *refused = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.1.3-8]\n"
                        "clients: [a]\nsteps:\n"
                        "  - {client: a, connect: {client_id: \"\", clean_start: false}, "
                        "connack: {reason_code: 2}}\n"
                        "  - {client: a, expect_disconnect: true}\n";
  /* the refusing CONNACK came, only the close is missing */
  run_faults(refused, MQS_V311, mqe_fault_lookup("refusal-keeps-open")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-5"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.3-8"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a packet after the server's DISCONNECT, or no close after it */
  const char *twice = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.0-2]\n"
                      "clients: [a]\nsteps:\n"
                      "  - {client: a, connect: {}}\n"
                      "  - {client: a, send: {type: CONNECT, client_id: x}}\n"
                      "  - {client: a, expect_disconnect: {reason_code: 0x82}}\n";
  run_faults(twice, MQS_V5, mqe_fault_lookup("packet-after-disconnect")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.14.4-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.0-2"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(twice, MQS_V5, mqe_fault_lookup("disconnect-keeps-open")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.14.4-2"), MQS_ST_FAIL);
  /* a code of 0x80 or more means closed (MQTT-4.13.2-1): the same duty */
  assert_int_equal(stmt_of(&r, "MQTT-4.13.2-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.0-2"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(refused, MQS_V311, mqe_fault_lookup("refusal-session-present")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-4"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.3-8"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  /* a refusal in the 3.1.1 layout (protocol level 6) with Session Present
   * 1 in a 5.0 case: 5.0's Session Present rule, not an undefined 5.0
   * reason code (MQTT-3.2.2-8) */
  const char *level =
      "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.1.2-2]\n"
      "clients: [a]\nsteps:\n  - {client: a, open: true}\n"
      "  - {client: a, send_hex: \"10 0d 00 04 4d 51 54 54 06 02 00 3c 00 01 71\"}\n"
      "  - {client: a, expect_disconnect: {reason_code: [0x01, 0x84]}}\n";
  run_faults(level, MQS_V5, mqe_fault_lookup("refusal-session-present")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.2-6"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-2"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);

  /* a CONNACK code other than 0 where acceptance was wanted, on a connection
   * kept open as accepted, is MQTT-3.1.4-4 first; a refusal that closes is
   * the step's own statement's */
  const char *upper = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.1.3-5]\n"
                      "steps:\n"
                      "  - {connect: {client_id: Abc}, rules: [MQTT-3.1.3-5]}\n"
                      "  - control: true\n";
  run_faults(upper, MQS_V311, mqe_fault_lookup("accepted-nonzero-code")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.4-4"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.3-5"), MQS_ST_NOT_REACHED);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(upper, MQS_V311, mqe_fault_lookup("client-id-uppercase-refused")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.3-5"), MQS_ST_FAIL);
  for (size_t i = 0; i < r.n_stmts; i++)
    assert_string_not_equal(r.stmts[i].id, "MQTT-3.1.4-4");
  mqs_result_free(&r);
  mqs_scenario_free(sc);

  const char *ping = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.12.4-1]\n"
                     "clients: [a]\nsteps:\n"
                     "  - {client: a, connect: {}}\n"
                     "  - {client: a, send: {type: PINGREQ}}\n"
                     "  - {client: a, expect: {type: PINGRESP}}\n";
  run_faults(ping, MQS_V5, mqe_fault_lookup("second-connack")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.0-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.12.4-1"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);

  /* a no_properties check naming both statements of a packet blames the
   * one of the property that came */
  const char *fit = "format: 1\nname: x\nversions: [5.0]\nrules: [MQTT-3.4.2-2, MQTT-3.4.2-3]\n"
                    "clients: [a]\nsteps:\n"
                    "  - {client: a, connect: {properties: [{maximum_packet_size: 24}]}}\n"
                    "  - {client: a, send: {type: PUBLISH, qos: 1, packet_id: 1, topic: n, "
                    "payload: x}}\n"
                    "  - {client: a, expect: {type: PUBACK, packet_id: 1, no_properties: "
                    "[reason_string, user_property]}, rules: [MQTT-3.4.2-2, MQTT-3.4.2-3]}\n";
  run_faults(fit, MQS_V5, mqe_fault_lookup("user-property-oversize-puback")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.4.2-3"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.4.2-2"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(fit, MQS_V5, mqe_fault_lookup("reason-string-oversize-puback")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.4.2-2"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.4.2-3"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);

  /* a message before the CONNACK fails MQTT-3.2.0-1, and is still delivered */
  const char *early = "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.1.2-5]\n"
                      "clients: [s, p]\nsteps:\n"
                      "  - {client: s, connect: {clean_start: false}}\n"
                      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
                      "[{topic_filter: t, qos: 1}]}}\n"
                      "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
                      "  - {client: s, disconnect: true}\n"
                      "  - {client: p, connect: {}}\n"
                      "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 2, topic: t, "
                      "payload: q}}\n"
                      "  - {client: p, expect: {type: PUBACK, packet_id: 2}}\n"
                      "  - {client: s, reconnect: {}}\n"
                      "  - {client: s, expect: {type: PUBLISH, payload: q}}\n";
  run_faults(early, MQS_V311, mqe_fault_lookup("publish-before-connack")->id, &r, &sc);
  assert_int_equal(r.verdict, MQS_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.2.0-1"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.1.2-5"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);

  const char *resub =
      "format: 1\nname: x\nversions: [3.1.1]\nrules: [MQTT-3.8.4-3, MQTT-3.8.4-6]\n"
      "clients: [s, p]\nsteps:\n"
      "  - {client: s, connect: {}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
      "[{topic_filter: c, qos: 0}, {topic_filter: t, qos: 1}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 1}}\n"
      "  - {client: s, send: {type: SUBSCRIBE, packet_id: 2, subscriptions: "
      "[{topic_filter: t, qos: 0}]}}\n"
      "  - {client: s, expect: {type: SUBACK, packet_id: 2}}\n"
      "  - {client: p, connect: {}}\n"
      "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 3, topic: c, payload: c}}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: c, qos: 0}, rules: [MQTT-3.8.4-6]}\n"
      "  - {client: p, send: {type: PUBLISH, qos: 1, packet_id: 4, topic: t, payload: t}}\n"
      "  - {client: s, expect: {type: PUBLISH, payload: t, qos: 0}, rules: [MQTT-3.8.4-3]}\n";
  run_faults(resub, MQS_V311, mqe_fault_lookup("resubscribe-adds")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-3"), MQS_ST_FAIL);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-6"), MQS_ST_PASS);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
  run_faults(resub, MQS_V311, mqe_fault_lookup("no-qos-downgrade")->id, &r, &sc);
  assert_int_equal(stmt_of(&r, "MQTT-3.8.4-6"), MQS_ST_FAIL);
  assert_int_not_equal(stmt_of(&r, "MQTT-3.8.4-3"), MQS_ST_FAIL);
  mqs_result_free(&r);
  mqs_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vars),
      cmocka_unit_test(test_run_pass),
      cmocka_unit_test(test_run_fail_detail),
      cmocka_unit_test(test_expect_long_hex),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_repeat),
      cmocka_unit_test(test_skip_missing_capability),
      cmocka_unit_test(test_baseline),
      cmocka_unit_test(test_baseline_json),
      cmocka_unit_test(test_server_block),
      cmocka_unit_test(test_expect_extensions),
      cmocka_unit_test(test_writers),
      cmocka_unit_test(test_statement_verdicts),
      cmocka_unit_test(test_positive_control),
      cmocka_unit_test(test_step_rules_load),
      cmocka_unit_test(test_cluster_nodes),
      cmocka_unit_test(test_field_and_close_statements),
      cmocka_unit_test(test_runner_attribution),
      cmocka_unit_test(test_runner_collateral),
      cmocka_unit_test(test_runner_session_controls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
