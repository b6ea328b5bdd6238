#!/usr/bin/env python3
"""Golden outputs: every bundled capture, every tests/data capture and every
corpus capture gives the same `--json`, text and transcript output as the
files kept under tests/golden/. A capture with a key log beside it (NAME.keys)
is also run with --tls-keylog NAME.keys (goldens NAME.pcap.keys.MODE).

This is the guard that lets the code move and change shape: a refactoring must
leave every byte of the output as it was. A change that means to alter the
output regenerates the files with `--update` and the diff is reviewed with the
change (`git diff tests/golden`).

The corpus lives outside the repository (../shared/corpus); its goldens are
kept here all the same, and checked only when the corpus is present. When it
is absent, the test says so and exits 77 (skip) if nothing else was checked.
"""
import difflib
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", os.path.join(SRC, "..", "shared", "corpus"))
GOLDEN = os.path.join(SRC, "tests", "golden")

# (group, folder, glob patterns); files are named relative to their folder and
# the command runs inside that folder, so paths in the output do not depend on
# where the checkout is.
GROUPS = [
    ("captures", os.path.join(SRC, "captures"), ["*.pcap", "*.pcapng"]),
    ("data", os.path.join(SRC, "tests", "data"), ["**/*.pcap", "**/*.pcapng"]),
    ("corpus", CORPUS, ["*.pcap", "*.pcapng", "*.cap"]),
]

MODES = [
    ("json", ["--json"]),
    ("txt", []),
    ("transcript", ["--transcript"]),
]


def inputs(folder, patterns):
    found = set()
    for p in patterns:
        found.update(glob.glob(os.path.join(folder, p), recursive=True))
    return sorted(os.path.relpath(f, folder) for f in found)


def keylog_of(folder, rel):
    """NAME.keys beside NAME.pcap: the capture's TLS key log (relative name)."""
    base = rel.rsplit(".", 1)[0] + ".keys"
    return base if os.path.exists(os.path.join(folder, base)) else None


def run(folder, rel, args):
    # SSLKEYLOGFILE would change the output: the goldens are made without it
    env = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
    p = subprocess.run([BIN, "analyze"] + args + [rel], cwd=folder, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    # stdout and the exit status are the contract; stderr carries only
    # diagnostics about the input, which are kept too so they cannot vanish.
    return ("exit %d\n" % p.returncode).encode() + p.stdout + b"--- stderr\n" + p.stderr


def main():
    update = "--update" in sys.argv
    if not BIN or not os.access(BIN, os.X_OK):
        print("SMTPSLEUTH is not set to the built command")
        return 1
    checked = failed = 0
    missing_groups = []
    for group, folder, patterns in GROUPS:
        if not os.path.isdir(folder):
            missing_groups.append(group)
            continue
        for rel in inputs(folder, patterns):
            keys = keylog_of(folder, rel)
            modes = MODES + ([("keys." + m, a + ["--tls-keylog", keys]) for m, a in MODES] if keys else [])
            for mode, args in modes:
                out = run(folder, rel, args)
                path = os.path.join(GOLDEN, group, rel.replace("/", "__") + "." + mode)
                if update:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "wb") as f:
                        f.write(out)
                    checked += 1
                    continue
                try:
                    with open(path, "rb") as f:
                        want = f.read()
                except FileNotFoundError:
                    print("FAIL %s/%s (%s): no golden file %s" % (group, rel, mode, path))
                    failed += 1
                    continue
                checked += 1
                if out != want:
                    failed += 1
                    print("FAIL %s/%s (%s) differs from the golden output:" % (group, rel, mode))
                    diff = difflib.unified_diff(want.decode("utf-8", "replace").splitlines(),
                                                out.decode("utf-8", "replace").splitlines(),
                                                "golden", "now", lineterm="", n=1)
                    for i, line in enumerate(diff):
                        if i >= 40:
                            print("  ...")
                            break
                        print("  " + line)
    for g in missing_groups:
        print("SKIP group %s: its folder is absent" % g)
    print("%d passed, %d failed" % (checked - failed, failed))
    if failed:
        return 1
    if checked == 0:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
