#!/usr/bin/python3
"""suite_streams.py MQCHECK SUITE_DIR > streams.txt - the bytes each client of
each suite case sends, one hex line per client connection ("name@version/client
hex"), for `planted_reach --seeds streams.txt`.

An approximation of the network fuzzer's seeds, made without running the
cases: connect/reconnect/control steps become CONNECTs with the runner's
defaults, send/send_hex/disconnect steps their packets; variables become fixed
values (topic prefix "p/", client prefix "c-", everything else "1"). A new
transport (reconnect, drop, open after a close) starts a new line. Packets the
encoder refuses are left out.
"""
import os
import re
import subprocess
import sys

import yaml

MQCHECK, SUITE = sys.argv[1], sys.argv[2]
VARS = {"topic_prefix": "p/", "client_prefix": "c-"}


def subst(obj):
    if isinstance(obj, str):
        return re.sub(r"\$\{([a-z_0-9]+)\}", lambda m: VARS.get(m.group(1), "1"), obj)
    if isinstance(obj, list):
        return [subst(x) for x in obj]
    if isinstance(obj, dict):
        return {k: subst(v) for k, v in obj.items()}
    return obj


def encode_many(version, pkts):
    """Hex per packet (None where the encoder refuses one): one encoder run for
    the lot, halving the list around refusals."""
    if not pkts:
        return []
    r = subprocess.run([MQCHECK, "encode", "--version", version, "--allow-invalid", "-"],
                       input=yaml.safe_dump(pkts, default_flow_style=True),
                       capture_output=True, text=True)
    lines = r.stdout.split()
    if r.returncode == 0 and len(lines) == len(pkts):
        return lines
    if len(pkts) == 1:
        return [None]
    half = len(pkts) // 2
    return encode_many(version, pkts[:half]) + encode_many(version, pkts[half:])


def connect_packet(client, fields, resume):
    p = {"type": "CONNECT", "client_id": "c-" + client, "clean_start": not resume,
         "keep_alive": 60}
    if isinstance(fields, dict):
        p.update(fields)
    return p


def cases(path):
    with open(path) as f:
        sc = yaml.safe_load(f)
    if not isinstance(sc, dict):
        return
    versions = [str(v) for v in sc.get("versions", ["3.1.1", "5.0"])]
    clients = sc.get("clients") or ["c"]
    for v in versions:
        streams = {}  # client -> list of packet lists (one per transport)
        for step in sc.get("steps") or []:
            if not isinstance(step, dict):
                continue
            only = step.get("version", step.get("versions"))
            if only is not None and v not in [str(x) for x in (only if isinstance(only, list) else [only])]:
                continue
            client = str(step.get("client", clients[0]))
            conns = streams.setdefault(client, [[]])
            if "connect" in step:
                conns[-1].append(connect_packet(client, step["connect"], False))
            elif "reconnect" in step:
                conns.append([connect_packet(client, step["reconnect"], True)])
            elif "control" in step:
                ctl = streams.setdefault("control", [[]])
                ctl[-1] += [connect_packet("control", {}, False), {"type": "PINGREQ"}]
            elif "send" in step and isinstance(step["send"], dict):
                conns[-1].append(step["send"])
            elif "send_hex" in step:
                conns[-1].append({"hex": str(step["send_hex"])})
            elif "disconnect" in step:
                d = step["disconnect"]
                conns[-1].append(dict(d, type="DISCONNECT") if isinstance(d, dict)
                                 else {"type": "DISCONNECT"})
                conns.append([])
            elif "drop" in step:
                conns.append([])
        for client, conns in streams.items():
            for pkts in conns:
                if pkts:
                    yield "%s@%s/%s" % (sc.get("name", path), v, client), v, subst(pkts)


def main():
    streams = []  # (name, version, [packet or {"hex": ...}])
    for root, _, files in sorted(os.walk(SUITE)):
        for fn in sorted(files):
            if fn.endswith(".yaml"):
                streams += list(cases(os.path.join(root, fn)))
    out = {}  # (stream, packet index) -> hex
    for v in sorted({v for _, v, _ in streams}):
        keys, pkts = [], []
        for i, (_, sv, ps) in enumerate(streams):
            for j, p in enumerate(ps):
                if sv == v and not ("hex" in p and len(p) == 1):
                    keys.append((i, j))
                    pkts.append(p)
        out.update(zip(keys, encode_many(v, pkts)))
    n = 0
    for i, (name, v, pkts) in enumerate(streams):
        hexes = ""
        for j, p in enumerate(pkts):
            if "hex" in p and len(p) == 1:
                hexes += re.sub(r"[^0-9a-fA-F]", "", p["hex"])
            else:
                hexes += out.get((i, j)) or ""
        if hexes:
            print("%s %s" % (name.replace(" ", "_"), hexes))
            n += 1
    print("suite_streams: %d client streams" % n, file=sys.stderr)


if __name__ == "__main__":
    main()
