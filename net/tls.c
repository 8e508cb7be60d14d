/*
 * tls.c - OpenSSL contexts (mqn_tls) and the per-connection TLS layer.
 *
 * The main job beyond plumbing is telling failures apart: a certificate the
 * client cannot trust, one that has expired, one for another host, a peer
 * that rejected our certificate and a handshake that failed for any other
 * reason each get their own status, so a conformance report never blames the
 * broker's MQTT for a TLS setup problem.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net_int.h"

static const unsigned char alpn_mqtt[] = {4, 'm', 'q', 't', 't'};

static void errtext(char *buf, size_t cap, const char *what) {
  if (!buf || cap == 0) return;
  unsigned long e = ERR_peek_last_error();
  char es[200] = "";
  if (e) ERR_error_string_n(e, es, sizeof es);
  snprintf(buf, cap, "%s%s%s", what, e ? ": " : "", es);
  ERR_clear_error();
}

/* errtext naming the file at fault, as the user gave it. */
static void errfile(char *buf, size_t cap, const char *what, const char *path) {
  char w[512];
  snprintf(w, sizeof w, "%s %s", what, path);
  errtext(buf, cap, w);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl, (void)arg;
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, alpn_mqtt, sizeof alpn_mqtt, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }
  /* A client offering only other protocols still gets a connection: the
   * failure belongs to the MQTT layer to judge, not to us. */
  return SSL_TLSEXT_ERR_NOACK;
}

static mqn_status tls_new(const mqn_tls_opts *o, bool server, mqn_tls **out, char *eb, size_t ec) {
  *out = NULL;
  if (eb && ec) eb[0] = '\0';
  if (!o) return MQN_ERR_ARGUMENT;
  uint16_t minv = o->min_version ? o->min_version : MQN_TLS_1_2;
  uint16_t maxv = o->max_version ? o->max_version : MQN_TLS_1_3;
  if (minv < MQN_TLS_1_2 || maxv > MQN_TLS_1_3 || minv > maxv) {
    if (eb && ec) snprintf(eb, ec, "TLS versions must lie within 1.2 .. 1.3");
    return MQN_ERR_ARGUMENT;
  }
  if (server && (!o->cert_file || !o->key_file)) {
    if (eb && ec) snprintf(eb, ec, "a TLS server needs cert_file and key_file");
    return MQN_ERR_ARGUMENT;
  }
  if (server && o->require_client_cert && !o->ca_file) {
    if (eb && ec) snprintf(eb, ec, "require_client_cert needs ca_file");
    return MQN_ERR_ARGUMENT;
  }
  mqn_tls *t = calloc(1, sizeof *t);
  if (!t) return MQN_ERR_NOMEM;
  t->server = server;
  t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!t->ctx) {
    free(t);
    errtext(eb, ec, "SSL_CTX_new");
    return MQN_ERR_NOMEM;
  }
  SSL_CTX_set_min_proto_version(t->ctx, minv);
  SSL_CTX_set_max_proto_version(t->ctx, maxv);
  /* tx buffer compaction moves pending bytes; partial writes let one record
   * leave at a time (tcp.c). Unexpected EOF is reported as a close: many
   * brokers drop TCP without close_notify after DISCONNECT. */
  SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);

  mqn_status st = MQN_ERR_TLS_CONFIG;
  if (o->ca_file) {
    if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
      errfile(eb, ec, "cannot load CA file", o->ca_file);
      goto fail;
    }
  } else if (!server && !o->insecure) {
    if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
      errtext(eb, ec, "cannot load the system trust store");
      goto fail;
    }
  }
  if (o->cert_file) {
    if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1) {
      errfile(eb, ec, "cannot load certificate", o->cert_file);
      goto fail;
    }
    if (!o->key_file || SSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
      errfile(eb, ec, "cannot load private key", o->key_file ? o->key_file : "(none given)");
      goto fail;
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
      errtext(eb, ec, "private key does not match certificate");
      goto fail;
    }
  }
  if (server) {
    if (o->require_client_cert) {
      SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
      STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
      if (names) SSL_CTX_set_client_CA_list(t->ctx, names);
    }
    if (o->alpn_mqtt) SSL_CTX_set_alpn_select_cb(t->ctx, alpn_select, NULL);
  } else {
    t->verify = !o->insecure;
    SSL_CTX_set_verify(t->ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (o->alpn_mqtt && SSL_CTX_set_alpn_protos(t->ctx, alpn_mqtt, sizeof alpn_mqtt) != 0) {
      errtext(eb, ec, "cannot set ALPN");
      goto fail;
    }
  }
  *out = t;
  return MQN_OK;
fail:
  SSL_CTX_free(t->ctx);
  free(t);
  return st;
}

