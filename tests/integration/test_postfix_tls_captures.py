"""Captures of a real Postfix over TLS (tests/data/postfix-tls/NAME.pcap with
the client's key log NAME.keys, made by make.sh there) against tshark and
their MANIFEST.md.

For each capture, `smtpsleuth analyze --json --transcript --tls-keylog
NAME.keys` must:
  - decrypt every session (tls.decrypted, both directions `decrypting` or
    ended with the flow) with the TLS version of the MANIFEST row;
  - show the same SMTP commands (first four letters) and reply codes as
    tshark with `-o tls.keylog_file:NAME.keys` (runs of one code collapsed on
    both sides, as in it_tls_analyze_tshark: tshark gives one code per
    segment);
  - give the cause, closed_by, close, phase and reply code of the MANIFEST
    row, which were reasoned from the Postfix configuration, its log and the
    packets, not from our output;
  - print no secret of the key log in any of its outputs.
Without the key log, every session is `encrypted`.
Skips (77) without tshark, the binary or the captures."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402
from lab_manifest import manifest_rows  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH", "")
src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
here = os.path.join(src, "tests", "data", "postfix-tls")
manifest = os.path.join(here, "MANIFEST.md")
present = sorted(os.path.basename(f) for f in glob.glob(os.path.join(here, "*.pcap")))
if not BIN or not os.access(BIN, os.X_OK) or not shutil.which("tshark") or not present \
        or not os.path.exists(manifest):
    print("no smtpsleuth binary, no tshark, no Postfix TLS captures or no MANIFEST.md")
    sys.exit(SKIP)
ENV = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
VERSIONS = {"1.2": 0x0303, "1.3": 0x0304}


def analyze(args):
    p = subprocess.run([BIN, "analyze"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=ENV)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ours(pcap, keys):
    rc, out, _ = analyze(["--json", "--transcript", "--tls-keylog", keys, pcap])
    cmds, codes, sessions = [], [], []
    for line in out.splitlines():
        o = json.loads(line)
        if o.get("type") != "session":
            continue
        sessions.append(o)
        for t in o.get("transcript", []):
            text = t["line"]
            if t["side"] == "client" and re.match(r"[A-Za-z]{4}", text):
                cmds.append(text[:4].upper())
            elif t["side"] == "server" and re.match(r"\d\d\d( |$)", text):
                codes.append(text[:3])
    return rc, cmds, codes, sessions, out


def theirs(pcap, keys):
    p = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keys,
                        "-d", "tcp.port==2625,smtp",
                        "-Y", "smtp", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                        "-e", "smtp.req.command", "-e", "smtp.response.code"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120, check=True)
    cmds, codes = [], []
    for line in p.stdout.decode().splitlines():
        c, _, r = line.partition("\t")
        cmds += [x[:4].upper() for x in c.split(",") if x]
        codes += [x for x in r.split(",") if x]
    return cmds, codes


def runs(codes):
    return [x for i, x in enumerate(codes) if i == 0 or codes[i - 1] != x]


def secrets_of(keys):
    out = []
    for line in open(keys):
        f = line.split()
        if len(f) == 3 and not line.startswith("#"):
            out += [f[2].lower(), f[2].upper()]
    return out


# Table rows: | file | port | cause | closed_by | close | phase | code | tls | ...
rows = manifest_rows(manifest, 8)

c = Checker()
c.true("manifest lists captures", len(rows) >= 10, len(rows))
listed = {r[0] for r in rows}
c.eq("every capture is in the manifest", sorted(set(present) - listed), [])
c.eq("every manifest capture exists", sorted(listed - set(present)), [])
c.true("TLS 1.2 and 1.3, STARTTLS and implicit TLS all present",
       {r[7] for r in rows} == {"1.2", "1.3"} and any(r[0].startswith("smtps_") for r in rows)
       and any(r[0].startswith("tls") for r in rows), rows)
total_cmds = total_codes = 0
for r in rows:
    f = r[0]
    if f not in present:
        continue
    pcap = os.path.join(here, f)
    keys = pcap[:-5] + ".keys"
    c.true("%s: key log present" % f, os.path.exists(keys))
    if not os.path.exists(keys):
        continue
    rc, o_cmds, o_codes, sessions, jout = ours(pcap, keys)
    c.eq("%s: exit status" % f, rc, 0)
    c.true("%s: has sessions" % f, len(sessions) > 0)
    t_cmds, t_codes = theirs(pcap, keys)
    c.true("%s: tshark decrypted the dialog" % f, "QUIT" in t_cmds or "421" in t_codes, (t_cmds, t_codes))
    c.eq("%s: commands equal tshark's" % f, o_cmds, t_cmds)
    c.eq("%s: reply codes equal tshark's" % f, runs(o_codes), runs(t_codes))
    total_cmds += len(t_cmds)
    total_codes += len(runs(t_codes))
    want = (r[2], r[3], r[4], r[5], None if r[6] == "-" else int(r[6]))
    for s in sessions:
        if r[1] != "*" and s["client"]["port"] != int(r[1]):
            continue
        tls = s["smtp"]["tls"] or {}
        c.eq("%s #%d: decrypted" % (f, s["id"]), tls.get("decrypted"), True)
        c.eq("%s #%d: TLS version" % (f, s["id"]), tls.get("version"), VERSIONS.get(r[7]))
        v = s["verdict"]
        got = (v["cause"], v["closed_by"], v["close"], v["phase"], (v.get("reply") or {}).get("code"))
        c.eq("%s #%d: verdict as in the manifest" % (f, s["id"]), got, want)
    # without the key log: encrypted, the reason hidden
    rc, out, _ = analyze(["--json", pcap])
    causes = [json.loads(l)["verdict"]["cause"] for l in out.splitlines() if '"type":"session"' in l]
    c.eq("%s without the key log: encrypted" % f, sorted(set(causes)), ["encrypted"])
    # no key material in any output
    sec = secrets_of(keys)
    c.true("%s: key log has secrets" % f, len(sec) >= 2)
    with tempfile.TemporaryDirectory() as d:
        outs = [jout]
        for args in (["--tls-keylog", keys], ["--transcript", "--tls-keylog", keys],
                     ["--html", os.path.join(d, "page.html"), "--tls-keylog", keys],
                     ["--extract", os.path.join(d, "x"), "-q", "--tls-keylog", keys]):
            rc, out, err = analyze(args + [pcap])
            outs += [out, err]
        for g in glob.glob(os.path.join(d, "**", "*"), recursive=True):
            if os.path.isfile(g):
                raw = open(g, "rb").read()
                outs.append(raw.decode("latin-1"))
                for s in sec[::2]:
                    c.true("%s: secret bytes not in %s" % (f, os.path.basename(g)), bytes.fromhex(s) not in raw)
        leaked = [s[:8] for s in sec for o in outs if s in o]
        c.eq("%s: no secret in any output" % f, leaked, [])
print("compared with tshark: %d captures, %d commands, %d reply codes" % (len(rows), total_cmds, total_codes))
c.done()
