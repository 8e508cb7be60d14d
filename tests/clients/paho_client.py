"""paho_client.py ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID SESSION [AUTH [KEEPALIVE [RETAIN]]] -
python3-paho-mqtt (1.x API) as a client-check program. pub: publish COUNT
messages and exit; sub: subscribe and print each payload, exit after COUNT.
SESSION 1: keep a session (Clean Start 0, Session Expiry 300) and let the
library reconnect. Exit 0 when the task was done, 1 otherwise."""
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

role, host, port, version, qos, count, topic, payload, cid, session = sys.argv[1:11]
port, qos, count, session = int(port), int(qos), int(count), session == "1"
keepalive = int(sys.argv[12]) if len(sys.argv) > 12 else 60  # AUTH (11th) unused
retain = len(sys.argv) > 13 and sys.argv[13] == "1"
v5 = version == "5"
proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
kw = {"protocol": proto}
if not v5:
    kw["clean_session"] = not session
c = mqtt.Client(client_id=cid, **kw)
c.reconnect_delay_set(min_delay=1, max_delay=1)
done = threading.Event()
got = []


def on_message(cl, u, msg):
    print(msg.payload.decode(errors="replace"), flush=True)
    got.append(msg)
    if len(got) >= count:
        done.set()


def on_connect(cl, u, flags, rc, props=None):
    if role == "sub":
        cl.subscribe(topic, qos=qos)


c.on_message = on_message
c.on_connect = on_connect
try:
    if v5:
        props = Properties(PacketTypes.CONNECT)
        props.TopicAliasMaximum = 10  # let the server use aliases (server-topic-alias)
        if session:
            props.SessionExpiryInterval = 300
        c.connect(host, port, keepalive=keepalive, clean_start=not session, properties=props)
    else:
        c.connect(host, port, keepalive=keepalive)
except Exception as e:  # refused at the TCP or MQTT level
    print("connect failed: %s" % e)
    sys.exit(1)
c.loop_start()
ok = True
if role == "pub":
    for _ in range(count):
        info = c.publish(topic, payload, qos=qos, retain=retain)
        try:
            info.wait_for_publish(timeout=5)
        except Exception as e:
            print("publish failed: %s" % e)
        if not info.is_published():
            ok = False
            break
else:
    ok = done.wait(12)
c.disconnect()
c.loop_stop()
sys.exit(0 if ok else 1)
