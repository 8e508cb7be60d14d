/* ws_http.c - fuzz target: the HTTP/1.1 side of the WebSocket opening
 * handshake that net/ parses itself (net/ws_http.c; the frames go through
 * wslay). Both sides are attacked: a server reads a client's upgrade request,
 * a client reads a server's response.
 *
 * Input: one selector byte (bit 0: 0 request, 1 response; bits 1-7: the
 * maximum head size the caller allows, in 64-byte steps), then the bytes.
 * Oracles:
 *   - mqn__http_head_len never claims more bytes than it was given or than
 *     the allowed maximum, finds the first end of the head (one byte less is
 *     incomplete) and gives the same answer on exactly the head;
 *   - the parsed strings are NUL-terminated inside their fields. */
#include <string.h>

#include "fuzz.h"
#include "ws_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("packets");
}

static void check_terminated(const char *field, size_t cap, const char *name) {
  MQF_CHECK(memchr(field, '\0', cap) != NULL, "%s is not NUL-terminated", name);
}

static void check_head(const mqn__http_head *h) {
  check_terminated(h->status_line, sizeof h->status_line, "status_line");
  check_terminated(h->path, sizeof h->path, "path");
  check_terminated(h->key, sizeof h->key, "key");
  check_terminated(h->accept, sizeof h->accept, "accept");
  check_terminated(h->proto, sizeof h->proto, "proto");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  bool response = data[0] & 1;
  size_t max = (size_t)((data[0] >> 1) + 1) * 64;
  const uint8_t *buf = data + 1;
  size_t len = size - 1;

  long head = mqn__http_head_len(buf, len, max);
  MQF_CHECK(head >= -1, "head length %ld", head);
  if (head <= 0) return 0;
  MQF_CHECK((size_t)head <= len, "head %ld longer than the %zu bytes given", head, len);
  MQF_CHECK((size_t)head <= max, "head %ld over the maximum %zu", head, max);
  /* The end of the head, once found, does not move when more bytes arrive,
   * and it is the first one. */
  MQF_CHECK(mqn__http_head_len(buf, (size_t)head, max) == head, "head end moved");
  MQF_CHECK(mqn__http_head_len(buf, (size_t)head - 1, max) == 0, "head end is not the first");

  mqn__http_head a;
  bool ok = response ? mqn__http_parse_response(buf, (size_t)head, &a)
                     : mqn__http_parse_request(buf, (size_t)head, &a);
  if (!ok) return 0;
  check_head(&a);
  if (!response && a.key[0]) { /* runs SHA-1 and base64 on fuzzed keys */
    char accept[29];
    mqn__ws_accept_for(a.key, accept);
  }
  return 0;
}
