#!/usr/bin/python3
"""serve_check.py MQCHECK CASE - live checks of `mqcheck serve` with raw MQTT
bytes on loopback (no client library, so nothing hides what goes on the wire).

  slow-reader  one client publishes QoS 1 flat out and never reads; serve must
               pause reading it (back-pressure), keep its memory bounded (the
               STATS lines), keep the connection open, and go on serving a
               second client whose round trips must stay fast.
  scale        N (default 2000, env MQC_SCALE_CONNS) concurrent connections all
               CONNECT, SUBSCRIBE and receive one message; bounded time.

Each case starts its own serve on a free port and always stops it.
Exit status 0 on success; the reason of a failure is printed.
"""
import os
import re
import resource
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(b):
    return struct.pack(">H", len(b)) + b


def connect_pkt(cid, keepalive=0, clean=True):
    body = s(b"MQTT") + bytes([4, 0x02 if clean else 0]) + struct.pack(">H", keepalive) + \
        s(cid.encode())
    return bytes([0x10]) + varint(len(body)) + body


def subscribe_pkt(pid, topic, qos):
    body = struct.pack(">H", pid) + s(topic.encode()) + bytes([qos])
    return bytes([0x82]) + varint(len(body)) + body


def publish_pkt(topic, payload, qos=0, pid=1):
    body = s(topic.encode()) + (struct.pack(">H", pid) if qos else b"") + payload
    return bytes([0x30 | qos << 1]) + varint(len(body)) + body


def recv_packet(sock, deadline):
    """One whole packet (type byte, body) or raises on timeout/EOF."""
    def need(n):
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no packet in time")
            sock.settimeout(left)
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed by serve")
            buf += chunk
        return buf
    first = need(1)[0]
    mult, rem = 1, 0
    for _ in range(4):
        b = need(1)[0]
        rem += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first, need(rem) if rem else b""


def expect(sock, ptype, deadline):
    first, body = recv_packet(sock, deadline)
    if first >> 4 != ptype:
        raise AssertionError(f"expected packet type {ptype}, got {first >> 4} ({body[:16].hex()})")
    return body


def free_port():
    with socket.socket() as t:
        t.bind(("127.0.0.1", 0))
        return t.getsockname()[1]


class Serve:
    def __init__(self, mqcheck, args, config=None):
        self.dir = tempfile.mkdtemp(prefix="mqc-serve-")
        self.log = os.path.join(self.dir, "serve.log")
        cmd = [mqcheck, "serve"] + args
        if config:
            path = os.path.join(self.dir, "serve.conf")
            with open(path, "w") as f:
                f.write(config)
            cmd += ["--config", path]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while "listening" not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("serve did not start:\n" + self.text())
            time.sleep(0.05)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def dial(port, cid, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_pkt(cid))
    body = expect(sock, 2, time.monotonic() + timeout)
    if body[1] != 0:
        raise AssertionError(f"{cid}: CONNACK return code {body[1]}")
    return sock


def stats(text):
    return [dict(re.findall(r"(\w+)=(\d+)", line)) for line in text.splitlines() if "STATS" in line]


