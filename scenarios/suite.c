/* suite.c - loading a directory tree of scenarios at once. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int mqs_suite_load(char *const *paths, size_t n_paths, mqs_suite *out, FILE *errs) {
  memset(out, 0, sizeof *out);
  char **files = NULL;
  char err[512];
  long n = mqs_collect_files(paths, n_paths, &files, err, sizeof err);
  if (n < 0) {
    if (errs) fprintf(errs, "%s\n", err);
    return -1;
  }
  out->s = calloc(n ? (size_t)n : 1, sizeof *out->s);
  if (!out->s) {
    for (long i = 0; i < n; i++)
      free(files[i]);
    free(files);
    return -1;
  }
  for (long i = 0; i < n; i++) {
    mqs_scenario *s;
    mqs_load_error le;
    if (mqs_scenario_load(files[i], &s, &le)) {
      out->errors++;
      if (errs) fprintf(errs, "%s:%zu:%zu: error: %s\n", le.file, le.line, le.column, le.message);
    } else {
      bool dup = false;
      for (size_t j = 0; j < out->n && !dup; j++)
        if (!strcmp(out->s[j]->name, s->name)) {
          dup = true;
          if (errs)
            fprintf(errs, "%s:%u:1: error: scenario name '%s' is already used by %s\n", s->path,
                    s->line, s->name, out->s[j]->path);
        }
      if (dup) {
        out->errors++;
        mqs_scenario_free(s);
      } else {
        out->s[out->n++] = s;
      }
    }
    free(files[i]);
  }
  free(files);
  return 0;
}

void mqs_suite_free(mqs_suite *s) {
  for (size_t i = 0; i < s->n; i++)
    mqs_scenario_free(s->s[i]);
  free(s->s);
  memset(s, 0, sizeof *s);
}
