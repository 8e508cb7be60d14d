"""paho_check.py HOST PORT - paho-mqtt (1.x API) against mqcheck serve:
QoS 0/1/2 pub/sub and a retained message, MQTT 3.1.1 and 5.0. Exit 0 on success."""
import sys
import threading
import time

import paho.mqtt.client as mqtt

host, port = sys.argv[1], int(sys.argv[2])


def run(proto, tag):
    got = []
    done = threading.Event()
    subscribed = threading.Event()
    want = ["q0", "q1", "q2", "retained"]

    def on_message(c, u, msg):
        got.append(msg.payload.decode())
        if len(got) >= len(want):
            done.set()

    def on_subscribe(*a):
        subscribed.set()

    kw = {"protocol": proto}
    if proto != mqtt.MQTTv5:
        kw["clean_session"] = True
    sub = mqtt.Client(client_id="paho-sub-" + tag, **kw)
    sub.on_message = on_message
    sub.on_subscribe = on_subscribe
    sub.connect(host, port, keepalive=30)
    sub.loop_start()
    sub.subscribe("paho/%s/#" % tag, qos=2)
    if not subscribed.wait(5):
        raise SystemExit("%s: no SUBACK" % tag)
    pub = mqtt.Client(client_id="paho-pub-" + tag, **kw)
    pub.connect(host, port, keepalive=30)
    pub.loop_start()
    for q in (0, 1, 2):
        pub.publish("paho/%s/x" % tag, "q%d" % q, qos=q).wait_for_publish()
    pub.publish("paho/%s/r" % tag, "retained", qos=1, retain=True).wait_for_publish()
    ok = done.wait(5)
    # a late subscriber receives the retained message
    late_got = threading.Event()
    late = mqtt.Client(client_id="paho-late-" + tag, **kw)
    late.on_message = lambda c, u, m: late_got.set() if m.retain and m.payload == b"retained" else None
    late.connect(host, port, keepalive=30)
    late.loop_start()
    late.subscribe("paho/%s/r" % tag, qos=1)
    ok2 = late_got.wait(5)
    pub.publish("paho/%s/r" % tag, b"", qos=1, retain=True).wait_for_publish()
    for c in (sub, pub, late):
        c.disconnect()
        c.loop_stop()
    got = got[:len(want)]  # the retained-clear publish may arrive too
    if not ok or sorted(got) != sorted(want):
        raise SystemExit("%s: got %r" % (tag, got))
    if not ok2:
        raise SystemExit("%s: retained message not delivered on subscribe" % tag)
    print("paho %s: ok" % tag)


run(mqtt.MQTTv311, "v311")
run(mqtt.MQTTv5, "v5")
