/* topic.c - topic name and topic filter syntax (sections 4.7 and 4.8). */
#include "internal.h"

/* See internal.h: 0 ordinary, 1 '+' or '#', 2 NUL or a byte of a multi-byte
 * UTF-8 sequence (the precise checks decide). */
const uint8_t mqc__filter_byte[256] = {
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static const char SHARE_PREFIX[] = "$share/";
#define SHARE_PREFIX_LEN (sizeof SHARE_PREFIX - 1)

bool mqc_topic_name_valid(mqc_bytes s) {
  return s.n > 0 && !memchr(s.p, '+', s.n) && !memchr(s.p, '#', s.n);
}

/* Returns 0 when f is a valid filter, else the index of the offending byte
 * plus one; *kind is '#' or '+' for misplaced wildcards, 0 for emptiness. */
static size_t filter_fault(mqc_bytes f, char *kind) {
  *kind = 0;
  if (f.n == 0) return 1;
  for (size_t i = 0; i < f.n; i++) {
    uint8_t c = f.p[i];
    if (c != '#' && c != '+') continue;
    bool starts_level = i == 0 || f.p[i - 1] == '/';
    bool ends_level = i + 1 == f.n || f.p[i + 1] == '/';
    if (c == '#' && (!starts_level || i + 1 != f.n)) {
      *kind = '#';
      return i + 1;
    }
    if (c == '+' && (!starts_level || !ends_level)) {
      *kind = '+';
      return i + 1;
    }
  }
  return 0;
}

bool mqc_topic_filter_valid(mqc_bytes s) {
  char kind;
  return filter_fault(s, &kind) == 0;
}

static inline bool word_has_wildcard(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
  uint64_t plus = x ^ (lo * '+'), hash = x ^ (lo * '#');
  return (((plus - lo) & ~plus) | ((hash - lo) & ~hash)) & hi;
}

/* First '+' or '#' in t, or NULL. Topic names are checked on every PUBLISH,
 * so whole words are tested first and only a hit is searched byte by byte. */
static const uint8_t *find_wildcard(mqc_bytes t) {
  size_t i = 0;
  if (t.n >= 8) {
    while (i + 8 <= t.n && !word_has_wildcard(t.p + i))
      i += 8;
    if (i == t.n || (i + 8 > t.n && !word_has_wildcard(t.p + t.n - 8))) return NULL;
  }
  for (; i < t.n; i++)
    if (t.p[i] == '+' || t.p[i] == '#') return t.p + i;
  return NULL;
}

mqc_status mqc__check_topic_name(mqc__reader *r, mqc_bytes t, const char *what) {
  (void)what;
  const uint8_t *wild = find_wildcard(t);
  if (wild)
    return MQC__PROTOCOL(r, wild, "MQTT-3.3.2-2", "MQTT-3.3.2-2",
                         "wildcard character in a topic name");
  return MQC_OK;
}

/* 5.0 shared subscriptions: $share/{ShareName}/{filter}. Returns the filter
 * part through *rest; the caller validates it as an ordinary filter. */
static mqc_status check_share(mqc__reader *r, mqc_bytes f, mqc_bytes *rest) {
  const uint8_t *name = f.p + SHARE_PREFIX_LEN;
  size_t left = f.n - SHARE_PREFIX_LEN;
  const uint8_t *slash = memchr(name, '/', left);
  size_t name_len = slash ? (size_t)(slash - name) : left;
  if (name_len == 0)
    return MQC__PROTOCOL(r, name, NULL, "MQTT-4.8.2-1",
                         "shared subscription has an empty ShareName");
  for (size_t i = 0; i < name_len; i++)
    if (name[i] == '+' || name[i] == '#')
      return MQC__PROTOCOL(r, name + i, NULL, "MQTT-4.8.2-2", "wildcard character in a ShareName");
  if (!slash || name_len + 1 == left)
    return MQC__PROTOCOL(r, f.p + f.n, NULL, "MQTT-4.8.2-2",
                         "shared subscription has no topic filter after the ShareName");
  rest->p = slash + 1;
  rest->n = left - name_len - 1;
  return MQC_OK;
}

bool mqc__is_shared(mqc_bytes f) {
  return f.n >= SHARE_PREFIX_LEN && f.p[0] == '$' && !memcmp(f.p, SHARE_PREFIX, SHARE_PREFIX_LEN);
}

mqc_status mqc__check_topic_filter(mqc__reader *r, mqc_bytes f) {
  if (f.n == 0)
    return MQC__PROTOCOL(r, f.p ? f.p : r->p, "MQTT-4.7.3-1", "MQTT-4.7.3-1", "empty topic filter");
  mqc_bytes body = f;
  if (r->v == MQC_V5 && mqc__is_shared(f)) MQC__TRY(check_share(r, f, &body));
  char kind;
  size_t fault = filter_fault(body, &kind);
  if (!fault) return MQC_OK;
  if (kind == '#')
    return MQC__PROTOCOL(r, body.p + fault - 1, "MQTT-4.7.1-2", "MQTT-4.7.1-1",
                         "'#' is not alone in the last level of a topic filter");
  return MQC__PROTOCOL(r, body.p + fault - 1, "MQTT-4.7.1-3", "MQTT-4.7.1-2",
                       "'+' does not occupy a whole level of a topic filter");
}

mqc_status mqc__topic_fault(mqc__reader *r, mqc_bytes t, bool filter) {
  MQC__TRY(mqc__check_utf8(r, t, "topic"));
  return filter ? mqc__check_topic_filter(r, t) : mqc__check_topic_name(r, t, "topic");
}
