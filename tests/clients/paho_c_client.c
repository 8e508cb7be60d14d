/* paho_c_client ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID SESSION -
 * Eclipse Paho C (Debian's libpaho-mqtt, synchronous MQTTClient API) as a
 * client-check program. pub: publish COUNT messages and exit; sub: subscribe
 * and print each payload, exit after COUNT. SESSION 1: Clean Start 0 with
 * Session Expiry 300, and the program reconnects (up to 3 times) when the
 * connection drops; the library then re-sends what was in flight. */
#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  MQTTClient c;
  int v5, session, keepalive, retain;
} app;

static int do_connect(app *a) {
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  MQTTClient_connectOptions o5 = MQTTClient_connectOptions_initializer5;
  MQTTProperties props = MQTTProperties_initializer;
  int rc;
  if (a->v5) {
    o5.cleanstart = !a->session;
    o5.keepAliveInterval = a->keepalive;
    MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM};
    p.value.integer2 = 10;
    MQTTProperties_add(&props, &p);
    if (a->session) {
      MQTTProperty e = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
      e.value.integer4 = 300;
      MQTTProperties_add(&props, &e);
    }
    MQTTResponse r = MQTTClient_connect5(a->c, &o5, &props, NULL);
    rc = r.reasonCode;
    MQTTResponse_free(r);
    MQTTProperties_free(&props);
  } else {
    o.cleansession = !a->session;
    o.keepAliveInterval = a->keepalive;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    rc = MQTTClient_connect(a->c, &o);
  }
  if (rc != MQTTCLIENT_SUCCESS) printf("connect failed: %d\n", rc);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 11 || argc > 14) { /* AUTH (12th) unused: no mqcheck-challenge here */
    fprintf(stderr, "usage: paho_c_client ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID "
                    "SESSION [AUTH [KEEPALIVE [RETAIN]]]\n");
    return 2;
  }
  const char *role = argv[1], *topic = argv[7], *payload = argv[8], *id = argv[9];
  int qos = atoi(argv[5]), count = atoi(argv[6]);
  app a = {.v5 = !strcmp(argv[4], "5"),
           .session = !strcmp(argv[10], "1"),
           .keepalive = argc > 12 ? atoi(argv[12]) : 60,
           .retain = argc > 13 && !strcmp(argv[13], "1")};
  char uri[256];
  snprintf(uri, sizeof uri, "tcp://%s:%s", argv[2], argv[3]);
  MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
  co.MQTTVersion = a.v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
  if (MQTTClient_createWithOptions(&a.c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
      MQTTCLIENT_SUCCESS)
    return 1;
  int ok = 0;
  if (do_connect(&a) != MQTTCLIENT_SUCCESS) goto out;
  if (!strcmp(role, "pub")) {
    int sent = 0;
    for (int tries = 0; sent < count && tries < 4;) {
      MQTTClient_message m = MQTTClient_message_initializer;
      m.payload = (void *)payload;
      m.payloadlen = (int)strlen(payload);
      m.qos = qos;
      m.retained = a.retain;
      MQTTClient_deliveryToken tok = 0;
      int rc;
      if (a.v5) {
        MQTTResponse r = MQTTClient_publishMessage5(a.c, topic, &m, &tok);
        rc = r.reasonCode;
        MQTTResponse_free(r);
      } else {
        rc = MQTTClient_publishMessage(a.c, topic, &m, &tok);
      }
      if (rc == MQTTCLIENT_SUCCESS) rc = MQTTClient_waitForCompletion(a.c, tok, 3000);
      if (rc == MQTTCLIENT_SUCCESS) {
        sent++;
        continue;
      }
      printf("publish failed: %d\n", rc);
      if (!a.session) break;
      tries++; /* persistent session: reconnect; the library re-sends in-flight messages */
      if (do_connect(&a) != MQTTCLIENT_SUCCESS) break;
      if (MQTTClient_waitForCompletion(a.c, tok, 3000) == MQTTCLIENT_SUCCESS) sent++;
    }
    ok = sent == count;
  } else {
    int rc;
    if (a.v5) {
      MQTTSubscribe_options so = MQTTSubscribe_options_initializer;
      MQTTResponse r = MQTTClient_subscribe5(a.c, topic, qos, &so, NULL);
      rc = r.reasonCode <= 2 ? MQTTCLIENT_SUCCESS : r.reasonCode;
      MQTTResponse_free(r);
    } else {
      rc = MQTTClient_subscribe(a.c, topic, qos);
    }
    int got = 0;
    for (int polls = 0; rc == MQTTCLIENT_SUCCESS && got < count && polls < 150; polls++) {
      char *t = NULL;
      int tl = 0;
      MQTTClient_message *m = NULL;
      if (MQTTClient_receive(a.c, &t, &tl, &m, 100) != MQTTCLIENT_SUCCESS) break;
      if (!m) continue;
      printf("%.*s\n", m->payloadlen, (const char *)m->payload);
      fflush(stdout);
      got++;
      MQTTClient_freeMessage(&m);
      MQTTClient_free(t);
    }
    MQTTClient_yield(); /* let the acknowledgement out */
    ok = got == count;
  }
  if (a.v5)
    MQTTClient_disconnect5(a.c, 1000, MQTTREASONCODE_NORMAL_DISCONNECTION, NULL);
  else
    MQTTClient_disconnect(a.c, 1000);
out:
  MQTTClient_destroy(&a.c);
  return ok ? 0 : 1;
}
