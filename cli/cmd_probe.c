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
             "       mqcheck probe --target a=URL --target b=URL [options]\n"
             "  --target URL          tcp://HOST:PORT | mqtts://HOST:PORT | ws://HOST:PORT/PATH |\n"
             "                        wss://HOST:PORT/PATH; given several times as NAME=URL, the\n"
             "                        nodes of a cluster: the capabilities are probed on the\n"
             "                        first, the cluster's promises (cross-node delivery,\n"
             "                        retained messages, takeover, shared groups, sessions)\n"
             "                        across them, and written as the profile's cluster:\n"
             "                        section (docs/cluster.md)\n"
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
  const char *targets[MQS_NODES_MAX];
  size_t n_targets = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
#define ARG(name) (!strcmp(a, name) && has)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (ARG("--target")) {
      if (n_targets == MQS_NODES_MAX)
        return cli_usage("probe", "at most %d '--target' nodes", MQS_NODES_MAX);
      targets[n_targets++] = o.target = argv[++i];
    } else if (ARG("--profile-out"))
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
  char err[600];
  /* several nodes: named as run names them */
  mqs_target_spec *spec = NULL;
  const char *names[MQS_NODES_MAX], *urls[MQS_NODES_MAX];
  if (n_targets > 1) {
    if (mqs_target_spec_new_nodes(targets, n_targets, NULL, &spec, err, sizeof err))
      return cli_usage("probe", "%s", err);
    o.n_nodes = mqs_target_spec_n_nodes(spec);
    for (size_t k = 0; k < o.n_nodes; k++) {
      names[k] = mqs_target_spec_node_name(spec, k);
      urls[k] = mqs_target_spec_node_url(spec, k);
    }
    o.node_names = names;
    o.node_urls = urls;
    o.target = urls[0];
  }
  mqp_result *r = malloc(sizeof *r);
  if (!r) {
    mqs_target_spec_free(spec);
    return 2;
  }
  if (mqp_probe(&o, r, err, sizeof err)) {
    fprintf(stderr, "mqcheck probe: %s\n", err);
    mqs_target_spec_free(spec);
    free(r);
    return 2;
  }
  int rc = 0;
  if (out_path) {
    FILE *f = fopen(out_path, "w");
    if (!f) {
      fprintf(stderr, "mqcheck probe: cannot write %s: %s\n", out_path, strerror(errno));
      mqs_target_spec_free(spec);
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
  mqs_target_spec_free(spec);
  free(r);
  return rc;
}