def case_slow_reader(mqcheck):
    port = free_port()
    cap = 64 * 1024
    srv = Serve(mqcheck, ["--listen", f"127.0.0.1:{port}", "--quiet", "--stats", "200"],
                config=f"max_output_bytes {cap}\n")
    try:
        flood = socket.create_connection(("127.0.0.1", port), timeout=5)
        # a small receive buffer so the flood's PUBACKs back up quickly
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        flood.sendall(connect_pkt("flooder"))
        expect(flood, 2, time.monotonic() + 5)
        flood.setblocking(False)
        good = dial(port, "good")
        good.sendall(subscribe_pkt(1, "rt/#", 1))
        expect(good, 9, time.monotonic() + 5)
        pkt = publish_pkt("f", b"", qos=1, pid=7)
        batch = pkt * 2048
        sent = 0
        pending = b""
        worst = 0.0
        trips = 0
        t_end = time.monotonic() + 4.0
        while time.monotonic() < t_end:
            # flood: keep the socket's send buffer full, never read
            for _ in range(64):
                data = pending or batch
                try:
                    k = flood.send(data)
                except BlockingIOError:
                    break
                sent += k
                pending = data[k:]
            # the other client still gets service
            t0 = time.monotonic()
            good.sendall(publish_pkt("rt/x", b"ping%d" % trips, qos=1, pid=(trips % 60000) + 1))
            got_ack = got_msg = False
            deadline = t0 + 2.0
            while not (got_ack and got_msg):
                first, body = recv_packet(good, deadline)
                if first >> 4 == 4:
                    got_ack = True
                elif first >> 4 == 3:
                    got_msg = True
                    if first & 6:  # QoS 1 delivery: acknowledge it
                        plen = struct.unpack(">H", body[:2])[0]
                        good.sendall(bytes([0x40, 2]) + body[2 + plen:4 + plen])
            worst = max(worst, time.monotonic() - t0)
            trips += 1
        time.sleep(0.5)  # one more STATS line after the flood
        st = stats(srv.text())
        if not st:
            raise AssertionError("no STATS lines from serve:\n" + srv.text()[-2000:])
        peak = max(int(x["max_conn_buf"]) for x in st)
        alloc = max(int(x["bytes_allocated"]) for x in st)
        pauses = max(int(x["pauses"]) for x in st)
        print(f"flooder sent {sent} bytes ({sent // len(pkt)} PUBLISH) without reading; "
              f"{trips} round trips by another client, worst {worst * 1000:.1f} ms; "
              f"serve: peak per-connection buffers {peak} bytes, engine bytes_allocated "
              f"peak {alloc}, read pauses {pauses}")
        # bounded: net tx_cap 256 KiB + engine output cap + held input
        # (one 64 KiB read) + slack for buffer growth by doubling
        bound = 256 * 1024 + 2 * cap + 2 * 65536 + 64 * 1024
        if pauses < 1:
            raise AssertionError("serve never paused reading the flooder")
        if peak > bound:
            raise AssertionError(f"per-connection buffers {peak} > bound {bound}")
        if alloc > 4 * bound:
            raise AssertionError(f"engine allocation {alloc} > {4 * bound}")
        if sent < 4 * bound:
            raise AssertionError(f"flood too small to prove anything ({sent} bytes)")
        if trips < 20 or worst > 1.0:
            raise AssertionError(f"other client starved: {trips} trips, worst {worst:.3f} s")
        # the flooder was throttled, not thrown out: it can still talk
        flood.setblocking(True)
        flood.settimeout(5)
        try:
            flood.recv(1)
        except (ConnectionResetError, socket.timeout) as e:
            raise AssertionError(f"flooder connection broken: {e}")
        if "LIMIT" in srv.text() and "does not read" in srv.text():
            raise AssertionError("engine had to close the flooder: serve did not pace it")
        flood.close()
        good.close()
    finally:
        srv.stop()
    return 0


def case_scale(mqcheck):
    n = int(os.environ.get("MQC_SCALE_CONNS", "2000"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            print(f"skip: RLIMIT_NOFILE hard limit {hard} < {want} (ulimit -Hn)")
            return 77
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    port = free_port()
    srv = Serve(mqcheck, ["--listen", f"127.0.0.1:{port}", "--quiet", "--stats", "1000"])
    socks = []
    try:
        t0 = time.monotonic()
        # connect and subscribe in pipelined batches: all of them are open
        # at once by the end
        batch = 200
        for base in range(0, n, batch):
            group = []
            for i in range(base, min(n, base + batch)):
                sk = socket.create_connection(("127.0.0.1", port), timeout=10)
                sk.sendall(connect_pkt(f"c{i}") + subscribe_pkt(1, "scale/all", 0))
                group.append(sk)
            for sk in group:
                expect(sk, 2, time.monotonic() + 10)
                expect(sk, 9, time.monotonic() + 10)
            socks += group
        t_conn = time.monotonic() - t0
        pub = dial(port, "scale-pub")
        t1 = time.monotonic()
        pub.sendall(publish_pkt("scale/all", b"hello", qos=0))
        got = 0
        for sk in socks:
            body = expect(sk, 3, time.monotonic() + 10)
            if not body.endswith(b"hello"):
                raise AssertionError("wrong payload")
            got += 1
        t_fan = time.monotonic() - t1
        print(f"{n} connections connected+subscribed in {t_conn:.2f} s "
              f"({n / t_conn:.0f}/s); one PUBLISH reached all {got} in {t_fan * 1000:.1f} ms")
        st = stats(srv.text())
        if st:
            print("serve:", [l for l in srv.text().splitlines() if "STATS" in l][-1])
        pub.close()
    finally:
        for sk in socks:
            sk.close()
        srv.stop()
    return 0


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    mqcheck, case = sys.argv[1], sys.argv[2]
    cases = {"slow-reader": case_slow_reader, "scale": case_scale}
    try:
        return cases[case](mqcheck)
    except Exception as e:  # a failure with its reason, not a traceback wall
        print(f"FAIL {case}: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
