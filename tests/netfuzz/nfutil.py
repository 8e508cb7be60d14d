"""nfutil.py - what the network fuzzer's test scripts share: failing with a
message, and free loopback ports."""
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
