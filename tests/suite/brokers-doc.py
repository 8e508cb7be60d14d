#!/usr/bin/python3
"""tests/suite/brokers-doc.py SOURCE_DIR - docs/brokers.md lists exactly the
statements each broker's baseline fails (verdict "fail"), with the same cases.
Exit 1 (and each difference) otherwise, 0 when they agree."""
import json
import re
import sys

src = sys.argv[1]
doc = open(f"{src}/docs/brokers.md", encoding="utf-8").read()
bad = 0
for broker in ("mosquitto", "aedes"):
    part = re.search(rf"^## {broker}\b.*?(?=^## |\Z)", doc, re.M | re.S)
    if not part:
        print(f"docs/brokers.md: no section for {broker}")
        bad += 1
        continue
    in_doc = {}
    for m in re.finditer(r"^\| (MQTT-[0-9.]+-[0-9]+) \| ([0-9.]+) \| ([^|]+) \| (.+) \|$", part.group(0), re.M):
        cases = sorted(re.findall(r"`([^`]+)`", m.group(3)))
        if not m.group(4).strip():
            print(f"docs/brokers.md: {broker} {m.group(1)} has no reason")
            bad += 1
        in_doc[(m.group(1), m.group(2))] = cases
    base = json.load(open(f"{src}/ci/baselines/{broker}.baseline", encoding="utf-8"))
    in_base = {}
    for e in base["entries"]:
        if e["verdict"] != "fail":
            continue
        name, version = e["case"].rsplit("@", 1)
        for sid in e["statements"]:
            in_base.setdefault((sid, version), []).append(name)
    in_base = {k: sorted(v) for k, v in in_base.items()}
    if not in_base:
        print(f"ci/baselines/{broker}.baseline: no failing statement (is this the right file?)")
        bad += 1
    for k in sorted(set(in_doc) | set(in_base)):
        if in_doc.get(k) != in_base.get(k):
            print(f"{broker} {k[0]} ({k[1]}): docs/brokers.md {in_doc.get(k)}, baseline {in_base.get(k)}")
            bad += 1
    print(f"{broker}: {len(in_base)} statement(s) in the baseline, {len(in_doc)} in docs/brokers.md")
sys.exit(1 if bad else 0)