mqn_status mqn_tls_new_client(const mqn_tls_opts *opts, mqn_tls **out, char *eb, size_t ec) {
  return tls_new(opts, false, out, eb, ec);
}

mqn_status mqn_tls_new_server(const mqn_tls_opts *opts, mqn_tls **out, char *eb, size_t ec) {
  return tls_new(opts, true, out, eb, ec);
}

void mqn_tls_free(mqn_tls *t) {
  if (!t) return;
  SSL_CTX_free(t->ctx);
  free(t);
}

static bool is_ip_literal(const char *h) {
  uint8_t b[16];
  return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* Notes a CertificateRequest from the server: in TLS 1.2 a server that
 * demands a client certificate and gets none (or one it dislikes) may answer
 * with a bare handshake_failure alert, indistinguishable from a cipher
 * mismatch unless we know a certificate was asked for. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg) {
  (void)version, (void)ssl;
  mqn_conn *c = arg;
  if (write_p || content_type != SSL3_RT_HANDSHAKE || len == 0) return;
  uint8_t mt = ((const uint8_t *)buf)[0];
  if (mt == SSL3_MT_CERTIFICATE_REQUEST) c->cert_requested = true;
  if (mt == SSL3_MT_NEWSESSION_TICKET) c->ticket_seen = true;
}

mqn_status mqn__tls_start(mqn_conn *c) {
  assert(c->tls && !c->ssl);
  if (c->tls->server != c->server)
    return mqn__fail(c, MQN_ERR_ARGUMENT, "TLS context is for the other side");
  c->ssl = SSL_new(c->tls->ctx);
  if (!c->ssl) return mqn__fail(c, MQN_ERR_NOMEM, "SSL_new failed");
  SSL_set_fd(c->ssl, c->fd);
  if (c->server) {
    SSL_set_accept_state(c->ssl);
  } else {
    SSL_set_connect_state(c->ssl);
    SSL_set_msg_callback(c->ssl, msg_cb);
    SSL_set_msg_callback_arg(c->ssl, c);
    bool ip = is_ip_literal(c->host);
    /* SNI carries DNS names only (RFC 6066 section 3). */
    if (!ip) SSL_set_tlsext_host_name(c->ssl, c->host);
    if (c->tls->verify) {
      X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) : SSL_set1_host(c->ssl, c->host);
      if (ok != 1) return mqn__fail(c, MQN_ERR_ARGUMENT, "cannot set host name to verify");
    }
  }
  c->tls_want = MQN_WANT_READ | MQN_WANT_WRITE;
  return MQN_OK;
}

/* Is this OpenSSL reason an alert where the peer refuses our certificate? */
static bool peer_rejected_cert(int reason) {
  switch (reason) {
  case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
  case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
  case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
  case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
  case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
  case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
  case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
  case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    return true;
  default:
    return false;
  }
}

/* Maps a failed SSL_* call to a status and a detail line. */
static mqn_status tls_failure(mqn_conn *c, int ret, const char *during, bool handshake) {
  int se = SSL_get_error(c->ssl, ret);
  int saved_errno = errno;
  switch (se) {
  case SSL_ERROR_WANT_READ:
    ERR_clear_error();
    return MQN_AGAIN;
  case SSL_ERROR_WANT_WRITE:
    ERR_clear_error();
    return MQN_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
    ERR_clear_error();
    if (handshake)
      return mqn__fail(c, MQN_ERR_TLS_HANDSHAKE, "%s: peer closed during the handshake", during);
    return MQN_CLOSED;
  case SSL_ERROR_SYSCALL:
    ERR_clear_error();
    if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE) {
      if (handshake)
        return mqn__fail(c, MQN_ERR_TLS_HANDSHAKE, "%s: peer closed the connection (%s)", during,
                         saved_errno ? strerror(saved_errno) : "EOF");
      if (saved_errno == 0) return MQN_CLOSED;
    }
    return mqn__fail(c,
                     mqn__errno_status(saved_errno) == MQN_AGAIN ? MQN_ERR_IO
                                                                 : mqn__errno_status(saved_errno),
                     "%s: %s", during, strerror(saved_errno));
  default:
    break;
  }
  unsigned long e = ERR_peek_last_error();
  int reason = ERR_GET_REASON(e);
  char es[200] = "";
  if (e) ERR_error_string_n(e, es, sizeof es);
  ERR_clear_error();
  long vr = SSL_get_verify_result(c->ssl);
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK) {
    const char *vs = X509_verify_cert_error_string(vr);
    mqn_status st;
    switch (vr) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
      st = MQN_ERR_TLS_HOSTNAME;
      return mqn__fail(c, st, "%s: %s (expected %s)", during, vs, c->host);
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      st = MQN_ERR_TLS_EXPIRED;
      break;
    default:
      st = MQN_ERR_TLS_UNTRUSTED;
      break;
    }
    return mqn__fail(c, st, "%s: %s", during, vs);
  }
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    return mqn__fail(c, MQN_ERR_TLS_UNTRUSTED, "%s: peer presented no certificate", during);
  if (peer_rejected_cert(reason) ||
      (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && c->cert_requested && !c->server))
    return mqn__fail(c, MQN_ERR_TLS_REJECTED, "%s: peer rejected our certificate: %s", during, es);
  return mqn__fail(c, handshake ? MQN_ERR_TLS_HANDSHAKE : MQN_ERR_TLS, "%s: %s", during,
                   es[0] ? es : "unknown TLS error");
}

