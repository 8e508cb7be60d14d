/* status.c - status names and the monotonic clock. */
#include <time.h>

#include "mqn.h"

const char *mqn_strerror(mqn_status s) {
  switch (s) {
  case MQN_OK:
    return "ok";
  case MQN_AGAIN:
    return "operation would block";
  case MQN_CLOSED:
    return "connection closed by peer";
  case MQN_TIMEOUT:
    return "timed out";
  case MQN_ERR_ARGUMENT:
    return "invalid argument or state";
  case MQN_ERR_URL:
    return "invalid URL";
  case MQN_ERR_NOMEM:
    return "out of memory";
  case MQN_ERR_RESOLVE:
    return "host name did not resolve";
  case MQN_ERR_REFUSED:
    return "connection refused";
  case MQN_ERR_LISTEN:
    return "cannot listen on address";
  case MQN_ERR_IO:
    return "network I/O error";
  case MQN_ERR_LIMIT:
    return "buffer or count limit reached";
  case MQN_ERR_TLS_CONFIG:
    return "TLS configuration error (CA, certificate or key)";
  case MQN_ERR_TLS_HANDSHAKE:
    return "TLS handshake failed";
  case MQN_ERR_TLS_UNTRUSTED:
    return "TLS peer certificate not trusted";
  case MQN_ERR_TLS_EXPIRED:
    return "TLS peer certificate expired or not yet valid";
  case MQN_ERR_TLS_HOSTNAME:
    return "TLS peer certificate does not match host name";
  case MQN_ERR_TLS_REJECTED:
    return "TLS peer rejected our certificate";
  case MQN_ERR_TLS:
    return "TLS error";
  case MQN_ERR_WS_REFUSED:
    return "WebSocket upgrade refused";
  case MQN_ERR_WS_SUBPROTOCOL:
    return "WebSocket subprotocol \"mqtt\" not agreed";
  case MQN_ERR_WS_PROTOCOL:
    return "WebSocket protocol violation";
  case MQN_STATUS_COUNT:
    break;
  }
  return "unknown status";
}

int64_t mqn_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
