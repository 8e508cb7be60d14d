/* html.h - pieces shared by the HTML report and the HTML comparison
 * (internal to reports/): one head, one filter bar, one script. */
#ifndef MQR_HTML_H
#define MQR_HTML_H
#include <stdio.h>

#include "mqr.h"

/* Doctype, inline CSS, title; opens <body>. */
void mqr__html_head(FILE *f, const char *title);
/* The filter bar: a section select (sections[i], sorted) and one checkbox per
 * verdict. It acts on every element with data-verdict and data-section. */
void mqr__html_filters(FILE *f, char (*sections)[16], size_t n_sections);
/* The filter script; closes the page. */
void mqr__html_tail(FILE *f);
/* Distinct sections of ids, sorted numerically; *out malloc'd. 0 or -1. */
int mqr__html_sections(const char *const *ids, size_t n, char (**out)[16], size_t *n_out);
/* Writes ` data-section="3.1 3.3"` for a case. */
void mqr__html_case_sections(FILE *f, const mqr_case *c);
#endif
