"""compare.py REPORT.json EXPECTED.txt - each case's verdict and failing
statements against the expected lines `case@version verdict [STATEMENT...]`
('#' comments). Exit 1, naming each difference, when they disagree."""
import json
import sys

report, expected = sys.argv[1], sys.argv[2]
with open(report) as f:
    cases = json.load(f)["cases"]
got = {}
for c in cases:
    fails = sorted(s["id"] for s in c.get("statements", []) if s.get("verdict") == "fail")
    got[c["id"]] = " ".join([c["verdict"]] + fails)
want = {}
with open(expected) as f:
    for line in f:
        line = line.split("#", 1)[0].split()
        if line:
            want[line[0]] = " ".join(line[1:])
bad = 0
for cid in sorted(set(got) | set(want)):
    if got.get(cid) != want.get(cid):
        print("DIFF %-34s expected: %-40s got: %s" % (cid, want.get(cid, "(not listed)"), got.get(cid, "(not run)")))
        bad += 1
print("%d cases, %d as expected, %d different" % (len(got), len(got) - bad if bad <= len(got) else 0, bad))
sys.exit(1 if bad else 0)
