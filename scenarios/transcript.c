/* transcript.c - every packet of every client of one case, with relative
 * timestamps and direction, for failure reports. */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

void mqs__tr_add(mqs__transcript *tr, uint64_t t, unsigned client, char dir, const char *fmt, ...) {
  if (tr->n == tr->cap) {
    size_t cap = tr->cap ? tr->cap * 2 : 32;
    if (cap > 100000) return; /* bounded: a flooding broker cannot exhaust memory */
    mqs__tr_entry *e = realloc(tr->e, cap * sizeof *e);
    if (!e) return;
    tr->e = e;
    tr->cap = cap;
  }
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  size_t n = strlen(buf) + 1;
  char *text = malloc(n);
  if (!text) return;
  memcpy(text, buf, n);
  tr->e[tr->n++] = (mqs__tr_entry){t, client, dir, text};
}

void mqs__tr_render(const mqs__transcript *tr, const mqs_scenario *s, uint64_t t0, mqs__buf *out) {
  for (size_t i = 0; i < tr->n; i++) {
    const mqs__tr_entry *e = &tr->e[i];
    const char *who = e->client < s->n_clients ? s->clients[e->client] : "-";
    const char *arrow = e->dir == '>' ? "->" : e->dir == '<' ? "<-" : "!!";
    mqs__buf_printf(out, "    %+9.3fs  %-8s %s %s\n", (double)(e->t - t0) / 1000.0, who, arrow,
                    e->text);
  }
}

void mqs__tr_free(mqs__transcript *tr) {
  for (size_t i = 0; i < tr->n; i++)
    free(tr->e[i].text);
  free(tr->e);
  memset(tr, 0, sizeof *tr);
}
