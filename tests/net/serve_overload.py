#!/usr/bin/python3
"""serve_overload.py MQCHECK CASE - `mqcheck serve` under overload, driven by
`mqcheck bench load` (open loop: publishers write as fast as TCP takes it).
Not timed: the checks are on counts, order and memory, never on rates.

  qos1-flood   1 -> 50 QoS 1, 64 in flight, past a small queue cap
               (max_queued 100): no acknowledged message is lost or
               duplicated, and serve's engine memory peak (STATS bytes_peak)
               stays under the bound docs/engine.md states:
               connections x (2 x max_output_bytes + one 64 KiB read)
               + the queued messages, and its RSS under 64 MiB.
  qos0-flood   1 -> 1 QoS 0: deliveries arrive while the publisher is still
               sending (the first within the first quarter of its run), and
               under the default back-pressure policy nothing is dropped.
  policies     1 -> 20 QoS 0 and QoS 1 under `overload drop` and `drop-qos0`
               with max_queued 10 (back-pressure: qos0-flood, qos1-flood): what the subscribers miss
               equals serve's drop count (plus what serve never read before
               the load ended, times the subscribers), in total and as the sum
               of the per-session STATS and DROPTOTAL lines; QoS 1 is never lost unless the policy
               is `drop`.

  slow-subscriber
               a QoS 1 subscriber (clean session 0) that never reads holds a
               flooding publisher back; after slow_subscriber_ms (500) serve
               disconnects it (LIMIT "slow subscriber"), the publisher gets
               every PUBACK, and the subscriber's session is kept: it comes
               back with session present and receives its queue.

Each case starts its own serve on a free port and always stops it.
MQC_SERVE_BIN=PATH runs serve from another mqcheck binary (to check that
these cases fail on a serve without back-pressure).
"""
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

from serve_check import connect_pkt, publish_pkt, recv_packet, subscribe_pkt


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Serve:
    def __init__(self, mqcheck, config):
        self.dir = tempfile.mkdtemp(prefix="mqc-overload-")
        conf = os.path.join(self.dir, "serve.conf")
        with open(conf, "w") as f:
            f.write(config)
        for _ in range(3):  # a parallel test may take the free port first
            self.port = free_port()
            self.log = os.path.join(self.dir, "serve.log")
            self.logf = open(self.log, "w")
            self.proc = subprocess.Popen(
                [os.environ.get("MQC_SERVE_BIN", mqcheck), "serve", "--quiet", "--stats", "200", "--config", conf,
                 "--listen", "127.0.0.1:%d" % self.port],
                stdout=self.logf, stderr=subprocess.STDOUT)
            if self.wait_up():
                return
            self.stop()
        raise RuntimeError("serve did not start:\n" + self.text())

    def wait_up(self):
        for _ in range(100):
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def text(self):
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def load(mqcheck, serve, *args):
    cmd = [mqcheck, "bench", "load", "--url", "tcp://127.0.0.1:%d" % serve.port,
           "--broker-pid", str(serve.proc.pid), "--flood"] + list(args)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=60).stdout
    m = re.search(r"^result: (.*)$", out, re.M)
    if not m:
        raise RuntimeError("bench load gave no result:\n" + out)
    r = {}
    for kv in m.group(1).split():
        k, v = kv.split("=", 1)
        r[k] = v if k == "broker" else float(v)
    return r, out


def final_stats(serve):
    """Last STATS line (printed at shutdown) and the per-session drops."""
    text = serve.text()
    lines = re.findall(r"serve: STATS conns=.*", text)
    if not lines:
        raise RuntimeError("no STATS line:\n" + text[-2000:])
    st = dict(kv.split("=", 1) for kv in lines[-1].split()[2:])
    st = {k: int(v) for k, v in st.items()}
    # sessions alive at the end: the lines after the last STATS; sessions
    # that ended: their DROPTOTAL line
    tail = text[text.rfind(lines[-1]):]
    per = [int(n) for n in re.findall(r'STATS dropped client="[^"]*" n=(\d+)', tail)]
    per += [int(n) for n in re.findall(r'DROPTOTAL  client="[^"]*" n=(\d+)', text)]
    return st, per


