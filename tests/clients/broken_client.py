"""broken_client.py ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID SESSION -
a deliberately non-conformant MQTT client, the control of the client-check
tests: for each behaviour (named in TOPIC, mqk/<behaviour>) it breaks the
statement that behaviour judges, so every case must fail. Raw sockets only."""
import socket
import struct
import sys
import time

role, host, port, version, qos, count, topic, payload, cid, session = sys.argv[1:11]
auth = sys.argv[11] if len(sys.argv) > 11 else "-"
keepalive = int(sys.argv[12]) if len(sys.argv) > 12 else 60  # asked for, never kept
retain = len(sys.argv) > 13 and sys.argv[13] == "1"  # whatever Retain Available says
port, qos, count = int(port), int(qos), int(count)
v5 = version == "5"
beh = topic.split("/", 1)[1]


def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(b=b""):
    return varint(len(b)) + b if v5 else b""


def connect(clean):
    p = b""
    if session == "1":
        p += b"\x11" + struct.pack(">I", 300)
    p += b"\x22" + struct.pack(">H", 10)  # Topic Alias Maximum 10
    if auth != "-":
        p += b"\x15" + s(auth.split(":")[0])  # Authentication Method
    flags = 0x02 if clean else 0
    return pkt(0x10, s("MQTT") + bytes([5 if v5 else 4, flags]) + struct.pack(">H", keepalive) + props(p) + s(cid))


def publish(q, pid, dup=False, data=None):
    body = s(topic) + (struct.pack(">H", pid) if q else b"") + props() + (data or payload).encode()
    return pkt(0x30 | (8 if dup else 0) | q << 1 | (1 if retain else 0), body)


class Conn:
    def __init__(self, clean):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buf = b""
        self.sock.sendall(connect(clean))
        self.connack = self.read(3)

    def send(self, b):
        try:
            self.sock.sendall(b)
            return True
        except OSError:
            return False

    def read(self, timeout):
        """One packet (first byte, body), or None on timeout or close."""
        end = time.time() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf):
                    n += (self.buf[i] & 0x7F) * mult
                    mult <<= 7
                    i += 1
                    if not self.buf[i - 1] & 0x80:
                        if len(self.buf) >= i + n:
                            p = (self.buf[0], self.buf[i:i + n])
                            self.buf = self.buf[i + n:]
                            return p
                        break
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                return None
            if not d:
                return None
            self.buf += d


def pub():
    c = Conn(clean=session != "1")
    if beh == "connack-refused":
        time.sleep(0.6)
        c.send(publish(0, 0))  # after a refusing CONNACK (past the harness's grace)
        return
    if beh == "auth-challenge":
        # the server's AUTH 0x18 answered with 0x19 and another method
        m = b"\x15" + s("other")
        c.send(pkt(0xF0, b"\x19" + varint(len(m)) + m))
        time.sleep(0.3)
        return
    if beh == "receive-maximum":
        for i in range(count):  # no regard for Receive Maximum
            c.send(publish(qos, i + 1))
        time.sleep(0.5)
        return
    if beh == "maximum-packet-size":
        c.send(publish(qos, 1, data="x" * 300))
        return
    if beh in ("redelivery-dup", "pubrel-resend", "session-lost"):
        c.send(publish(qos, 1))
        while True:
            p = c.read(3)
            if p is None:
                break
            if p[0] >> 4 == 5:  # PUBREC
                c.send(pkt(0x62, struct.pack(">H", 1)))
        c = Conn(clean=False)
        if beh == "pubrel-resend":
            c.send(publish(qos, 1, dup=True))  # the PUBLISH again, not the PUBREL
        else:
            c.send(publish(qos, 1, dup=beh == "session-lost"))
        c.read(1)
        return
    c.send(publish(qos, 1))  # maximum-qos: whatever the CONNACK said
    c.read(1)


def sub():
    c = Conn(clean=True)
    c.send(pkt(0x82, struct.pack(">H", 1) + props() + s(topic) + bytes([qos])))
    got = 0
    end = time.time() + 11
    while got < count and time.time() < end:
        p = c.read(end - time.time())
        if p is None:
            return
        kind, body = p[0] >> 4, p[1]
        if kind == 14:  # DISCONNECT from the server
            time.sleep(0.6)  # past the harness's 300 ms grace
            c.send(pkt(0xC0, b""))  # PINGREQ on a closed connection
            return
        if kind != 3:
            continue
        tl = struct.unpack(">H", body[:2])[0]
        q = p[0] >> 1 & 3
        i = 2 + tl
        pid = body[i:i + 2] if q else b""
        i += 2 if q else 0
        if v5:
            n, mult = 0, 1
            while True:
                b = body[i]
                i += 1
                n += (b & 0x7F) * mult
                mult <<= 7
                if not b & 0x80:
                    break
            i += n
        if tl == 0 and v5:
            c.send(pkt(0xE0, b"\x94\x00"))  # refuses the alias it allowed
            return
        print(body[i:].decode(errors="replace"), flush=True)
        got += 1
        if q:  # qos-downgrade: PUBREC for a QoS 1 delivery
            c.send(pkt(0x50 if beh == "qos-downgrade" else 0x40, pid))
    c.send(pkt(0xE0, b""))


try:
    pub() if role == "pub" else sub()
except OSError as e:
    print("connection: %s" % e)
