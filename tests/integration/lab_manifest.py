"""Lab captures of a real mail server (tests/data/SERVER/*.pcap, made by
make.sh there) against their MANIFEST.md: each listed session (by capture
and client port, or "*" for every session of the capture) must get the
cause, closed_by, close, phase and reply code written there. The
expectations were reasoned from the server's configuration and the packets,
not copied from our output. Used by test_postfix_captures.py and
test_exim_captures.py; skips (77) when the directory holds no capture."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402


def manifest_rows(path, ncells):
    """The table rows of a MANIFEST.md: | file.pcap | port or * | cause |
    closed_by | close | phase | code | ..., the first ncells cells each."""
    rows = []
    for line in open(path):
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(cells) >= ncells and cells[0].endswith(".pcap"):
            rows.append(cells[:ncells])
    return rows


def check_server_dir(server, min_rows):
    binary = os.environ.get("SMTPSLEUTH", "")
    src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
    here = os.path.join(src, "tests", "data", server)
    manifest = os.path.join(here, "MANIFEST.md")
    present = sorted(f for f in os.listdir(here) if f.endswith(".pcap")) if os.path.isdir(here) else []
    if not binary or not os.access(binary, os.X_OK) or not present or not os.path.exists(manifest):
        print("no smtpsleuth binary, no %s captures or no MANIFEST.md" % server)
        sys.exit(SKIP)

    rows = manifest_rows(manifest, 7)

    c = Checker()
    c.true("manifest lists captures", len(rows) >= min_rows, len(rows))
    listed = {r[0] for r in rows}
    c.eq("every capture is in the manifest", sorted(set(present) - listed), [])
    c.eq("every manifest capture exists", sorted(listed - set(present)), [])

    for f in sorted(listed & set(present)):
        p = subprocess.run([binary, "analyze", "--json", os.path.join(here, f)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        c.eq("%s analyses cleanly" % f, p.returncode, 0)
        sessions = {}
        for l in p.stdout.decode().splitlines():
            o = json.loads(l)
            if o.get("type") == "session":
                sessions[o["client"]["port"]] = o["verdict"]
        for r in rows:
            if r[0] != f:
                continue
            ports = sorted(sessions) if r[1] == "*" else [int(r[1])]
            c.true("%s has sessions" % f, len(ports) > 0)
            want = (r[2], r[3], r[4], r[5], None if r[6] == "-" else int(r[6]))
            for port in ports:
                v = sessions.get(port)
                got = None
                if v:
                    code = (v.get("reply") or {}).get("code")
                    got = (v["cause"], v["closed_by"], v["close"], v["phase"], code)
                c.eq("%s port %d" % (f, port), got, want)
    c.done()