def asan(mq):
    out = subprocess.run(["ldd", mq], stdout=subprocess.PIPE, universal_newlines=True).stdout
    return "libasan" in out


def fail(msg, *logs):
    print("FAIL:", msg)
    for l in logs:
        print(l[-3000:])
    return 1


def case_qos1_flood(mq):
    max_out = 64 * 1024
    serve = Serve(mq, "max_queued 100\nmax_output_bytes %d\n" % max_out)
    try:
        r, out = load(mq, serve, "--pubs", "1", "--subs", "50", "--qos", "1",
                      "--window", "64", "--duration", "2")
    finally:
        serve.stop()
    st, _ = final_stats(serve)
    print(out)
    if r["published"] < 1000:
        return fail("too little was published to test anything", out)
    if r["loss"] != 0 or r["dups"] != 0:
        return fail("QoS 1 loss %d, duplicates %d" % (r["loss"], r["dups"]), out, serve.text())
    if st["dropped"] != 0:
        return fail("serve dropped %d" % st["dropped"], serve.text())
    conns = 51
    # per connection: output cap + held input (stalled: up to the cap) +
    # one 64 KiB read; messages: each session queue at most max_queued +
    # one per connection + 64 in flight, at ~250 bytes with its entry
    bound = conns * (2 * max_out + 65536) + 50 * (100 + conns + 64) * 250
    print("engine bytes_peak %d, bound %d; serve peak RSS %d KiB" %
          (st["bytes_peak"], bound, r["rss_kb"]))
    if st["bytes_peak"] > bound:
        return fail("engine peak %d over the bound %d" % (st["bytes_peak"], bound))
    if asan(mq):
        print("RSS not checked: ASan build (shadow memory)")
    elif r["rss_kb"] > 64 * 1024:
        return fail("serve peak RSS %d KiB over 64 MiB" % r["rss_kb"])
    return 0


def case_qos0_flood(mq):
    serve = Serve(mq, "# defaults: overload backpressure\n")
    try:
        r, out = load(mq, serve, "--pubs", "1", "--subs", "1", "--qos", "0",
                      "--duration", "2")
    finally:
        serve.stop()
    st, _ = final_stats(serve)
    print(out)
    if r["published"] < 1000:
        return fail("too little was published to test anything", out)
    if r["first_ms"] < 0 or r["first_ms"] > r["pub_ms"] / 4:
        return fail("first delivery at %.1f ms of a %.0f ms run" % (r["first_ms"], r["pub_ms"]))
    if r["loss"] != 0 or st["dropped"] != 0:
        return fail("loss %d, serve dropped %d under back-pressure" % (r["loss"], st["dropped"]),
                    serve.text())
    return 0


def case_policies(mq):
    bad = 0
    for policy, qos in (("drop", 0), ("drop", 1), ("drop-qos0", 0), ("drop-qos0", 1)):
        if True:
            serve = Serve(mq, "overload %s\nmax_queued 10\nmax_output_bytes 4096\n" % policy)
            try:
                r, out = load(mq, serve, "--pubs", "1", "--subs", "20", "--qos", str(qos),
                              "--duration", "1", "--drain", "1500")
            finally:
                serve.stop()
            st, per = final_stats(serve)
            print("policy %-12s qos %d: published %d, subscribers missed %d, serve dropped %d "
                  "(sessions: %d, sum %d)" % (policy, qos, r["published"], r["loss"],
                                              st["dropped"], len(per), sum(per)))
            if r["dups"]:
                bad += fail("duplicates %d" % r["dups"], out)
            # a message the publisher wrote but serve had not read when the
            # load ended is missed by every subscriber without being dropped
            unread = int(r["published"]) - st["msgs_in"]
            if unread < 0 or r["loss"] != st["dropped"] + unread * 20 or sum(per) != st["dropped"]:
                bad += fail("missed %d != dropped %d + unread %d x 20 (per session %d)" %
                            (r["loss"], st["dropped"], unread, sum(per)), out, serve.text())
            if policy != "drop" and qos == 1 and r["loss"]:
                bad += fail("QoS 1 lost under %s" % policy)
            if policy == "backpressure" and st["dropped"]:
                bad += fail("dropped under back-pressure")
    return 1 if bad else 0


