#!/usr/bin/env python3
"""--json output is valid JSON (checked by jq when present, and by Python) on
every corpus capture and on damaged copies of them: bytes flipped inside
packets, records cut short, files truncated at random offsets. The analyzer
must exit 0 or 1 (never die on a signal) and always print its summary.
The mutations come from a fixed seed, so a failure is reproducible."""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
MUTANTS_PER_FILE = 6


def mutate(data, rng):
    b = bytearray(data)
    kind = rng.randrange(3)
    if kind == 0:  # flip bytes past the file header
        for _ in range(rng.randrange(1, 40)):
            i = rng.randrange(24, len(b)) if len(b) > 24 else 0
            b[i] = rng.randrange(256)
    elif kind == 1:  # truncate
        del b[rng.randrange(24, max(25, len(b))):]
    else:  # insert garbage in the middle
        i = rng.randrange(24, max(25, len(b)))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return bytes(b)


def check(path, jq):
    p = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, timeout=120)
    if p.returncode not in (0, 1):
        return f"exit status {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}"
    lines = p.stdout.decode("utf-8").splitlines()
    types = [json.loads(l)["type"] for l in lines]
    if not types or types[-1] != "summary":
        return "no summary at the end"
    if jq:
        q = subprocess.run([jq, "-e", "."], input=p.stdout, capture_output=True, timeout=60)
        if q.returncode != 0:
            return "jq rejected the output: " + q.stderr.decode(errors="replace")[:200]
    return None


def main():
    if not BIN:
        print("SMTPSLEUTH not set; skipped")
        return 77
    files = sorted(glob.glob(os.path.join(CORPUS, "*.pcap")) + glob.glob(os.path.join(CORPUS, "*.pcapng")))
    if not files:
        print("corpus absent; skipped")
        return 77
    jq = shutil.which("jq")
    rng = random.Random(20261123)
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            data = open(f, "rb").read()
            cases = [(os.path.basename(f), f)]
            for k in range(MUTANTS_PER_FILE):
                m = os.path.join(tmp, f"{os.path.basename(f)}.m{k}")
                with open(m, "wb") as out:
                    out.write(mutate(data, rng))
                cases.append((os.path.basename(m), m))
            for name, path in cases:
                err = check(path, jq)
                if err:
                    failed += 1
                    print(f"FAIL {name}: {err}")
                    keep = os.path.join(os.environ.get("SLEUTH_BUILD_DIR", tmp), "failed-" + name)
                    shutil.copy(path, keep)
                else:
                    passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
