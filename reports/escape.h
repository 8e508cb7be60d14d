/* escape.h - text escaping for the writers (internal to reports/). */
#ifndef MQR_ESCAPE_H
#define MQR_ESCAPE_H
#include <stdio.h>
/* XML text/attribute escaping; control characters other than \n\t become
 * U+FFFD-free '?' (XML 1.0 cannot carry them). */
void mqr__xml(FILE *f, const char *s);
/* JSON string with quotes; NULL writes null. */
void mqr__json(FILE *f, const char *s);
/* Markdown table cell: '|' and newlines escaped. */
void mqr__md(FILE *f, const char *s);
#endif
