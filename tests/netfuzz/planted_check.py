#!/usr/bin/python3
"""planted_check.py BROKER MQCHECK - each planted fault of planted_broker fires
on its condition and only then, and `--bugs none` is the plain engine.

Three broker instances on free loopback ports, each with a raw-socket client:
  all   near misses (seeds the faults sit next to) fire nothing, and those
        seed scenarios pass under `mqcheck run`; then badwire (the SUBACK
        fails `mqcheck decode --from server`), qos2loss (25 QoS 2
        sent, 20 arrive), leak (VmRSS and /proc/PID/fd grow per connection),
        hang (a second client's PINGREQ gets no PINGRESP within 1 s, the
        listening socket still accepts); SIGTERM still ends it with 0.
  all   overflow: the ASan build stops with "heap-buffer-overflow".
  none  every trigger above: nothing fires, nothing leaks, exit 0.
Exit 0 when all hold, 1 with a message otherwise.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail, varint  # noqa: E402

BROKER, MQCHECK = sys.argv[1], sys.argv[2]
LEAK_CONNS = 40
KIB = 1024



# ---- packets ----------------------------------------------------------------

def s(b):
    b = b.encode() if isinstance(b, str) else b
    return len(b).to_bytes(2, "big") + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(*items):
    raw = b"".join(items)
    return varint(len(raw)) + raw


def connect(v, cid):
    name, level = ("MQTT", 5) if v == 5 else ("MQTT", 4)
    body = s(name) + bytes([level, 0x02]) + (60).to_bytes(2, "big")
    if v == 5:
        body += props()
    return packet(0x10, body + s(cid))


def subscribe(v, pid, filt, qos, prop=b""):
    body = pid.to_bytes(2, "big") + (props(prop) if v == 5 else b"")
    return packet(0x82, body + s(filt) + bytes([qos]))


def unsubscribe(v, pid, filt):
    body = pid.to_bytes(2, "big") + (props() if v == 5 else b"")
    return packet(0xA2, body + s(filt))


def publish(v, topic, payload, qos=0, pid=0, prop=b""):
    body = s(topic) + (pid.to_bytes(2, "big") if qos else b"") + (props(prop) if v == 5 else b"")
    return packet(0x30 | (qos << 1), body + payload)


def ack(kind, pid):
    return packet(kind, pid.to_bytes(2, "big"))


PINGREQ = packet(0xC0, b"")
CONTENT_TYPE = lambda v: b"\x03" + s(v)  # noqa: E731
RESPONSE_TOPIC = lambda v: b"\x08" + s(v)  # noqa: E731
CORRELATION = lambda v: b"\x09" + s(v)  # noqa: E731


# ---- a raw client -------------------------------------------------------------
class Client:
    def __init__(self, port, v=5, cid="c", do_connect=True):
        self.v = v
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.buf = b""
        self.raw = b""  # every byte received, for decode
        if do_connect:
            self.send(connect(v, cid))
            t, _, _ = self.expect(0x20)

    def send(self, data):
        self.sock.sendall(data)

    def packet(self, timeout=2.0):
        """Next packet as (type nibble, first byte, body), or None on timeout/EOF."""
        end = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf) and i <= 4:
                    n += (self.buf[i] & 0x7F) * mult
                    mult *= 128
                    if not self.buf[i] & 0x80:
                        break
                    i += 1
                if i < len(self.buf) and len(self.buf) >= i + 1 + n:
                    first, body = self.buf[0], self.buf[i + 1 : i + 1 + n]
                    self.buf = self.buf[i + 1 + n :]
                    return first & 0xF0, first, body
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return None
            if not data:
                return None
            self.buf += data
            self.raw += data

    def expect(self, kind, timeout=2.0):
        p = self.packet(timeout)
        if p is None:
            fail("expected packet type 0x%02x, got nothing" % kind)
        if p[0] != kind:
            fail("expected packet type 0x%02x, got 0x%02x" % (kind, p[1]))
        return p

    def close(self):
        self.sock.close()


# ---- a broker ---------------------------------------------------------------
class Broker:
    def __init__(self, bugs):
        env = dict(os.environ)
        # LeakSanitizer on: the planted leak stays reachable, so exit is still 0
        env["ASAN_OPTIONS"] = "detect_leaks=1"
        self.p = subprocess.Popen([BROKER, "--port", "0", "--bugs", bugs],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        line = self.p.stdout.readline().decode()
        if not line.startswith("listening on 127.0.0.1:"):
            self.p.kill()
            fail("broker (--bugs %s) did not start: %r %s" % (bugs, line, self.p.stderr.read()))
        self.port = int(line.rsplit(":", 1)[1])
        self.bugs = bugs

    def stop(self):
        """SIGTERM; returns (exit code, stderr)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("broker (--bugs %s) ignored SIGTERM" % self.bugs)
        return rc, self.p.stderr.read().decode(errors="replace")

    def rss_kib(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.p.pid))


