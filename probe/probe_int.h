/* probe_int.h - internals of the probe module (mqp__ prefix). */
#ifndef MQP_PROBE_INT_H
#define MQP_PROBE_INT_H

#include "mqc.h"
#include "mqn.h"
#include "mqp.h"

/* Outcomes of the blocking helpers. */
enum {
  MQP__GOT = 0,   /* the packet waited for arrived (in conn.pkt) */
  MQP__TIMEOUT,   /* nothing suitable before the deadline */
  MQP__CLOSED,    /* the broker closed (conn.why may say DISCONNECT 0x..) */
  MQP__BROKEN,    /* transport failure or an invalid packet (conn.why) */
  MQP__REFUSED,   /* CONNACK/ack with a failure reason code */
  MQP__ACCEPTED,  /* CONNACK 0x00 */
  MQP__NO_ANSWER, /* no CONNACK at all */
  MQP__TRANSPORT  /* TCP/TLS/WebSocket did not open */
};

typedef struct {
  const mqp_opts *o;
  mqn_url url;
  mqn_tls *tls; /* client context for mqtts/wss, or NULL */
  uint32_t tmo;
  char prefix[24]; /* client IDs and topics of this probe */
  mqp_result *r;
} mqp__probe;

typedef struct {
  mqn_conn *c;
  mqc_version v;
  mqc_packet pkt; /* last packet received; views into rx */
  uint8_t rx[65536];
  size_t raw_len;
  char why[200];
} mqp__conn;

/* What a CONNACK said (5.0 defaults filled in for absent properties). */
typedef struct {
  uint8_t reason;
  bool session_present, old_layout;
  uint64_t props; /* present bits */
  uint32_t max_qos, retain, wildcards, shared, sub_ids, topic_alias_max, receive_max, max_packet,
      session_expiry, server_keep_alive;
  char assigned[128];
} mqp__ack;

typedef struct {
  mqc_version version;
  const char *client_id;
  bool clean;
  bool credentials; /* send the configured username/password */
  uint32_t session_expiry;
} mqp__connect_args;

/* Probes the cluster promises of opts->node_urls over version v into
 * p->r->cluster and propagation_ms (cluster.c). */
void mqp__cluster(mqp__probe *p, mqc_version v);

int mqp__resolve(const char *host, uint32_t timeout_ms, char *err, size_t cap);
int mqp__dial(mqp__probe *p, const mqn_url *url, mqp__conn **out, char *err, size_t cap);
/* MQP__ACCEPTED (*out open), MQP__REFUSED (ack->reason), MQP__NO_ANSWER or
 * MQP__TRANSPORT, with why filled. */
int mqp__connect(mqp__probe *p, const mqn_url *url, const mqp__connect_args *args, mqp__conn **out,
                 mqp__ack *ack, char *why, size_t cap);
void mqp__close(mqp__conn *c);     /* DISCONNECT, graceful close, free */
void mqp__conn_drop(mqp__conn *c); /* abortive close, free */
int mqp__send(mqp__conn *c, const mqc_packet *pkt);
int mqp__recv(mqp__conn *c, uint32_t timeout_ms);
/* Reads until a packet of type (PUBLISH: on topic, NULL = any) arrives,
 * acknowledging deliveries on the way. */
int mqp__await(mqp__conn *c, mqc_type type, const char *topic, uint32_t timeout_ms);
int mqp__subscribe(mqp__conn *c, uint16_t pid, const char *filter, uint8_t qos, uint32_t sub_id,
                   uint32_t timeout_ms, uint8_t *granted);
/* QoS 0: sent; QoS 1/2: the whole handshake. */
int mqp__publish(mqp__conn *c, const char *topic, const char *payload, uint8_t qos, bool retain,
                 uint16_t pid, uint16_t alias, uint32_t timeout_ms);

#endif
