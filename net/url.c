/* url.c - mqn_url_parse: scheme://host[:port][/path], bounded, no allocation. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mqn.h"

static const struct {
  const char *name;
  mqn_scheme scheme;
} schemes[] = {
    {"tcp", MQN_TCP},   {"mqtt", MQN_TCP}, {"mqtts", MQN_MQTTS}, {"ssl", MQN_MQTTS},
    {"tls", MQN_MQTTS}, {"ws", MQN_WS},    {"wss", MQN_WSS},
};

const char *mqn_scheme_name(mqn_scheme s) {
  switch (s) {
  case MQN_TCP:
    return "tcp";
  case MQN_MQTTS:
    return "mqtts";
  case MQN_WS:
    return "ws";
  case MQN_WSS:
    return "wss";
  }
  return "?";
}

static uint16_t default_port(mqn_scheme s) {
  switch (s) {
  case MQN_TCP:
    return 1883;
  case MQN_MQTTS:
    return 8883;
  case MQN_WS:
    return 80;
  case MQN_WSS:
    return 443;
  }
  return 0;
}

/* Host characters we accept: enough for DNS names and IPv4; IPv6 goes in
 * brackets. Anything else (spaces, '@' userinfo, '%') is refused rather than
 * passed to the resolver. */
static bool host_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_';
}

mqn_status mqn_url_parse(const char *s, mqn_url *out) {
  memset(out, 0, sizeof *out);
  if (!s) return MQN_ERR_URL;
  const char *sep = strstr(s, "://");
  if (!sep) return MQN_ERR_URL;
  size_t sl = (size_t)(sep - s);
  bool found = false;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    if (strlen(schemes[i].name) == sl && strncasecmp(s, schemes[i].name, sl) == 0) {
      out->scheme = schemes[i].scheme;
      found = true;
      break;
    }
  }
  if (!found) return MQN_ERR_URL;
  const char *p = sep + 3;
  const char *hs, *he;
  if (*p == '[') {
    hs = p + 1;
    he = strchr(hs, ']');
    if (!he) return MQN_ERR_URL;
    for (const char *q = hs; q < he; q++)
      if (!(host_char(*q) || *q == ':')) return MQN_ERR_URL;
    p = he + 1;
  } else {
    hs = p;
    while (*p && host_char(*p))
      p++;
    he = p;
  }
  size_t hl = (size_t)(he - hs);
  if (hl == 0 || hl >= MQN_HOST_MAX) return MQN_ERR_URL;
  memcpy(out->host, hs, hl);
  out->host[hl] = '\0';

  out->port = default_port(out->scheme);
  if (*p == ':') {
    p++;
    unsigned long port = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9') {
      port = port * 10 + (unsigned long)(*p - '0');
      if (port > 65535) return MQN_ERR_URL;
      p++, digits++;
    }
    if (digits == 0) return MQN_ERR_URL;
    out->port = (uint16_t)port;
  }
  if (*p == '\0') {
    if (mqn_scheme_is_ws(out->scheme)) strcpy(out->path, "/mqtt");
    return MQN_OK;
  }
  if (*p != '/' || !mqn_scheme_is_ws(out->scheme)) return MQN_ERR_URL;
  size_t pl = strlen(p);
  if (pl >= MQN_PATH_MAX) return MQN_ERR_URL;
  /* A request-target goes into an HTTP request line: no controls or spaces. */
  for (size_t i = 0; i < pl; i++)
    if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f) return MQN_ERR_URL;
  memcpy(out->path, p, pl + 1);
  return MQN_OK;
}

void mqn_url_redact(const char *in, char *out, size_t cap) {
  const char *scheme = strstr(in, "://");
  const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
  const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
  if (at && (!slash || at < slash))
    snprintf(out, cap, "%.*s***@%s", (int)(scheme + 3 - in), in, at + 1);
  else
    snprintf(out, cap, "%s", in);
}
