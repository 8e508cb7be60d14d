/* test_clientcheck.c - clientcheck/ (mqk.h): the behaviour table and command
 * templates. The behaviours themselves are judged against real programs by
 * tests/clients/clients.sh (a broken client must fail every case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mqk.h"

static const mqk_behaviour *find(const char *name) {
  for (size_t i = 0; i < mqk_behaviour_count(); i++)
    if (!strcmp(mqk_behaviour_at(i)->name, name)) return mqk_behaviour_at(i);
  return NULL;
}

static void t_table(void **state) {
  (void)state;
  assert_true(mqk_behaviour_count() >= 13);
  assert_null(mqk_behaviour_at(mqk_behaviour_count()));
  for (size_t i = 0; i < mqk_behaviour_count(); i++) {
    const mqk_behaviour *b = mqk_behaviour_at(i);
    assert_non_null(b->description);
    assert_true(b->versions);
    assert_true(b->count >= 1 && b->ms >= 1000);
    for (unsigned v = 0; v < 2; v++) /* each version it runs for judges something */
      if (b->versions & (v ? MQS_V5 : MQS_V311)) assert_non_null(b->rules[v][0]);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(b->name, mqk_behaviour_at(j)->name);
  }
}

static void t_expand(void **state) {
  (void)state;
  char out[1024];
  const mqk_behaviour *b = find("redelivery-dup");
  assert_non_null(b);
  assert_int_equal(mqk_expand("c {role} {host}:{port} -V {version} -q {qos} -n {count} -t {topic} "
                              "-i {id} -s {session} -a {auth} {{x}}",
                              b, MQS_V311, 1883, out, sizeof out),
                   0);
  assert_string_equal(out, "c pub 127.0.0.1:1883 -V 311 -q 1 -n 1 -t mqk/redelivery-dup "
                           "-i mqk-redelivery-dup -s 1 -a - {x}");
  b = find("maximum-packet-size");
  assert_int_equal(mqk_expand("{payload}", b, MQS_V5, 1, out, sizeof out), 0);
  assert_int_equal(strlen(out), 300);
  b = find("auth-challenge");
  assert_int_equal(mqk_expand("{auth} {version}", b, MQS_V5, 1, out, sizeof out), 0);
  assert_string_equal(out, "mqcheck-challenge:mqk-secret 5");
}

static void t_expand_errors(void **state) {
  (void)state;
  char out[64];
  const mqk_behaviour *b = mqk_behaviour_at(0);
  assert_int_equal(mqk_expand("x {nope}", b, MQS_V5, 1, out, sizeof out), -1);
  assert_non_null(strstr(out, "{nope}"));
  assert_int_equal(mqk_expand("x {port", b, MQS_V5, 1, out, sizeof out), -1);
  assert_non_null(strstr(out, "unterminated"));
  char tiny[8];
  assert_int_equal(mqk_expand("{topic}", b, MQS_V5, 1, tiny, sizeof tiny), -1);
  assert_int_equal(strnlen(tiny, sizeof tiny) < sizeof tiny, 1); /* terminated */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_table),
      cmocka_unit_test(t_expand),
      cmocka_unit_test(t_expand_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
