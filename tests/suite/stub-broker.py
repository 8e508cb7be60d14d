#!/usr/bin/python3
"""Broken MQTT brokers for tests/suite/stubs.sh: a suite run against them must
earn no pass.

  stub-broker.py PORT close      accept TCP, close every connection at once
  stub-broker.py PORT stall      answer each CONNECT with CONNACK 0, then say nothing
  stub-broker.py PORT stall311   the same for 3.1.1; refuse 5.0 (CONNACK 0x01, close)
  stub-broker.py PORT ka:F       a keep-alive that closes F x Keep Alive after the last
                                 packet (answers CONNECT and PINGREQ), for the tolerance
  stub-broker.py PORT hold       a tiny 3.1.1 broker (exact topics, QoS 0) that holds every
                                 topic's stream 300 ms, then delivers it in order: a late
                                 delivery a 200 ms timer misses and a fence catches
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


class Hold:
    """Routes QoS 0 PUBLISH by exact topic, each delivery 300 ms late, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.subs = {}  # topic -> [conn]
        self.queue = queue.Queue()
        threading.Thread(target=self.worker, daemon=True).start()

    def deliver_later(self, pkt_bytes, targets):
        self.queue.put((time.monotonic() + 0.3, pkt_bytes, targets))

    def worker(self):
        # one FIFO: every delivery 300 ms late, and in the order published
        while True:
            due, pkt_bytes, targets = self.queue.get()
            time.sleep(max(0.0, due - time.monotonic()))
            for c in targets:
                try:
                    c.sendall(pkt_bytes)
                except OSError:
                    pass

    def serve(self, conn):
        pkt = read_packet(conn)
        if not pkt or pkt[0] >> 4 != 1:
            return
        conn.sendall(bytes([0x20, 2, 0, 0]))
        while True:
            pkt = read_packet(conn)
            if not pkt:
                return
            kind, body = pkt[0] >> 4, pkt[1]
            if kind == 8:  # SUBSCRIBE: one filter, granted QoS 0
                pid = body[0:2]
                n = int.from_bytes(body[2:4], "big")
                with self.lock:
                    self.subs.setdefault(body[4:4 + n], []).append(conn)
                conn.sendall(bytes([0x90, 3]) + pid + b"\x00")
            elif kind == 3:  # PUBLISH QoS 0
                n = int.from_bytes(body[0:2], "big")
                with self.lock:
                    targets = list(self.subs.get(body[2:2 + n], []))
                rem = len(body)
                self.deliver_later(bytes([0x30, rem]) + body if rem < 128 else b"", targets)
            elif kind == 12:
                conn.sendall(bytes([0xD0, 0]))
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
