/* will.c - Last Will: published on abnormal loss after the Will Delay
 * Interval or at session end, whichever is first; discarded on DISCONNECT
 * 0x00 and on resume within the delay. */
#include "internal.h"

void mqe__will_drop(mqe_engine *e, mqe_session *s) {
  mqe__timer_clear(e, &s->will_timer);
  mqe__msg_unref(e, s->will);
  s->will = NULL;
  s->will_stale = false;
}

void mqe__will_publish(mqe_engine *e, mqe_session *s) {
  mqe_msg *m = s->will;
  if (!m) return;
  if (s->will_stale) { /* WILL_KEPT_IN_SESSION: only a later connection's loss sends it */
    mqe__will_drop(e, s);
    return;
  }
  s->will = NULL;
  mqe__timer_clear(e, &s->will_timer);
  mqe__event_sess(e, MQE_EV_WILL, s, "will published");
  uint32_t nlev = mqe__split(e, (mqc_bytes){mqe__msg_topic(m), m->topic_len});
  /* nlev was checked at CONNECT, and the cap cannot shrink */
  if (nlev) {
    if (m->retain && !mqe__fault(e, MQE_FAULT_WILL_RETAIN_IGNORED))
      mqe__retain(e, m, nlev); /* MQTT-3.1.2-15/17 */
    mqe__route(e, m, nlev, NULL);
  }
  mqe__msg_unref(e, m);
}

void mqe__will_on_close(mqe_engine *e, mqe_session *s, bool publish) {
  if (!s->will) return;
  if (!publish || mqe__fault(e, MQE_FAULT_WILL_NOT_PUBLISHED)) { /* MQTT-3.1.2-10 */
    if (!publish && mqe__fault(e, MQE_FAULT_WILL_KEPT_IN_SESSION)) {
      s->will_stale = true;
      return;
    }
    mqe__will_drop(e, s);
    return;
  }
  if (s->will_delay == 0 || s->expiry == 0 || mqe__fault(e, MQE_FAULT_WILL_DELAY_IGNORED)) {
    mqe_msg *kept = mqe__fault(e, MQE_FAULT_WILL_KEPT_AFTER_PUBLISH) ? s->will : NULL;
    if (kept) kept->refs++;
    mqe__will_publish(e, s);
    s->will = kept; /* published, yet still the session's will */
    return;
  }
  mqe__timer_set(e, &s->will_timer, e->now + (uint64_t)s->will_delay * 1000u);
}
