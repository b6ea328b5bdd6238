"""The bundled captures (captures/*.pcap) against their MANIFEST: the analyzer
must give every listed session (by client port) the cause, closed_by and close
the bundled server logged when the capture was made. Needs no privileges.

A capture with a key log beside it (NAME.keys: the server's TLS key log, the
tls_* captures played inside STARTTLS) is analysed with --tls-keylog
NAME.keys; without it the same sessions must stay `encrypted` (the cause is
hidden, not guessed)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402

binary = os.environ.get("SMTPSLEUTH", "")
src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
manifest = os.path.join(src, "captures", "MANIFEST.md")
if not binary or not os.access(binary, os.X_OK) or not os.path.exists(manifest):
    print("no smtpsleuth binary or no captures/MANIFEST.md")
    sys.exit(SKIP)

c = Checker()
rows = []
for line in open(manifest):
    cells = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(cells) == 8 and cells[0].endswith(".pcap"):
        rows.append(cells)
c.true("manifest lists captures", len(rows) >= 14, len(rows))
listed = {r[0] for r in rows}
present = {f for f in os.listdir(os.path.join(src, "captures")) if f.endswith(".pcap")}
c.eq("every capture is in the manifest", sorted(present - listed), [])
causes = {r[3] for r in rows}
for need in ("completed", "size_limit", "auth_failed", "auth_required", "ip_filtered",
             "relay_denied", "idle_timeout", "too_many_errors", "rate_limited",
             "server_unavailable", "tls_required", "tls_failed", "client_abort",
             "connection_refused"):
    c.true("a capture for " + need, need in causes)
tls_causes = {r[3] for r in rows if r[0].startswith("tls_") and
              os.path.exists(os.path.join(src, "captures", r[0][:-5] + ".keys"))}
for need in ("completed", "size_limit", "auth_failed", "idle_timeout"):
    c.true("an encrypted capture with its key log for " + need, need in tls_causes)
if False:
    c.true("a capture for " + need, need in causes)

for f in sorted(listed):
    path = os.path.join(src, "captures", f)
    keys = path[:-len(".pcap")] + ".keys"
    has_keys = os.path.exists(keys)
    if has_keys:
        p0 = subprocess.run([binary, "analyze", "--json", path], stdout=subprocess.PIPE, timeout=60)
        plain = [json.loads(l) for l in p0.stdout.decode().splitlines()]
        c.eq("%s without its key log: encrypted" % f,
             sorted({o["verdict"]["cause"] for o in plain if o.get("type") == "session"}), ["encrypted"])
    p = subprocess.run([binary, "analyze", "--json"] + (["--tls-keylog", keys] if has_keys else []) + [path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0 or b'"type":"session"' not in p.stdout.replace(b" ", b""):
        print("analyze gives no sessions for %s (not wired yet?)" % f)
        sys.exit(SKIP)
    sessions = {}
    for l in p.stdout.decode().splitlines():
        o = json.loads(l)
        if o.get("type") == "session":
            sessions[o["client"]["port"]] = o["verdict"]
            if has_keys:
                c.eq("%s: decrypted with its key log" % f, (o["smtp"]["tls"] or {}).get("decrypted"), True)
    for r in rows:
        if r[0] != f:
            continue
        port = int(r[2])
        v = sessions.get(port)
        got = (v["cause"], v["closed_by"], v["close"]) if v else None
        c.eq("%s port %d" % (f, port), got, (r[3], r[4], r[5]))
c.done()