def case_slow_subscriber(mq):
    serve = Serve(mq, "max_queued 100\nmax_output_bytes 16384\nslow_subscriber_ms 500\n")
    try:
        sub = socket.socket()
        sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sub.connect(("127.0.0.1", serve.port))
        sub.sendall(connect_pkt("slowsub", 60, clean=False))
        first, body = recv_packet(sub, time.monotonic() + 5)
        if first != 0x20:
            return fail("no CONNACK for the subscriber")
        sub.sendall(subscribe_pkt(1, "s/#", 1))
        if recv_packet(sub, time.monotonic() + 5)[0] != 0x90:
            return fail("no SUBACK")
        # from now on the subscriber reads nothing
        pub = socket.create_connection(("127.0.0.1", serve.port), 5)
        pub.sendall(connect_pkt("flooder", 60))
        recv_packet(pub, time.monotonic() + 5)
        n = 3000
        payload = b"x" * 200
        out = b"".join(publish_pkt("s/x", payload, 1, i % 65535 + 1) for i in range(n))
        pub.setblocking(False)
        acks, sent, t0 = 0, 0, time.monotonic()
        rx = b""
        while acks < n and time.monotonic() - t0 < 20:
            w = [pub] if sent < len(out) else []
            r, w, _ = select.select([pub], w, [], 0.2)
            if w:
                try:
                    sent += pub.send(out[sent:sent + 65536])
                except BlockingIOError:
                    pass
            if r:
                chunk = pub.recv(65536)
                if not chunk:
                    return fail("serve closed the publisher", serve.text())
                rx += chunk
                k = len(rx) // 4 * 4  # PUBACKs only: 4 bytes each
                acks += rx[:k].count(b"\x40\x02")
                rx = rx[k:]
        took = time.monotonic() - t0
        print("publisher: %d of %d PUBACKs in %.1f s" % (acks, n, took))
        if acks < n:
            return fail("publisher frozen behind a subscriber that does not read", serve.text())
        # the subscriber was disconnected: its socket ends (after what was sent)
        sub.setblocking(True)
        sub.settimeout(5)
        closed = False
        t1 = time.monotonic()
        while time.monotonic() - t1 < 8:
            try:
                if not sub.recv(65536):
                    closed = True
                    break
            except (ConnectionResetError, socket.timeout):
                closed = True
                break
        if not closed:
            return fail("slow subscriber not disconnected", serve.text())
        if "slow subscriber" not in serve.text():
            return fail("no LIMIT event for the slow subscriber", serve.text())
        # its session was kept, with its queue
        sub2 = socket.create_connection(("127.0.0.1", serve.port), 5)
        sub2.sendall(connect_pkt("slowsub", 60, clean=False))
        first, body = recv_packet(sub2, time.monotonic() + 5)
        if first != 0x20 or body[0] != 1:
            return fail("session not kept (CONNACK %r)" % body)
        got = 0
        try:
            while True:
                f, b = recv_packet(sub2, time.monotonic() + 2)
                if f >> 4 == 3:
                    got += 1
                    sub2.sendall(b"\x40\x02" + b[5:7])
        except TimeoutError:
            pass
        print("resumed subscriber received %d queued messages" % got)
        if got == 0:
            return fail("nothing queued for the kept session")
        pub.close()
        sub2.close()
    finally:
        serve.stop()
    return 0


def main():
    mq, case = sys.argv[1], sys.argv[2]
    cases = {"qos1-flood": case_qos1_flood, "qos0-flood": case_qos0_flood,
             "policies": case_policies, "slow-subscriber": case_slow_subscriber}
    return cases[case](mq)


if __name__ == "__main__":
    sys.exit(main())
