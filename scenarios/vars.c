/* vars.c - the variable table and ${name} expansion used by scenarios. */
#include <assert.h>
#include <string.h>

#include "mqs.h"

void mqs_vars_init(mqs_vars *vars) {
  vars->count = 0;
}

int mqs_vars_set(mqs_vars *vars, const char *name, const char *value, size_t len) {
  size_t nl = strlen(name);
  if (nl == 0 || nl >= MQS_VAR_NAME_MAX || len >= MQS_VAR_VALUE_MAX) return -1;
  size_t i = 0;
  while (i < vars->count && strcmp(vars->v[i].name, name))
    i++;
  if (i == vars->count) {
    if (vars->count == MQS_VARS_MAX) return -1;
    vars->count++;
    memcpy(vars->v[i].name, name, nl + 1);
  }
  memcpy(vars->v[i].value, value, len);
  vars->v[i].value[len] = '\0';
  vars->v[i].len = len;
  return 0;
}

const char *mqs_vars_get(const mqs_vars *vars, const char *name, size_t *len) {
  if (!vars) return NULL;
  for (size_t i = 0; i < vars->count; i++)
    if (!strcmp(vars->v[i].name, name)) {
      if (len) *len = vars->v[i].len;
      return vars->v[i].value;
    }
  return NULL;
}

static bool name_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '.' || ch == '-';
}

/* Length of a reference's name starting at s[i] == '$', s[i+1] == '{', or 0. */
static size_t ref_len(const char *s, size_t n, size_t i) {
  if (i + 2 >= n || s[i] != '$' || s[i + 1] != '{') return 0;
  size_t j = i + 2;
  while (j < n && name_char(s[j]))
    j++;
  if (j >= n || s[j] != '}' || j == i + 2 || j - (i + 2) >= 64) return 0;
  return j - (i + 2);
}

bool mqs_vars_is_ref(const char *s, size_t n, char name_out[64]) {
  size_t k = ref_len(s, n, 0);
  if (!k || k + 3 != n) return false;
  memcpy(name_out, s + 2, k);
  name_out[k] = '\0';
  return true;
}

long mqs_vars_expand(const mqs_vars *vars, const char *in, size_t n, char *out, size_t cap,
                     char badname[64]) {
  size_t o = 0;
  badname[0] = '\0';
#define PUT(ch)                                                                                    \
  do {                                                                                             \
    if (o + 1 >= cap) goto full;                                                                   \
    out[o++] = (ch);                                                                               \
  } while (0)
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '$' && i + 1 < n && in[i + 1] == '$') {
      PUT('$');
      i++;
      continue;
    }
    size_t k = ref_len(in, n, i);
    if (!k) {
      PUT(in[i]);
      continue;
    }
    char name[64];
    memcpy(name, in + i + 2, k);
    name[k] = '\0';
    size_t vl = 0;
    const char *v = mqs_vars_get(vars, name, &vl);
    if (!v) {
      memcpy(badname, name, k + 1);
      return -1;
    }
    for (size_t j = 0; j < vl; j++)
      PUT(v[j]);
    i += k + 2;
  }
  if (cap) out[o] = '\0';
  assert(o < cap || cap == 0);
  return (long)o;
full:
  memcpy(badname, "(value too long)", 17);
  return -1;
#undef PUT
}
