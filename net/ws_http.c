/* ws_http.c - pure parsers/builders for the WebSocket opening handshake. */
#include "ws_http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

long mqn__http_head_len(const uint8_t *buf, size_t len, size_t max) {
  size_t lim = len < max ? len : max;
  for (size_t i = 3; i < lim; i++) {
    if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
      return (long)(i + 1);
  }
  return len >= max ? -1 : 0;
}

/* Copies [p, p+n) into dst (cap bytes with NUL), truncating. */
static void copy_field(char *dst, size_t cap, const uint8_t *p, size_t n) {
  if (n >= cap) n = cap - 1;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

static bool is_ws(uint8_t ch) {
  return ch == ' ' || ch == '\t';
}

/* True when the comma-separated token list [p, p+n) holds tok. */
static bool list_has(const uint8_t *p, size_t n, const char *tok, bool icase) {
  size_t tl = strlen(tok);
  size_t i = 0;
  while (i < n) {
    while (i < n && (is_ws(p[i]) || p[i] == ','))
      i++;
    size_t s = i;
    while (i < n && p[i] != ',')
      i++;
    size_t e = i;
    while (e > s && is_ws(p[e - 1]))
      e--;
    if (e - s == tl &&
        (icase ? strncasecmp((const char *)p + s, tok, tl) == 0 : memcmp(p + s, tok, tl) == 0))
      return true;
  }
  return false;
}

static bool name_is(const uint8_t *p, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp((const char *)p, name, n) == 0;
}

/* Walks header lines after the first line; fills the WebSocket fields. */
static bool parse_headers(const uint8_t *buf, size_t len, size_t pos, mqn__http_head *h,
                          bool request) {
  while (pos + 1 < len) {
    size_t eol = pos;
    while (eol + 1 < len && !(buf[eol] == '\r' && buf[eol + 1] == '\n'))
      eol++;
    if (eol + 1 >= len) return false;
    if (eol == pos) return true; /* blank line: end of head */
    const uint8_t *line = buf + pos;
    size_t ln = eol - pos;
    const uint8_t *colon = memchr(line, ':', ln);
    if (!colon) return false;
    size_t nn = (size_t)(colon - line);
    const uint8_t *v = colon + 1;
    size_t vn = ln - nn - 1;
    while (vn && is_ws(*v))
      v++, vn--;
    while (vn && is_ws(v[vn - 1]))
      vn--;
    if (name_is(line, nn, "Upgrade")) {
      h->upgrade_ws = h->upgrade_ws || list_has(v, vn, "websocket", true);
    } else if (name_is(line, nn, "Connection")) {
      h->connection_upgrade = h->connection_upgrade || list_has(v, vn, "upgrade", true);
    } else if (name_is(line, nn, "Sec-WebSocket-Version")) {
      int ver = 0;
      for (size_t i = 0; i < vn && i < 4; i++) {
        if (v[i] < '0' || v[i] > '9') break;
        ver = ver * 10 + (v[i] - '0');
      }
      h->version = ver;
    } else if (name_is(line, nn, "Sec-WebSocket-Key")) {
      copy_field(h->key, sizeof h->key, v, vn);
    } else if (name_is(line, nn, "Sec-WebSocket-Accept")) {
      copy_field(h->accept, sizeof h->accept, v, vn);
    } else if (name_is(line, nn, "Sec-WebSocket-Protocol")) {
      h->proto_present = true;
      copy_field(h->proto, sizeof h->proto, v, vn);
      /* Subprotocol names are case-sensitive tokens (RFC 6455 4.1). A server
       * must select exactly one, so a response must be exactly "mqtt". */
      if (request)
        h->proto_mqtt = h->proto_mqtt || list_has(v, vn, "mqtt", false);
      else
        h->proto_mqtt = vn == 4 && memcmp(v, "mqtt", 4) == 0;
    }
    pos = eol + 2;
  }
  return false;
}

static size_t first_line(const uint8_t *buf, size_t len) {
  size_t i = 0;
  while (i + 1 < len && !(buf[i] == '\r' && buf[i + 1] == '\n'))
    i++;
  return i;
}

bool mqn__http_parse_request(const uint8_t *buf, size_t len, mqn__http_head *h) {
  memset(h, 0, sizeof *h);
  size_t fl = first_line(buf, len);
  if (fl + 1 >= len) return false;
  /* "GET SP request-target SP HTTP/1.1" */
  const uint8_t *sp1 = memchr(buf, ' ', fl);
  if (!sp1) return false;
  size_t mlen = (size_t)(sp1 - buf);
  h->is_get = mlen == 3 && memcmp(buf, "GET", 3) == 0;
  const uint8_t *tgt = sp1 + 1;
  const uint8_t *sp2 = memchr(tgt, ' ', fl - mlen - 1);
  if (!sp2) return false;
  size_t tn = (size_t)(sp2 - tgt);
  if (tn == 0) return false;
  copy_field(h->path, sizeof h->path, tgt, tn);
  size_t vn = fl - (size_t)(sp2 + 1 - buf);
  if (vn != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) return false;
  return parse_headers(buf, len, fl + 2, h, true);
}

bool mqn__http_parse_response(const uint8_t *buf, size_t len, mqn__http_head *h) {
  memset(h, 0, sizeof *h);
  size_t fl = first_line(buf, len);
  if (fl + 1 >= len) return false;
  copy_field(h->status_line, sizeof h->status_line, buf, fl);
  /* "HTTP/1.1 SP 3DIGIT SP reason" */
  if (fl < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') return false;
  int st = 0;
  for (size_t i = 9; i < 12; i++) {
    if (buf[i] < '0' || buf[i] > '9') return false;
    st = st * 10 + (buf[i] - '0');
  }
  h->status = st;
  return parse_headers(buf, len, fl + 2, h, false);
}

void mqn__ws_accept_for(const char *key, char out[29]) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t cat[64 + sizeof guid];
  size_t kl = strnlen(key, 64);
  memcpy(cat, key, kl);
  memcpy(cat + kl, guid, sizeof guid - 1);
  uint8_t md[SHA_DIGEST_LENGTH];
  SHA1(cat, kl + sizeof guid - 1, md);
  /* 20 bytes -> 28 base64 chars + NUL */
  EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}