static unsigned want_of(mqn_conn *c, int ret) {
  int se = SSL_get_error(c->ssl, ret);
  return se == SSL_ERROR_WANT_WRITE ? MQN_WANT_WRITE : MQN_WANT_READ;
}

/* How long a TLS 1.3 client waits for the server's verdict on its
 * certificate before calling the connection open anyway. */
#define SETTLE_MS 1000

mqn_status mqn__tls_handshake(mqn_conn *c) {
  if (c->settling) return mqn__tls_settle(c);
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    /* TLS 1.3 moves client authentication after the client's Finished: the
     * server's rejection alert would otherwise surface later as a broken
     * connection in the middle of MQTT. OpenSSL-based servers send session
     * tickets once they accepted the certificate, so wait (bounded) for a
     * ticket, data or an alert. */
    if (!c->server && c->cert_requested && SSL_version(c->ssl) == TLS1_3_VERSION) {
      c->settling = true;
      c->settle_deadline = mqn_now_ms() + SETTLE_MS;
      return mqn__tls_settle(c);
    }
    return MQN_OK;
  }
  c->tls_want = want_of(c, r);
  return tls_failure(c, r, "TLS handshake", true);
}

mqn_status mqn__tls_settle(mqn_conn *c) {
  if (c->ticket_seen) return MQN_OK;
  ERR_clear_error();
  errno = 0;
  uint8_t b;
  int r = SSL_peek(c->ssl, &b, 1);
  if (r > 0 || c->ticket_seen) return MQN_OK; /* peeked data stays buffered */
  int se = SSL_get_error(c->ssl, r);
  if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    if (mqn_now_ms() >= c->settle_deadline) return MQN_OK;
    c->tls_want = se == SSL_ERROR_WANT_WRITE ? MQN_WANT_WRITE : MQN_WANT_READ;
    return MQN_AGAIN;
  }
  return tls_failure(c, r, "TLS handshake (awaiting the server's verdict)", true);
}

mqn_status mqn__tls_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n) {
  ERR_clear_error();
  errno = 0;
  int len = cap > INT32_MAX ? INT32_MAX : (int)cap;
  int r = SSL_read(c->ssl, buf, len);
  if (r > 0) {
    *n = (size_t)r;
    return MQN_OK;
  }
  c->rd_want = want_of(c, r);
  /* TLS 1.3 servers check client certificates after the client's handshake
   * has finished, so the rejection alert shows up on the first read. */
  return tls_failure(c, r, "TLS read", false);
}

mqn_status mqn__tls_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n) {
  ERR_clear_error();
  errno = 0;
  /* One record's worth at a time keeps retries well-formed: a retried
   * SSL_write may only grow (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER + partial
   * writes), and the tx buffer never shrinks its pending span. */
  int k = len > 16384 ? 16384 : (int)len;
  if ((size_t)k < c->last_ssl_write && len >= c->last_ssl_write) k = (int)c->last_ssl_write;
  int r = SSL_write(c->ssl, buf, k);
  if (r > 0) {
    c->last_ssl_write = 0;
    *n = (size_t)r;
    return MQN_OK;
  }
  c->last_ssl_write = (size_t)k;
  return tls_failure(c, r, "TLS write", false);
}

void mqn__tls_shutdown(mqn_conn *c) {
  if (!c->ssl) return;
  ERR_clear_error();
  /* Best effort close_notify; we do not wait for the peer's. */
  (void)SSL_shutdown(c->ssl);
  ERR_clear_error();
}

const char *mqn_conn_tls_version(const mqn_conn *c) {
  return c && c->ssl && c->phase == MQN__PH_OPEN ? SSL_get_version(c->ssl) : NULL;
}

const char *mqn_conn_alpn(const mqn_conn *c) {
  static const char none[] = "";
  if (!c || !c->ssl) return none;
  const unsigned char *p = NULL;
  unsigned int l = 0;
  SSL_get0_alpn_selected(c->ssl, &p, &l);
  if (l == 4 && memcmp(p, "mqtt", 4) == 0) return "mqtt";
  return none;
}
