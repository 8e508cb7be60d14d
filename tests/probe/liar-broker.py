#!/usr/bin/python3
"""liar-broker.py PORT - a deliberately inconsistent MQTT broker for the probe
tests: its MQTT 5.0 CONNACK declares Maximum QoS 1 yet SUBACK grants QoS 2;
it declares (by omission) retained messages, subscription identifiers,
wildcards and shared subscriptions, yet keeps no retained message, echoes no
identifier, routes exact topic names only and closes the connection on a
$share/ subscription. It accepts empty client IDs
without assigning one. `mqcheck probe` must report each contradiction as a
finding with its statement. Loopback only; one thread per connection.
"""
import socket
import sys
import threading

subs = {}  # exact topic -> list of (sock, version)
lock = threading.Lock()


def read_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def read_packet(c):
    first = read_exact(c, 1)[0]
    length, mult = 0, 1
    for _ in range(4):
        d = read_exact(c, 1)[0]
        length += (d & 127) * mult
        mult *= 128
        if not d & 128:
            break
    return first, read_exact(c, length)


def varint(n):
    out = b""
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (128 if n else 0)])
        if not n:
            return out


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def skip_props(body, i):
    length, mult = 0, 1
    while True:
        d = body[i]
        i += 1
        length += (d & 127) * mult
        mult *= 128
        if not d & 128:
            return i + length


def serve(c):
    v = 4
    try:
        first, body = read_packet(c)
        if first >> 4 != 1:
            return
        name_len = int.from_bytes(body[0:2], "big")
        v = body[2 + name_len]
        # 5.0: Maximum QoS 1 declared, nothing else
        c.sendall(packet(0x20, b"\x00\x00\x02\x24\x01" if v == 5 else b"\x00\x00"))
        while True:
            first, body = read_packet(c)
            kind = first >> 4
            if kind == 8:  # SUBSCRIBE: grant what is asked, even above the declared maximum
                pid, i = body[0:2], 2
                if v == 5:
                    i = skip_props(body, i)
                codes = b""
                while i < len(body):
                    n = int.from_bytes(body[i:i + 2], "big")
                    topic = body[i + 2:i + 2 + n]
                    if topic.startswith(b"$share/"):
                        return  # as ejabberd does: shared subscriptions end the connection
                    codes += bytes([body[i + 2 + n] & 3])
                    i += 3 + n
                    with lock:
                        subs.setdefault(topic, []).append((c, v))
                c.sendall(packet(0x90, pid + (b"\x00" if v == 5 else b"") + codes))
            elif kind == 3:  # PUBLISH: exact topics only, always QoS 0, nothing retained
                qos = (first >> 1) & 3
                n = int.from_bytes(body[0:2], "big")
                topic, i = body[2:2 + n], 2 + n
                pid = body[i:i + 2] if qos else b""
                i += 2 if qos else 0
                if v == 5:
                    i = skip_props(body, i)
                payload = body[i:]
                with lock:
                    targets = list(subs.get(topic, []))
                for s, sv in targets:
                    try:
                        s.sendall(packet(0x30, body[0:2 + n] + (b"\x00" if sv == 5 else b"") + payload))
                    except OSError:
                        pass
                if qos == 1:
                    c.sendall(packet(0x40, pid))
                elif qos == 2:
                    c.sendall(packet(0x50, pid))
            elif kind == 6:  # PUBREL
                c.sendall(packet(0x70, body[0:2]))
            elif kind == 12:
                c.sendall(packet(0xD0, b""))
            elif kind == 14:
                return
    except (EOFError, OSError, IndexError):
        pass
    finally:
        with lock:
            for k in subs:
                subs[k] = [x for x in subs[k] if x[0] is not c]
        c.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
