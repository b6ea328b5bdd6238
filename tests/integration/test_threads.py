#!/usr/bin/env python3
"""--threads 1 and --threads 2 give the same output, byte for byte.

The analysis splits into a reading/dissecting thread and a diagnosing/
reporting thread with --threads 2 (analyzer/stage.c). Sessions, verdicts,
their order and the summary must not depend on that: this runs `analyze
--json` and the text report with both settings on every bundled capture
(captures/), every tests/data capture, every corpus capture (SLEUTH_CORPUS,
when present) and on a capture of 50,000 small SMTP sessions that it
generates with tests/bench/gen_capture (built beside the command), and
compares stdout, stderr and the exit status. Also with the options whose
data cross to the stage thread: --tls-keylog (captures with NAME.keys),
--pair (tests/data/pair), --json-format ecs, --transcript, --shard, a small
--memory-cap (evictions), --html (the page, its random CSP nonce masked) and
a capture read from stdin.

Exit 0 when all agree, 1 on the first difference (with a diff excerpt).
The generated capture is always checked, so a missing corpus reduces what
is compared but never turns the test into a skip; a missing gen_capture is
a failure, not a skip (it is built with the command).
"""
import concurrent.futures
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SMTPSLEUTH")
BUILD = os.environ.get("SLEUTH_BUILD_DIR", os.path.dirname(BIN or "."))
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
GENERATED_SESSIONS = 50000

GROUPS = [
    ("captures", os.path.join(SRC, "captures"), ["*.pcap", "*.pcapng"]),
    ("data", os.path.join(SRC, "tests", "data"), ["**/*.pcap", "**/*.pcapng"]),
]
if CORPUS and os.path.isdir(CORPUS):
    GROUPS.append(("corpus", CORPUS, ["*.pcap", "*.pcapng", "*.cap"]))

MODES = [("json", ["--json"]), ("txt", ["--color", "never"])]


def run(folder, rel, args, threads, stdin=None, html=False):
    """One run's exit status, stdout and stderr (and its --html page: rel is
    then the page's name, the capture is in args)."""
    if html:
        page = os.path.join(folder, "t%d.html" % threads)
        cmd = [BIN, "analyze", "--threads", str(threads), "--html", page] + args
    else:
        cmd = [BIN, "analyze", "--threads", str(threads)] + args + ([rel] if rel else [])
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        p = subprocess.run(cmd, cwd=folder, stdin=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=900)
    out = ("exit %d\n" % p.returncode).encode() + p.stdout + b"--- stderr\n" + p.stderr
    if html:
        with open(page, "rb") as f:
            text = f.read()
        os.unlink(page)
        # the Content-Security-Policy nonce is random per run (report_html.c)
        text = re.sub(rb"nonce-[0-9a-f]+|nonce=\"[0-9a-f]+\"", b"nonce", text)
        out += b"--- html\n" + text
    return out


def compare(label, folder, rel, args, stdin=None, html=False):
    # the two runs side by side: the machine's cores shorten the test
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        f1 = ex.submit(run, folder, rel, args, 1, stdin, html)
        f2 = ex.submit(run, folder, rel, args, 2, stdin, html)
        one, two = f1.result(), f2.result()
    if one == two:
        return True
    a = one.decode("utf-8", "replace").splitlines()
    b = two.decode("utf-8", "replace").splitlines()
    diff = list(difflib.unified_diff(a, b, "threads 1", "threads 2", lineterm="", n=1))
    print("FAIL %s: --threads 1 and --threads 2 differ" % label)
    print("\n".join(d[:300] for d in diff[:30]))
    return False


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("FAIL: SMTPSLEUTH not set to the built command")
        return 1
    gen = os.path.join(BUILD, "gen_capture")
    if not os.access(gen, os.X_OK):
        print("FAIL: %s not built (it is built with the command)" % gen)
        return 1
    ok = True
    n = 0
    for group, folder, patterns in GROUPS:
        files = set()
        for p in patterns:
            files.update(glob.glob(os.path.join(folder, p), recursive=True))
        for f in sorted(files):
            rel = os.path.relpath(f, folder)
            for mode, args in MODES:
                n += 1
                ok &= compare("%s/%s (%s)" % (group, rel, mode), folder, rel, args)
            keys = f.rsplit(".", 1)[0] + ".keys"
            if os.path.exists(keys):
                n += 1
                ok &= compare("%s/%s (keys)" % (group, rel), folder, rel,
                              ["--json", "--transcript", "--tls-keylog", os.path.relpath(keys, folder)])
            n += 1
            ok &= compare("%s/%s (ecs)" % (group, rel), folder, rel, ["--json-format", "ecs"])
    pairdir = os.path.join(SRC, "tests", "data", "pair")
    for c in sorted(glob.glob(os.path.join(pairdir, "*_client.pcap"))):
        base = c[:-len("_client.pcap")]
        for srv in sorted(glob.glob(base + "_server*.pcap")):
            for mode, args in MODES:
                n += 1
                ok &= compare("pair %s %s (%s)" % (os.path.basename(c), os.path.basename(srv), mode), pairdir,
                              None, args + ["--pair", os.path.basename(c), os.path.basename(srv)])
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "small.pcap")
        subprocess.run([gen, "-o", cap, "--mix", "small", "--sessions", str(GENERATED_SESSIONS),
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=300)
        for mode, args in MODES + [("transcript", ["--json", "--transcript"]),
                                   ("memory-cap", ["--json", "--memory-cap", "4M"]),
                                   ("shard 2/3", ["--json", "--shard", "2/3"])]:
            n += 1
            ok &= compare("generated %d sessions (%s)" % (GENERATED_SESSIONS, mode), tmp, "small.pcap", args)
        n += 2
        ok &= compare("generated %d sessions (stdin)" % GENERATED_SESSIONS, tmp, "-", ["--json"],
                      stdin=cap)
        ok &= compare("generated %d sessions (html)" % GENERATED_SESSIONS, tmp, None, ["small.pcap"], html=True)
        # the same output, session for session, in a summary that adds up
        out = run(tmp, "small.pcap", ["--json"], 2).split(b"\n")
        sessions = sum(1 for line in out if line.startswith(b'{"type":"session"'))
        if sessions < GENERATED_SESSIONS * 0.8:
            print("FAIL generated capture: only %d sessions reported" % sessions)
            ok = False
    print("%s: %d runs compared (%s)" % ("ok" if ok else "FAIL", n,
                                        "with corpus" if CORPUS and os.path.isdir(CORPUS) else "no corpus"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
