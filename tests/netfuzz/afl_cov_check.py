#!/usr/bin/python3
"""afl_cov_check.py PLANTED_BROKER_AFL - the AFL++-instrumented planted broker
writes edge coverage into the fuzzer's shared-memory map while it serves
connections, and runs normally without one.

1. Without __AFL_SHM_ID (and without a forkserver): it starts, answers a
   CONNECT, and exits 0 on SIGTERM.
2. With __AFL_SHM_ID naming a fresh 65536-byte SysV segment: after startup the
   map has some edges; a session (CONNECT, SUBSCRIBE, PUBLISH QoS 1, delivery)
   adds more; a different session (5.0, QoS 2 flow) adds more again. Exits 0
   on SIGTERM. The segment is removed afterwards.
Prints the edge counts. Exit 0 when all hold, 1 otherwise.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail, varint  # noqa: E402

BROKER = sys.argv[1]
MAP_SIZE = 65536
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0

libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]




def s(b):
    b = b.encode() if isinstance(b, str) else b
    return len(b).to_bytes(2, "big") + b


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def read_packets(sock, count):
    """Reads until count packets arrived (or 2 s passed); returns their first bytes."""
    sock.settimeout(2)
    buf, firsts = b"", []
    while len(firsts) < count:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 2 and len(buf) >= 2 + buf[1]:  # all packets here are < 128 bytes
            firsts.append(buf[0])
            buf = buf[2 + buf[1]:]
    return firsts


def session(port, v):
    props = b"\x00" if v == 5 else b""
    c = socket.create_connection(("127.0.0.1", port), timeout=2)
    qos = 1 if v == 4 else 2
    c.sendall(pkt(0x10, s("MQTT") + bytes([v, 2, 0, 60]) + props + s("cov%d" % v)))
    c.sendall(pkt(0x82, b"\x00\x01" + props + s("cov/t") + bytes([qos])))
    c.sendall(pkt(0x30 | (qos << 1), s("cov/t") + b"\x00\x02" + props + b"hi"))
    got = read_packets(c, 4)  # CONNACK, SUBACK, PUBACK/PUBREC, PUBLISH (either order)
    c.close()
    if len(got) < 4 or got[0] != 0x20:
        fail("v%d session: got %s" % (v, [hex(x) for x in got]))


def start(env):
    p = subprocess.Popen([BROKER, "--port", "0", "--bugs", "none"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on 127.0.0.1:"):
        p.kill()
        fail("broker did not start: %r %s" % (line, p.stderr.read()))
    return p, int(line.rsplit(":", 1)[1])


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("broker ignored SIGTERM")
    if rc != 0:
        fail("broker exit %d: %s" % (rc, p.stderr.read().decode(errors="replace")[-400:]))


def main():
    env = {k: v for k, v in os.environ.items() if not k.startswith("__AFL")}
    p, port = start(env)
    session(port, 4)
    stop(p)
    print("ok  runs without __AFL_SHM_ID and without a forkserver")

    shm = libc.shmget(IPC_PRIVATE, MAP_SIZE, IPC_CREAT | 0o600)
    if shm < 0:
        fail("shmget: errno %d" % ctypes.get_errno())
    try:
        addr = libc.shmat(shm, None, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            fail("shmat: errno %d" % ctypes.get_errno())

        def edges():
            return sum(1 for b in ctypes.string_at(addr, MAP_SIZE) if b)

        env["__AFL_SHM_ID"] = str(shm)
        p, port = start(env)
        at_start = edges()
        session(port, 4)
        after_311 = edges()
        session(port, 5)
        after_5 = edges()
        stop(p)
        libc.shmdt(ctypes.c_void_p(addr))
    finally:
        libc.shmctl(shm, IPC_RMID, None)
    print("ok  edges in the map: %d after startup, %d after a 3.1.1 session, %d after a 5.0 one"
          % (at_start, after_311, after_5))
    if not 0 < at_start < after_311 < after_5:
        fail("coverage did not grow while serving")


if __name__ == "__main__":
    main()
