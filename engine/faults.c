/* faults.c - planted deviations for mutation testing of the conformance
 * suite (`mqcheck mutants`). Each switch is the smallest change that breaks
 * one wire-testable statement and nothing else; mqe_config.faults enables
 * them (0, the default, in every real use). The statements are those of the
 * project's catalog (spec/), per version. */
#include <string.h>

#include "internal.h"

static const mqe_fault_info table[] = {
    {"session-present-zero", MQE_FAULT_SESSION_PRESENT_ZERO, "MQTT-3.2.2-2", "MQTT-3.2.2-3",
     "CONNACK Session Present is always 0, even when a session is resumed"},
    {"no-dup-on-redelivery", MQE_FAULT_NO_DUP_ON_REDELIVERY, "MQTT-3.3.1-1", "MQTT-3.3.1-1",
     "a PUBLISH re-sent on session resume has DUP 0"},
    {"qos2-duplicate-delivered", MQE_FAULT_QOS2_DUPLICATE_DELIVERED, "MQTT-4.3.3-2",
     "MQTT-4.3.3-10", "a QoS 2 PUBLISH repeated before PUBREL is delivered onward again"},
    {"retain-empty-not-cleared", MQE_FAULT_RETAIN_EMPTY_NOT_CLEARED, "MQTT-3.3.1-10",
     "MQTT-3.3.1-6", "a retained PUBLISH with an empty payload leaves the retained message"},
    {"will-after-disconnect", MQE_FAULT_WILL_AFTER_DISCONNECT, "MQTT-3.14.4-3", "MQTT-3.14.4-3",
     "the will is published after a normal DISCONNECT"},
    {"no-pingresp", MQE_FAULT_NO_PINGRESP, "MQTT-3.12.4-1", "MQTT-3.12.4-1",
     "PINGREQ is not answered"},
    {"puback-wrong-id", MQE_FAULT_PUBACK_WRONG_ID, "MQTT-2.3.1-6", "MQTT-2.2.1-5",
     "PUBACK carries the PUBLISH's Packet Identifier plus one"},
    {"pubcomp-wrong-id", MQE_FAULT_PUBCOMP_WRONG_ID, "MQTT-4.3.3-2", "MQTT-4.3.3-11",
     "PUBCOMP carries the PUBREL's Packet Identifier plus one"},
    {"no-qos-downgrade", MQE_FAULT_NO_QOS_DOWNGRADE, "MQTT-3.8.4-6", "MQTT-3.8.4-8",
     "messages go out at the published QoS, above the QoS granted to the subscription"},
    {"unsubscribe-kept", MQE_FAULT_UNSUBSCRIBE_KEPT, "MQTT-3.10.4-2", "MQTT-3.10.4-2",
     "UNSUBSCRIBE is acknowledged but the subscription stays"},
    {"pubrel-reason-oversize", MQE_FAULT_PUBREL_REASON_OVERSIZE, NULL, "MQTT-3.6.2-2",
     "a PUBREL keeps its Reason String past the client's Maximum Packet Size"},
    {"auth-reason-oversize", MQE_FAULT_AUTH_REASON_OVERSIZE, NULL, "MQTT-3.15.2-2",
     "AUTH carries a Reason String even past the client's Maximum Packet Size"},
    {"will-not-kept", MQE_FAULT_WILL_NOT_KEPT, "MQTT-3.1.2-8", "MQTT-3.1.2-7",
     "the Will Message of an accepted CONNECT is not kept"},
    {"reauth-failure-kept", MQE_FAULT_REAUTH_FAILURE_KEPT, NULL, "MQTT-4.12.1-2",
     "a failed re-authentication leaves the connection open"},
    {"qos2-id-kept", MQE_FAULT_QOS2_ID_KEPT, "MQTT-4.3.3-2", "MQTT-4.3.3-12",
     "an inbound QoS 2 identifier is still remembered after PUBCOMP"},
};

size_t mqe_fault_count(void) {
  return sizeof table / sizeof table[0];
}

const mqe_fault_info *mqe_fault_at(size_t i) {
  return i < mqe_fault_count() ? &table[i] : NULL;
}

const mqe_fault_info *mqe_fault_lookup(const char *name) {
  for (size_t i = 0; i < mqe_fault_count(); i++)
    if (!strcmp(table[i].name, name)) return &table[i];
  return NULL;
}
