#!/usr/bin/python3
"""Broken MQTT brokers for tests/suite/stubs.sh: a suite run against them must
earn no pass.

  stub-broker.py PORT close      accept TCP, close every connection at once
  stub-broker.py PORT stall      answer each CONNECT with CONNACK 0, then say nothing
  stub-broker.py PORT stall311   the same for 3.1.1; refuse 5.0 (CONNACK 0x01, close)
  stub-broker.py PORT ka:F       a keep-alive that closes F x Keep Alive after the last
                                 packet (answers CONNECT and PINGREQ), for the tolerance
  stub-broker.py PORT hold       a tiny 3.1.1 broker (exact topics, QoS 0 to 2) that holds
                                 every topic's stream 300 ms, then delivers it in order: a
                                 late delivery a 200 ms timer misses and a fence catches
"""
import queue
import socket
import sys
import threading
import time


def read_packet(conn):
    """One MQTT packet (first byte, body) or None at end of stream."""
    head = conn.recv(1)
    if not head:
        return None
    length, shift = 0, 0
    for _ in range(4):
        b = conn.recv(1)
        if not b:
            return None
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head[0], body


def keepalive(conn, factor):
    """Answers CONNECT and PINGREQ; closes factor x Keep Alive after the last packet."""
    pkt = read_packet(conn)
    if not pkt or pkt[0] >> 4 != 1:
        return
    body = pkt[1]
    name_len = int.from_bytes(body[0:2], "big")
    level = body[2 + name_len]
    ka = int.from_bytes(body[4 + name_len:6 + name_len], "big")
    conn.sendall(bytes([0x20, 3, 0, 0, 0]) if level == 5 else bytes([0x20, 2, 0, 0]))
    while True:
        conn.settimeout(ka * factor if ka else None)
        try:
            pkt = read_packet(conn)
        except socket.timeout:
            return
        if not pkt:
            return
        if pkt[0] >> 4 == 12:
            conn.sendall(bytes([0xD0, 0]))


def encode_length(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


class Hold:
    """Routes PUBLISH by exact topic at min(publish, granted) QoS, each delivery
    300 ms late, in order. Acknowledges publishers at once (PUBACK, or PUBREC
    then PUBCOMP on PUBREL) and completes QoS 2 toward subscribers (PUBREL on
    PUBREC); it never resends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.subs = {}  # topic -> [(conn, granted qos)]
        self.send_locks = {}  # conn -> lock: the worker and serve() both write
        self.next_pid = {}  # conn -> last packet id used toward it
        self.queue = queue.Queue()
        threading.Thread(target=self.worker, daemon=True).start()

    def send(self, conn, data):
        with self.lock:
            lock = self.send_locks.setdefault(conn, threading.Lock())
        with lock:
            try:
                conn.sendall(data)
            except OSError:
                pass

    def worker(self):
        # one FIFO: every delivery 300 ms late, and in the order published
        while True:
            due, topic, qos, payload, targets = self.queue.get()
            time.sleep(max(0.0, due - time.monotonic()))
            for conn, granted in targets:
                q = min(qos, granted)
                body = len(topic).to_bytes(2, "big") + topic
                if q:
                    with self.lock:
                        pid = self.next_pid.get(conn, 0) % 65535 + 1
                        self.next_pid[conn] = pid
                    body += pid.to_bytes(2, "big")
                body += payload
                self.send(conn, bytes([0x30 | q << 1]) + encode_length(len(body)) + body)

    def serve(self, conn):
        pkt = read_packet(conn)
        if not pkt or pkt[0] >> 4 != 1:
            return
        self.send(conn, bytes([0x20, 2, 0, 0]))
        while True:
            pkt = read_packet(conn)
            if not pkt:
                return
            first, body = pkt
            kind = first >> 4
            if kind == 8:  # SUBSCRIBE: one filter, granted the QoS asked (at most 2)
                pid = body[0:2]
                n = int.from_bytes(body[2:4], "big")
                granted = min(body[4 + n], 2)
                with self.lock:
                    self.subs.setdefault(body[4:4 + n], []).append((conn, granted))
                self.send(conn, bytes([0x90, 3]) + pid + bytes([granted]))
            elif kind == 3:  # PUBLISH
                qos = first >> 1 & 3
                n = int.from_bytes(body[0:2], "big")
                topic = body[2:2 + n]
                payload = body[2 + n + (2 if qos else 0):]
                with self.lock:
                    targets = list(self.subs.get(topic, []))
                self.queue.put((time.monotonic() + 0.3, topic, qos, payload, targets))
                if qos == 1:
                    self.send(conn, bytes([0x40, 2]) + body[2 + n:4 + n])
                elif qos == 2:
                    self.send(conn, bytes([0x50, 2]) + body[2 + n:4 + n])
            elif kind == 6:  # PUBREL from a publisher: PUBCOMP
                self.send(conn, bytes([0x70, 2]) + body[0:2])
            elif kind == 5:  # PUBREC from a subscriber: PUBREL
                self.send(conn, bytes([0x62, 2]) + body[0:2])
            elif kind == 12:
                self.send(conn, bytes([0xD0, 0]))
            elif kind == 14:
                return


HOLD = Hold()


def serve(conn, mode):
    try:
        if mode == "close":
            return
        if mode.startswith("ka:"):
            keepalive(conn, float(mode[3:]))
            return
        if mode == "hold":
            HOLD.serve(conn)
            return
        pkt = read_packet(conn)
        if not pkt or pkt[0] >> 4 != 1:
            return
        body = pkt[1]
        name_len = int.from_bytes(body[0:2], "big")
        level = body[2 + name_len]
        if level == 5 and mode == "stall311":
            conn.sendall(bytes([0x20, 2, 0, 1]))
            return
        conn.sendall(bytes([0x20, 3, 0, 0, 0]) if level == 5 else bytes([0x20, 2, 0, 0]))
        while read_packet(conn):  # silent from now on
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(256)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
