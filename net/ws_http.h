/*
 * ws_http.h - the HTTP/1.1 side of the WebSocket opening handshake (RFC 6455
 * section 4) as pure functions: no I/O, no allocation, bounded input. Kept
 * apart from ws.c so a fuzz target can drive the parsers directly.
 */
#ifndef MQN_WS_HTTP_H
#define MQN_WS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqn.h"

typedef struct {
  int status;              /* response: status code (101, 400, ...) */
  char status_line[128];   /* response: first line, truncated */
  char path[MQN_PATH_MAX]; /* request: request-target */
  bool is_get;             /* request: method is GET */
  bool upgrade_ws;         /* Upgrade: websocket */
  bool connection_upgrade; /* Connection: ... upgrade ... */
  int version;             /* Sec-WebSocket-Version, 0 when absent */
  char key[64];            /* Sec-WebSocket-Key (request) */
  char accept[64];         /* Sec-WebSocket-Accept (response) */
  bool proto_present;      /* a Sec-WebSocket-Protocol header was seen */
  bool proto_mqtt;         /* request: "mqtt" offered; response: "mqtt" chosen */
  char proto[64];          /* last Sec-WebSocket-Protocol value, truncated */
} mqn__http_head;

/* Length of the head at the start of buf including the blank line, 0 when
 * incomplete, -1 when no blank line appears within MQN__HS_MAX bytes. */
long mqn__http_head_len(const uint8_t *buf, size_t len, size_t max);

/* Parse a complete head (as measured by mqn__http_head_len). out is reset on
 * entry. Return false when the head is not HTTP/1.1-shaped. */
bool mqn__http_parse_request(const uint8_t *buf, size_t len, mqn__http_head *out);
bool mqn__http_parse_response(const uint8_t *buf, size_t len, mqn__http_head *out);

/* base64(SHA-1(key + RFC 6455 GUID)) into out (29 bytes with NUL). */
void mqn__ws_accept_for(const char *key, char out[29]);

#endif
