#!/usr/bin/python3
"""gen-corpus.py - regenerates the seed corpora in corpus/<target>/.

Sources: the codec test vectors (tests/vectors/*.vec, format in docs/vectors.md),
the sample traffic (samples/traffic/*.hex), the sample packet descriptions
(samples/*.yaml) and the scenario suite (suite/**/*.yaml).
Each file is named by the sha1 of its content, so regeneration is idempotent
and a file's name is its identity. Corpora are capped (a few hundred files,
each under 4 KiB) by a deterministic round-robin over the sources, so every
vector file contributes. corpus/regress/ is never touched.

usage: fuzz/gen-corpus.py [--root DIR] [--check] [--prune]
  --check  exit 1 if a seed that would be generated is missing, or if any source
           changed since the corpora were generated (corpus/<target>/.sources.sha1
           hashes every candidate seed, also those past the cap)
  --prune  also delete files that are not generated seeds (merged finds)
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys

MAX_FILES = 300
MAX_BYTES = 4096
VERSIONS = {"auto": 0, "3.1": 1, "3.1.1": 2, "5": 3, "5.0": 3}

# engine_ops.h, mirrored
OP_FEED, OP_CANNED, OP_CLOCK, OP_DRAIN, OP_CLOSE, OP_OPEN, OP_MISC = (
    0x00, 0x40, 0x60, 0x80, 0xA0, 0xC0, 0xE0)


def expand_hex(h):
    """Vector hex: '_' separators and {XX*N} repetitions."""
    h = h.replace("_", "")
    out = []
    pos = 0
    for m in re.finditer(r"\{([0-9a-fA-F]+)\*(\d+)\}", h):
        out.append(bytes.fromhex(h[pos:m.start()]))
        n = int(m.group(2))
        if n * len(m.group(1)) // 2 > MAX_BYTES:
            return None
        out.append(bytes.fromhex(m.group(1)) * n)
        pos = m.end()
    out.append(bytes.fromhex(h[pos:]))
    return b"".join(out)


def read_vectors(root):
    """{file: [(sel, packet, ok)]} in file order."""
    res = {}
    for path in sorted(glob.glob(os.path.join(root, "tests/vectors/*.vec"))):
        rows = []
        for line in open(path, encoding="utf-8"):
            t = line.split()
            if len(t) < 4 or t[0].startswith("#") or t[0] not in VERSIONS:
                continue
            try:
                pkt = expand_hex(t[2])
            except ValueError:
                continue
            if pkt is None:
                continue
            sel = VERSIONS[t[0]] | (4 if t[1] == "server" else 0)
            rows.append((sel, pkt, t[3] == "ok"))
        res[os.path.basename(path)] = rows
    return res


def read_traffic(root):
    """[(name, sel, [packets])]: version and direction from the file name."""
    res = []
    for path in sorted(glob.glob(os.path.join(root, "samples/traffic/*.hex"))):
        name = os.path.basename(path)
        sel = (3 if name.startswith("v5") else 2) | (4 if "server" in name else 0)
        pkts = [bytes.fromhex(l.strip()) for l in open(path)
                if l.strip() and not l.startswith("#")]
        res.append((name, sel, pkts))
    return res


def round_robin(groups, cap):
    """Takes one item from each group in turn until cap: every source counts."""
    out, seen = [], set()
    groups = [list(g) for g in groups if g]
    i = 0
    while groups and len(out) < cap:
        g = groups[i % len(groups)]
        item = g.pop(0)
        if len(item) <= MAX_BYTES and item not in seen:
            seen.add(item)
            out.append(item)
        if not g:
            groups.remove(g)
        else:
            i += 1
    return out


def packet_seeds(vectors, traffic, ok_only, print_bit):
    groups = []
    for rows in vectors.values():
        g = []
        for sel, pkt, ok in rows:
            if ok_only and not ok:
                continue
            g.append(bytes([sel]) + pkt)
            if print_bit and ok:
                g.append(bytes([sel | 0x30]) + pkt)  # printers, large buffer
        groups.append(g)
    groups.append([bytes([sel]) + p for _, sel, pkts in traffic for p in pkts])
    return groups


def stream_seeds(vectors, traffic):
    g1 = []
    for _, sel, pkts in traffic:
        stream = b"".join(pkts)
        for seed in range(4):
            g1.append(bytes([sel, seed * 37]) + stream)
        if not sel & 4:  # client streams also under AUTO: CONNECT decides
            g1.append(bytes([sel & 4, 1]) + stream)
    g2 = []
    for rows in vectors.values():
        run = [r for r in rows if r[2]]
        for i in range(0, len(run), 4):
            chunk = run[i:i + 4]
            sel = chunk[0][0]
            body = b"".join(p for s, p, _ in chunk if s == sel)
            g2.append(bytes([sel, i & 0xFF]) + body)
    return [g1, g2]


def engine_seeds(traffic):
    """Op streams: the client traffic fed to one or two connections, and
    canned sessions reaching QoS 2, wills, takeover, expiry and shutdown."""
    feed = lambda conn, p, split=0: bytes([OP_FEED | split << 2 | conn]) + p
    canned = lambda conn, t, arg: bytes([OP_CANNED | t << 2 | conn, arg])
    drain = lambda conn, ack=True: bytes([OP_DRAIN | (8 if ack else 0) | conn])
    clock = lambda step: bytes([OP_CLOCK | step])
    deadline = bytes([OP_CLOCK | 0x10])
    configs = [b"\x00\x00\x00\x00", b"\x02\x80\x00\x00", b"\x00\x00\x00\x02",
               b"\x00\x9b\x00\x94", b"\x00\x00\x07\x00", b"\x00\x00\x00\x01"]
    out = []
    for name, sel, pkts in traffic:
        if sel & 4:
            continue
        for cfg in configs[:3]:
            ops = b"".join(feed(0, p, i % 3) + drain(0) for i, p in enumerate(pkts))
            out.append(cfg + ops + clock(6) + drain(0))
        # the same stream on two connections, interleaved, then abrupt close
        ops = b"".join(feed(0, p) + feed(1, p) for p in pkts)
        out.append(configs[0] + ops + drain(0) + drain(1) + bytes([OP_CLOSE | 4 | 1]) + deadline)
    sessions = [
        # 5.0 subscriber c0 on a/+, publisher c1 at QoS 0/1/2, acknowledged
        canned(0, 0, 0x00) + drain(0) + canned(0, 2, 0x11) + drain(0) +
        canned(1, 0, 0x01) + drain(1) + canned(1, 3, 0x00) + canned(1, 3, 0x48) +
        canned(1, 3, 0x50) + drain(1) + drain(0) + drain(1) + drain(0) + clock(6) + drain(0),
        # 3.1.1 will with delay-free abrupt close, subscriber on w/#
        canned(0, 1, 0x21) + canned(1, 1, 0x01) + canned(1, 2, 0x0c) + drain(1) +
        bytes([OP_CLOSE | 4 | 0]) + drain(1, True) + deadline + drain(1),
        # 5.0 will delay + session expiry + keep-alive timeout via deadlines
        canned(0, 0, 0x6b) + drain(0) + canned(1, 0, 0x09) + canned(1, 2, 0x0c) + drain(1) +
        bytes([OP_CLOSE | 4 | 0]) + deadline + drain(1) + deadline + deadline + drain(1),
        # takeover: the same client id on two connections, then retained publish
        canned(0, 0, 0x44) + canned(1, 0, 0x44) + drain(0) + drain(1) +
        canned(1, 3, 0x28) + canned(2, 1, 0x02) + canned(2, 2, 0x00) + drain(2),
        # enhanced auth (config bit 2) then QoS 2 without acks, shutdown
        canned(0, 7, 0x00) + drain(0) + canned(0, 7, 0x00) + drain(0) +
        canned(0, 2, 0x15) + canned(0, 3, 0x50) + drain(0, False) + clock(10) + b"\xff",
        # queueing to an offline session, then resume with clean_start=0
        canned(0, 0, 0x41) + canned(0, 2, 0x09) + drain(0) + bytes([OP_CLOSE | 0]) +
        canned(1, 0, 0x00) + canned(1, 3, 0x08) + canned(1, 3, 0x48) + canned(1, 3, 0x88) +
        drain(1) + canned(0, 0, 0x41) + drain(0) + drain(0),
    ]
    for i, s in enumerate(sessions):
        for cfg in configs:
            out.append(cfg + s)
    return [out]


def yaml_seeds(root):
    docs = []
    paths = sorted(glob.glob(os.path.join(root, "samples/*.yaml")))
    for path in paths:
        text = open(path, "rb").read()
        docs.append(text)
        for line in text.splitlines():
            if line.startswith(b"- "):
                docs.append(line[2:] + b"\n")
    try:  # JSON is YAML too; the loader must take both
        import yaml
        for path in paths:
            for line in open(path, encoding="utf-8"):
                if not line.startswith("- "):
                    continue
                try:  # PyYAML is stricter than libyaml on some plain scalars
                    docs.append(json.dumps(yaml.safe_load(line[2:])).encode())
                except yaml.YAMLError:
                    pass
    except ImportError:
        pass
    return [docs]


def scenario_file_seeds(root):
    paths = sorted(glob.glob(os.path.join(root, "suite/**/*.yaml"), recursive=True)
                   + glob.glob(os.path.join(root, "scenarios/suite/**/*.yaml"), recursive=True))
    return [[open(p, "rb").read() for p in paths]]


def encode_seeds():
    """The encode target reads choices, not packets: deterministic bytes."""
    out = []
    for i in range(64):
        h = hashlib.sha1(b"mqcheck-encode-%d" % i).digest()
        out.append(bytes([i * 4 + (i % 3)]) + (h * 4)[: 16 + i * 2])
    return [out]


def mutate_seeds(traffic):
    out = []
    for name, sel, pkts in traffic:
        for layout in range(4):
            body = (bytes([sel]) if layout != 2 else b"\0\0\0\0") + b"".join(pkts[:4])
            out.append(bytes([layout | 0x40, 0x40, 0, 0, 0, layout]) + body)
    return [out]


MANIFEST = ".sources.sha1"


def sources_digest(groups):
    """One hash over every candidate seed of every source, before the cap:
    a vector that does not make it into the capped corpus still changes it."""
    h = hashlib.sha1()
    for g in groups:
        for item in g:
            h.update(hashlib.sha1(item).digest())
        h.update(b"/")
    return h.hexdigest()


def write(root, target, items, check, prune, digest):
    d = os.path.join(root, "corpus", target)
    want = {hashlib.sha1(b).hexdigest(): b for b in items}
    have = set(os.listdir(d)) if os.path.isdir(d) else set()
    manifest = os.path.join(d, MANIFEST)
    if check:
        try:
            with open(manifest, "r", encoding="ascii") as f:
                recorded = f.read().strip()
        except OSError:
            recorded = None
        fresh = set(want) <= have and recorded == digest
        if not fresh:
            print("gen-corpus: corpus/%s is stale (%s)" % (target, "a seed is missing"
                  if not set(want) <= have else "its sources changed"), file=sys.stderr)
        return fresh
    os.makedirs(d, exist_ok=True)
    # Files merged in from fuzzing runs (docs/fuzzing.md) are kept unless
    # --prune: only generated seeds are regenerated.
    for name in (have - set(want) - {MANIFEST}) if prune else ():
        os.unlink(os.path.join(d, name))
    for name, b in want.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)
    # dot file: replay, AFL++ and libFuzzer merges skip it as an input
    with open(manifest, "w", encoding="ascii") as f:
        f.write(digest + "\n")
    print("corpus/%s: %d files" % (target, len(want)))
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--prune", action="store_true")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    vectors, traffic = read_vectors(root), read_traffic(root)
    plan = {
        "decode": packet_seeds(vectors, traffic, False, True),
        "roundtrip": packet_seeds(vectors, traffic, True, False),
        "stream": stream_seeds(vectors, traffic),
        "encode": encode_seeds(),
        "engine": engine_seeds(traffic),
        "scenario": yaml_seeds(root),
        "mutate": mutate_seeds(traffic),
    }
    suite = scenario_file_seeds(root)
    if suite[0]:
        plan["scenario_file"] = suite
    ok = True
    for target, groups in plan.items():
        digest = sources_digest(groups)
        ok &= write(root, target, round_robin(groups, MAX_FILES), a.check, a.prune, digest)
    if a.check and not ok:
        print("gen-corpus: corpora are stale; run fuzz/gen-corpus.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
