"""nfutil.py - what the network fuzzer's test scripts share: failing with a
message, free loopback ports, and MQTT's variable byte integer."""
import socket
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def varint(n):
    """n as an MQTT variable byte integer."""
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
