#!/usr/bin/env python3
"""Verdicts rest on what the packets prove, not on one server's habits.

Every capture of the Postfix lab set, captures/ and the public corpus is
rewritten (mutate_smtp.py) as other peers would have spoken, then analysed
again beside the original:
  - without enhanced status codes (servers that do not offer them): every
    session keeps its cause, since the basic code, the command it answers,
    the words and the packets still say the same;
  - without QUIT and 221 (clients that never send QUIT): no session that
    completed becomes an idle timeout (the server's close comes a few
    milliseconds after the last data, too soon for any timeout), and one
    whose message was accepted still completes.
Sessions are matched by client port and start time."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutate_smtp  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH", "")
if not BIN or not os.access(BIN, os.X_OK):
    print("SMTPSLEUTH not set; skip")
    sys.exit(77)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
TMP = tempfile.mkdtemp(prefix="sleuth-mut-")
fails = []


def sessions(path):
    out = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, text=True, timeout=120).stdout
    res = {}
    for line in out.splitlines():
        o = json.loads(line)
        if o.get("type") == "session":
            res[(o["client"]["port"], o["start_ts"])] = o
    return res


def classic(path):
    """The capture as a classic pcap (editcap converts pcapng)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head != b"\x0a\x0d\x0d\x0a":
        return path
    dst = os.path.join(TMP, os.path.basename(path) + ".pcap")
    r = subprocess.run(["editcap", "-F", "pcap", path, dst], capture_output=True, timeout=60)
    return dst if r.returncode == 0 else None


def accepted(s):
    return any((m.get("reply") or {}).get("code") in range(200, 300) for m in s["smtp"]["messages"])


files = []
for d in [os.path.join(ROOT, "tests", "data", "postfix"), os.path.join(ROOT, "captures")]:
    files += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".pcap", ".pcapng")))
if CORPUS and os.path.isdir(CORPUS):
    files += sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith((".pcap", ".pcapng")))
else:
    print("note: SLEUTH_CORPUS absent, the public corpus is not part of this run")

checked = {"noenh": 0, "noquit": 0}
unsupported = 0
for path in files:
    src = classic(path)
    if not src:
        unsupported += 1
        continue
    with open(src, "rb") as f:
        data = f.read()
    before = sessions(src)
    for mode in ("noenh", "noquit"):
        try:
            mutated = mutate_smtp.mutate(data, mode)
        except mutate_smtp.Unsupported:
            unsupported += 1
            break
        dst = os.path.join(TMP, "%s-%s.pcap" % (os.path.basename(path), mode))
        with open(dst, "wb") as f:
            f.write(mutated)
        after = sessions(dst)
        name = os.path.basename(path)
        if set(after) != set(before):
            fails.append("%s %s: sessions %d -> %d" % (name, mode, len(before), len(after)))
            continue
        for key, b in before.items():
            a = after[key]
            bc, ac = b["verdict"]["cause"], a["verdict"]["cause"]
            checked[mode] += 1
            if mode == "noenh" and ac != bc:
                fails.append("%s port %d without enhanced codes: %s -> %s (%s)" % (name, key[0], bc, ac, a["verdict"]["explanation"][:160]))
            if mode == "noquit" and bc == "completed":
                if ac == "idle_timeout" or (accepted(b) and ac != "completed"):
                    fails.append("%s port %d without QUIT: completed -> %s (%s)" % (name, key[0], ac, a["verdict"]["explanation"][:160]))

for f in fails:
    print("FAIL " + f)
print("%d sessions read without enhanced codes, %d without QUIT; %d captures not rewritable; %d failed"
      % (checked["noenh"], checked["noquit"], unsupported, len(fails)))
sys.exit(1 if fails or not checked["noenh"] else 0)
