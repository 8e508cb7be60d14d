/* mqcheck probe - finds out what a broker supports by talking to it and
 * writes a target profile for `mqcheck run --profile`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqp.h"

const char mqc_cmd_probe_help[] = "find out what a broker supports and write its profile";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck probe --target URL [options]\n"
             "  --target URL          tcp://HOST:PORT | mqtts://HOST:PORT | ws://HOST:PORT/PATH |\n"
             "                        wss://HOST:PORT/PATH\n"
             "  --profile-out F       write the profile to F (default: stdout)\n"
             "  --also URL            another endpoint of the same broker to check (repeatable,\n"
             "                        up to 8): the transports that answer\n"
             "  --username U --password P   credentials for every CONNECT\n"
             "  --cafile F --cert F --key F --insecure   TLS (mqtts://, wss://)\n"
             "  --timeout MS          per step and per connect (default 2000)\n"
             "The profile lists every probed capability as a comment (yes, no or unknown with\n"
             "the reason), the limits the broker announced, the transports that answered and\n"
             "each finding (a declaration the broker does not keep, with its statement).\n"
             "exit: 0 probed, 2 usage error or the target cannot be reached\n");
}

int mqc_cmd_probe(int argc, char **argv) {
  mqp_opts o = {0};
  const char *out_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
#define ARG(name) (!strcmp(a, name) && has)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (ARG("--target"))
      o.target = argv[++i];
    else if (ARG("--profile-out"))
      out_path = argv[++i];
    else if (ARG("--also")) {
      if (o.n_also == MQP_ALSO_MAX) return cli_usage("probe", "at most %d '--also'", MQP_ALSO_MAX);
      o.also[o.n_also++] = argv[++i];
    } else if (ARG("--username"))
      o.username = argv[++i];
    else if (ARG("--password"))
      o.password = argv[++i];
    else if (ARG("--cafile"))
      o.cafile = argv[++i];
    else if (ARG("--cert"))
      o.cert = argv[++i];
    else if (ARG("--key"))
      o.key = argv[++i];
    else if (!strcmp(a, "--insecure"))
      o.insecure = true;
    else if (ARG("--timeout")) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 600000)
        return cli_usage("probe", "'--timeout' takes milliseconds (1..600000), not '%s'", argv[i]);
      o.timeout_ms = (uint32_t)v;
    } else if (a[0] == '-') {
      return cli_bad_option("probe", a, usage);
    } else {
      return cli_usage("probe", "unexpected argument '%s'", a);
    }
#undef ARG
  }
  if (!o.target) return cli_usage("probe", "missing '--target URL'");
  if (!strcmp(o.target, "engine"))
    return cli_usage("probe", "the built-in engine needs no probe (it has every capability); "
                              "give '--target' a broker URL");
  mqp_result *r = malloc(sizeof *r);
  if (!r) return 2;
  char err[600];
  if (mqp_probe(&o, r, err, sizeof err)) {
    fprintf(stderr, "mqcheck probe: %s\n", err);
    free(r);
    return 2;
  }
  int rc = 0;
  if (out_path) {
    FILE *f = fopen(out_path, "w");
    if (!f) {
      fprintf(stderr, "mqcheck probe: cannot write %s: %s\n", out_path, strerror(errno));
      free(r);
      return 2;
    }
    int wr = mqp_write_profile(r, f);
    if (fclose(f) || wr) {
      fprintf(stderr, "mqcheck probe: error writing %s\n", out_path);
      rc = 2;
    }
  }
  /* stdout: the profile itself; its comments are the human report */
  if (mqp_write_profile(r, stdout) || fflush(stdout)) rc = 2;
  char sum[1024];
  mqp_summary(r, sum, sizeof sum);
  fprintf(stderr, "probe: %s\n", sum);
  if (out_path && !rc) fprintf(stderr, "probe: profile written to %s\n", out_path);
  free(r);
  return rc;
}
