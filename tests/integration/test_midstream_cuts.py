#!/usr/bin/env python3
"""A capture that starts mid-session: every bundled, tests/data and corpus
capture with its first N packets cut off, for every N, is analysed again. No cut may
give `too_many_errors` that the whole capture does not give for the same
session, and every cut session's cause must be one the remaining packets
prove: the cause of the whole capture (its decisive packet still present),
or `capture_incomplete`, or a cause read from the packets that remain
(a refusal reply still in them, or the TCP ending still in them).

pcapng files (by their magic, whatever the name) are turned into pcap first
with editcap (skipped when absent).
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", os.path.join(SRC, "..", "shared", "corpus"))
WORKERS = 2             # analyses run at once (the machine has two cores)

# Causes that a cut can read from what remains without the dialog's start:
# the TCP ending and what the packets after the cut show by themselves.
TCP_CAUSES = {"capture_incomplete", "client_abort", "network_failure", "middlebox_reset",
              "idle_timeout", "encrypted", "completed", "unanswered", "connection_refused",
              "unknown"}   # unknown claims nothing


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return None
    header, off, recs = data[:24], 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            break
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return header, recs


def analyze(path):
    p = subprocess.run([BIN, "analyze", "--json", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=120)
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        if o.get("type") == "session":
            out[(o["client"]["ip"], o["client"]["port"], o["server"]["port"])] = o
    return out


def inputs():
    files = []
    for folder, pats in ((os.path.join(SRC, "captures"), ["*.pcap"]),
                         (os.path.join(SRC, "tests", "data"), ["**/*.pcap", "**/*.pcapng"]),
                         (CORPUS, ["*.pcap", "*.pcapng", "*.cap"])):
        if os.path.isdir(folder):
            for p in pats:
                files += glob.glob(os.path.join(folder, p), recursive=True)
    return sorted(set(files))


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("SMTPSLEUTH is not set")
        return 1
    tmp = tempfile.mkdtemp()
    checked = failed = skipped = 0
    try:
        for path in inputs():
            src = path
            with open(path, "rb") as f:
                pcapng = f.read(4) == b"\x0a\x0d\x0d\x0a"    # whatever the file's name says
            if pcapng:
                if not shutil.which("editcap"):
                    skipped += 1
                    continue
                src = os.path.join(tmp, "conv.pcap")
                if subprocess.run(["editcap", "-F", "pcap", path, src],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
                    skipped += 1
                    continue
            parsed = read_pcap(src)
            if not parsed:
                skipped += 1
                continue
            header, recs = parsed
            full = analyze(src)
            n = len(recs)
            cuts = list(range(1, n))
            def one(k):
                cut = os.path.join(tmp, "cut-%d.pcap" % k)
                with open(cut, "wb") as f:
                    f.write(header)
                    f.write(b"".join(recs[k:]))
                try:
                    return k, analyze(cut)
                finally:
                    os.unlink(cut)
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                results = list(pool.map(one, cuts))
            for k, got in results:
                for key, s in got.items():
                    checked += 1
                    v = s["verdict"]
                    whole = full.get(key, {}).get("verdict", {})
                    cause = v["cause"]
                    ok = True
                    why = ""
                    if cause == "too_many_errors" and whole.get("cause") != "too_many_errors":
                        ok, why = False, "too_many_errors that the whole capture does not give"
                    elif cause not in TCP_CAUSES and cause != whole.get("cause"):
                        # a reply-based cause: its decisive reply must be in what remains
                        r = v.get("reply")
                        if not r:
                            ok, why = False, "a reply cause without a decisive reply"
                    if not ok:
                        failed += 1
                        print("FAIL %s cut %d session %s:%d: %s (%s; whole capture: %s)" % (
                            os.path.relpath(path, SRC), k, key[0], key[1], cause, why,
                            whole.get("cause")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if skipped:
        print("SKIP %d files (not pcap, or pcapng without editcap)" % skipped)
    print("%d passed, %d failed" % (checked - failed, failed))
    return 1 if failed else (0 if checked else 77)


if __name__ == "__main__":
    sys.exit(main())
