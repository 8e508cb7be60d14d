/* spec_int.h - shared between the spec library's source files; not public API. */
#ifndef MQSPEC_INT_H
#define MQSPEC_INT_H

#include <stddef.h>

/* snprintf into err when err is non-NULL. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void mqspec__errf(char *err, size_t cap, const char *fmt, ...);

/* Reads a whole file into a malloc'd, NUL-terminated buffer of at most max
 * bytes (caller frees). Returns NULL with a message in err. */
char *mqspec__read_file(const char *path, size_t max, size_t *len, char *err, size_t errcap);

#endif