def decodes(raw, v):
    r = subprocess.run([MQCHECK, "decode", "--version", "5" if v == 5 else "3.1.1",
                        "--from", "server", raw.hex()], capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


# ---- the checks -------------------------------------------------------------
def ping_ok(port, v=5, cid="prober", timeout=1.0):
    try:
        c = Client(port, v, cid, do_connect=False)
        c.send(connect(v, cid))
        p = c.packet(timeout)
        if p is None or p[0] != 0x20:
            return False
        c.send(PINGREQ)
        p = c.packet(timeout)
        c.close()
        return p is not None and p[0] == 0xD0
    except OSError:
        return False


def near_misses(port):
    """The seeds next to each fault, and one mutation short of it: nothing fires."""
    for v in (4, 5):
        # 3.10-unsubscribe/inflight-completes: SUBSCRIBE t, UNSUBSCRIBE t, PUBACK, PINGREQ
        c = Client(port, v, "near%d" % v)
        c.send(subscribe(v, 1, "n/t", 1))
        c.expect(0x90)
        c.send(unsubscribe(v, 4, "n/t"))
        c.expect(0xB0)
        c.send(ack(0x40, 9) + PINGREQ)
        c.expect(0xD0)
        # SUBSCRIBE a, UNSUBSCRIBE b, PINGREQ: not the same filter
        c.send(subscribe(v, 2, "n/a", 0))
        c.expect(0x90)
        c.send(unsubscribe(v, 3, "n/b"))
        c.expect(0xB0)
        c.send(PINGREQ)
        c.expect(0xD0)
        c.close()
    for v in (4, 5):  # 2-packet-ids/acks-echo-packet-id: SUBSCRIBE 0x7f01; 0x7fff
        c = Client(port, v, "near-id%d" % v)
        for pid in (0x7F01, 0x7FFF):
            c.send(subscribe(v, pid, "n/i", 2))
            c.expect(0x90)
        ok, out = decodes(c.raw, v)
        if not ok:
            fail("near misses: server bytes do not decode: " + out)
        c.close()
    c = Client(port, 5, "near-props")
    # request-response (Response Topic and 3 bytes of Correlation Data), the
    # Correlation Data as long as Response Topic + 1, and 1 byte of it alone
    c.send(publish(5, "n/x", b"req", 1, 6, RESPONSE_TOPIC("n/reply") + CORRELATION(b"\x00\xff\x10")))
    c.expect(0x40)
    c.send(publish(5, "n/x", b"both", 1, 7, RESPONSE_TOPIC("ab") + CORRELATION(b"xyz")))
    c.expect(0x40)
    c.send(publish(5, "n/x", b"ct", 1, 8, CONTENT_TYPE("ab") + CORRELATION(b"c")))
    c.expect(0x40)
    c.send(PINGREQ)
    c.expect(0xD0)
    ok, out = decodes(c.raw, 5)
    if not ok:
        fail("near misses: server bytes do not decode: " + out)
    c.close()


# The seeds each fault sits next to (docs/netfuzz-planted.md).
NEAR_SEEDS = ["3.10-unsubscribe/inflight-completes.yaml", "5-features/request-response.yaml",
              "2-packet-ids/acks-echo-packet-id.yaml", "4.3-qos/qos2-outbound.yaml"]


def seeds_pass(port):
    """The scenarios next to the faults pass, run by `mqcheck run` itself."""
    suite = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "suite")
    r = subprocess.run([MQCHECK, "run", "--no-probe", "--target", "tcp://127.0.0.1:%d" % port]
                       + [os.path.join(suite, f) for f in NEAR_SEEDS],
                       capture_output=True, text=True, timeout=30)
    last = (r.stdout.strip().splitlines() or [""])[-1]
    if r.returncode != 0 or " 0 failed" not in last:
        fail("seed scenarios against --bugs all: exit %d: %s" % (r.returncode, r.stdout[-1500:]))
    return last


def badwire(port, planted, v):
    c = Client(port, v, "bw%d" % v)
    c.send(subscribe(v, 0x8000, "bw/t", 1))
    p = c.expect(0x90)
    ok, out = decodes(c.raw, v)
    if planted and ok:
        fail("badwire: SUBACK %s decodes, expected a rejection" % p[2].hex())
    if planted and "MQTT-3.9.3-2" not in out:
        fail("badwire: decode error does not name MQTT-3.9.3-2: " + out)
    if not planted and not ok:
        fail("badwire with --bugs none: " + out)
    c.close()
    return out


def qos2loss(port, v):
    sub = Client(port, v, "q2sub%d" % v)
    sub.send(subscribe(v, 1, "q2/t", 2))
    sub.expect(0x90)
    pub = Client(port, v, "q2pub%d" % v)
    for i in range(1, 26):  # the publisher's flows all complete
        pub.send(publish(v, "q2/t", b"m%d" % i, 2, i))
        pub.expect(0x50)
        pub.send(ack(0x62, i))
        pub.expect(0x70)
    got = 0
    while sub.packet(0.5 if got >= 20 else 2.0) is not None:  # never answered
        got += 1
    sub.close()
    pub.close()
    return got


