"""Captures made on real faulty networks (tests/data/netfault/, see its
MANIFEST.md and make.sh): injected RSTs, dropped SYNs, lost paths, an MTU
black hole, captures cut at either end. Each holds one SMTP session whose
verdict (cause, closed_by, close, phase) must match the MANIFEST."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402

binary = os.environ.get("SMTPSLEUTH", "")
src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
base = os.path.join(src, "tests", "data", "netfault")
manifest = os.path.join(base, "MANIFEST.md")
if not binary or not os.access(binary, os.X_OK) or not os.path.exists(manifest):
    print("no smtpsleuth binary or no tests/data/netfault/MANIFEST.md")
    sys.exit(SKIP)

rows = []
for line in open(manifest):
    cells = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(cells) == 6 and cells[0].endswith(".pcap"):
        rows.append(cells)
if not rows:
    print("MANIFEST lists no captures")
    sys.exit(SKIP)

c = Checker()
present = sorted(f for f in os.listdir(base) if f.endswith(".pcap"))
c.eq("every capture is in the manifest", sorted(set(present) - {r[0] for r in rows}), [])
for r in rows:
    path = os.path.join(base, r[0])
    p = subprocess.run([binary, "analyze", "--json", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    c.eq("%s exit status" % r[0], p.returncode, 0)
    sessions = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    sessions = [o for o in sessions if o.get("type") == "session"]
    c.eq("%s sessions" % r[0], len(sessions), 1)
    if not sessions:
        continue
    v = sessions[0]["verdict"]
    c.eq("%s verdict" % r[0], (v["cause"], v["closed_by"], v["close"], v["phase"]),
         (r[2], r[3], r[4], r[5]))
c.done()
