/* scenario_file.c - fuzz target: the scenario loader (scenarios/mqs.h),
 * i.e. whole scenario files as untrusted text: YAML structure, step shapes,
 * every packet description built per version, capability names, statement
 * IDs. Oracles: no crash, no leak (the loaded scenario is freed), errors come
 * with a terminated message. Built when scenarios/mqs.h exists. */
#include <string.h>

#include "fuzz.h"
#include "mqs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("packets");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mqs_scenario *s = NULL;
  mqs_load_error err;
  memset(&err, 0, sizeof err);
  if (mqs_scenario_load_text("fuzz.yaml", (const char *)data, size, &s, &err) == 0) {
    MQF_CHECK(s, "load succeeded without a scenario");
    mqs_scenario_free(s);
  } else {
    MQF_CHECK(!s, "failed load returned a scenario");
    MQF_CHECK(memchr(err.message, 0, sizeof err.message), "error message not terminated");
  }
  return 0;
}
