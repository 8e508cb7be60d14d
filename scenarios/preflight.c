/* preflight.c - before a run against a broker: which protocol versions does
 * it accept a CONNECT for? A broker that accepts none stops the run with one
 * clear error instead of hundreds of failed cases; a version it refuses is
 * skipped with that reason, never passed. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char probe[] = "format: 1\n"
                            "name: preflight\n"
                            "description: the broker accepts a plain CONNECT\n"
                            "versions: [3.1.1, 5.0, 3.1]\n"
                            "rules: [MQTT-3.1.0-1]\n"
                            "steps: [{connect: {}}]\n";

int mqs_preflight(const mqs_run_opts *opts, unsigned versions, unsigned *spoken, char *why,
                  size_t cap) {
  *spoken = 0;
  if (cap) why[0] = '\0';
  mqs_scenario *s;
  mqs_load_error e;
  if (mqs_scenario_load_text("preflight", probe, sizeof probe - 1, &s, &e)) {
    snprintf(why, cap, "preflight scenario: %s", e.message);
    return -1;
  }
  size_t k = 0;
  for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
    if (!(versions & vb)) continue;
    mqs_case c = {s, vb};
    mqs_result r;
    mqs_run_case(&c, 0, opts, &r);
    /* the CONNECT was accepted when the only complaint is that nothing
     * beyond the CONNACK had to arrive */
    if (r.verdict == MQS_PASS || (r.verdict == MQS_FAIL && r.no_positive))
      *spoken |= vb;
    else if (k < cap)
      k += (size_t)snprintf(why + k, cap - k, "%sMQTT %s: %s", k ? "; " : "", mqs_version_label(vb),
                            r.message ? r.message : mqs_verdict_name(r.verdict));
    mqs_result_free(&r);
  }
  mqs_scenario_free(s);
  return 0;
}