def leak(b):
    """RSS and descriptor growth over LEAK_CONNS connections. Closes of earlier
    clients may still be under way on either side: +-3 descriptors of slack."""
    ping_ok(b.port)
    before_rss, before_fd = b.rss_kib(), b.fds()
    for i in range(LEAK_CONNS):
        Client(b.port, 5, "leak%d" % i).close()
    ping_ok(b.port)  # every close has been processed by now
    time.sleep(0.1)
    return b.rss_kib() - before_rss, b.fds() - before_fd


def hang_sequence(port, v):
    c = Client(port, v, "hang%d" % v)
    c.send(subscribe(v, 1, "h/t", 0))
    c.expect(0x90)
    c.send(unsubscribe(v, 2, "h/t"))
    c.expect(0xB0)
    c.send(PINGREQ)
    p = c.packet(1.0)
    c.close()
    return p is not None and p[0] == 0xD0


def main():
    results = []
    # -- instance 1: every fault armed -----------------------------------------
    b = Broker("all")
    near_misses(b.port)
    results.append("near misses fire nothing")
    results.append("seeds: " + seeds_pass(b.port))
    for v in (4, 5):
        out = badwire(b.port, True, v)
    results.append("badwire (3.1.1 and 5.0): " + out.splitlines()[-1][:100])
    for v in (4, 5):
        got = qos2loss(b.port, v)
        if got != 20:
            fail("qos2loss (v%d): subscriber got %d of 25, expected 20" % (v, got))
    results.append("qos2loss: 20 of 25 QoS 2 delivered (3.1.1 and 5.0)")
    rss, fds = leak(b)
    if fds < LEAK_CONNS - 3 or rss < LEAK_CONNS * 64 * 9 // 10:
        fail("leak: %d connections grew fds by %d, RSS by %d KiB" % (LEAK_CONNS, fds, rss))
    results.append("leak: %d connections: +%d fds, +%d KiB RSS" % (LEAK_CONNS, fds, rss))
    if hang_sequence(b.port, 4):
        fail("hang: PINGRESP after SUBSCRIBE, UNSUBSCRIBE, PINGREQ")
    if ping_ok(b.port, cid="second"):
        fail("hang: a second client is still served")
    try:  # the listening socket is still open
        socket.create_connection(("127.0.0.1", b.port), timeout=1).close()
    except OSError as e:
        fail("hang: the listening socket no longer accepts: %s" % e)
    if b.p.poll() is not None:
        fail("hang: the broker exited")
    results.append("hang: no PINGRESP within 1 s, listener open, process alive")
    rc, err = b.stop()
    if rc != 0:
        fail("--bugs all: exit %d after SIGTERM: %s" % (rc, err[-500:]))
    for name in ("badwire", "qos2loss", "hang"):
        if "%s triggered" % name not in err:
            fail("stderr does not report %s: %s" % (name, err[-500:]))

    # -- instance 2: the overflow ------------------------------------------------
    b = Broker("overflow")
    c = Client(b.port, 5, "ovf")
    c.send(publish(5, "o/t", b"x", 0, 0, CONTENT_TYPE("ab") + CORRELATION(b"c" * 40)))
    c.send(PINGREQ)
    c.packet(2.0)
    c.close()
    try:
        rc = b.p.wait(5)
    except subprocess.TimeoutExpired:
        fail("overflow: the broker survived")
    err = b.p.stderr.read().decode(errors="replace")
    if rc == 0 or "heap-buffer-overflow" not in err:
        fail("overflow: exit %d, no heap-buffer-overflow report: %s" % (rc, err[-800:]))
    results.append("overflow: exit %d, ASan heap-buffer-overflow" % rc)

    # -- instance 3: no fault ----------------------------------------------------
    b = Broker("none")
    near_misses(b.port)
    badwire(b.port, False, 4)
    badwire(b.port, False, 5)
    for v in (4, 5):
        got = qos2loss(b.port, v)
        if got != 25:
            fail("--bugs none: subscriber got %d of 25 QoS 2 (v%d)" % (got, v))
    c = Client(b.port, 5, "ovf")
    c.send(publish(5, "o/t", b"x", 1, 3, CORRELATION(b"c" * 40)))
    c.expect(0x40)
    c.close()
    rss, fds = leak(b)
    if fds > 3 or rss > LEAK_CONNS * 64 // 2:
        fail("--bugs none leaks: +%d fds, +%d KiB RSS over %d connections" % (fds, rss, LEAK_CONNS))
    if not hang_sequence(b.port, 5) or not ping_ok(b.port):
        fail("--bugs none: hang sequence stopped the broker")
    rc, err = b.stop()
    if rc != 0 or "triggered" in err:
        fail("--bugs none: exit %d, stderr: %s" % (rc, err[-500:]))
    results.append("--bugs none: nothing fires (+%d fds, +%d KiB RSS), exit 0" % (fds, rss))
    for r in results:
        print("ok  " + r)


if __name__ == "__main__":
    main()
