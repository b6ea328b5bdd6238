#!/usr/bin/env python3
"""Every corpus capture cut at 20 offsets (in headers, inside records, on
record boundaries): the JSON stays valid line by line, a cut that is not on a
record boundary is an error in the summary (and exit status 1), and no
session gets a cause the damage made up: each session's cause is
capture_incomplete or the cause the whole file gives it (what the part read
already proves). A session cut by the damage (fewer packets than in the
whole file, and not closed in the part read) names the damage in its
explanation when it is capture_incomplete.
"""
import concurrent.futures
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
OFFSETS = 20


def boundaries(data):
    """Offsets where a record (pcap) or block (pcapng) ends, and the header end."""
    out = set()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x0A0D0D0A:                 # pcapng
        bo = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off = 0
        while off + 12 <= len(data):
            ln = struct.unpack(bo + "I", data[off + 4:off + 8])[0]
            if ln < 12:
                break
            off += ln
            out.add(off)
        return out
    bo = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    out.add(off)
    while off + 16 <= len(data):
        caplen = struct.unpack(bo + "I", data[off + 8:off + 12])[0]
        off += 16 + caplen
        out.add(off)
    return out


def run(path):
    p = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode("utf-8")


def key(o):
    return (o["client"]["ip"], o["client"]["port"], o["server"]["ip"], o["server"]["port"], o["start"])


def check_cut(name, full_sessions, data, off, tmp):
    cut = os.path.join(tmp, f"{off}-{name}")
    with open(cut, "wb") as f:
        f.write(data[:off])
    rc, out = run(cut)
    os.unlink(cut)
    objs = []
    for i, line in enumerate(out.splitlines()):
        try:
            objs.append(json.loads(line))
        except ValueError as e:
            return f"{name} cut at {off}: line {i + 1} is not JSON ({e})"
    if not objs or objs[-1].get("type") != "summary":
        return f"{name} cut at {off}: no summary (exit {rc})"
    summ = objs[-1]
    on_boundary = off in boundaries(data)
    if not on_boundary:
        if not summ.get("errors") or rc != 1:
            return f"{name} cut at {off} (inside a header or record): errors {summ.get('errors')}, exit {rc}"
    for o in objs[:-1]:
        full = full_sessions.get(key(o))
        if full is None:
            continue            # a flow first seen as a stray packet: nothing to compare
        cause, fcause = o["verdict"]["cause"], full["verdict"]["cause"]
        if cause not in ("capture_incomplete", fcause):
            return (f"{name} cut at {off}: session {o['id']} ({o['client']['port']}) is {cause}; "
                    f"the whole file says {fcause}: {o['verdict']['explanation'][:300]}")
        lost = o["last_frame"] < full["last_frame"]
        if lost and cause == "capture_incomplete" and summ.get("errors") and o["tcp"]["close"] == "none":
            if not any(e.split(":")[0] in o["verdict"]["explanation"] for e in summ["errors"]):
                return f"{name} cut at {off}: session {o['id']} cut but the damage is not named: {o['verdict']['explanation'][:200]}"
    return None


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    files = sorted(glob.glob(os.path.join(CORPUS, "*.pcap")) + glob.glob(os.path.join(CORPUS, "*.pcapng")))
    if not files:
        print("corpus absent: skip")
        return 77
    jobs, total = [], 0
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(2) as pool:
        for path in files:
            name = os.path.basename(path)
            data = open(path, "rb").read()
            rc, out = run(path)
            full = {}
            for line in out.splitlines():
                o = json.loads(line)
                if o["type"] == "session":
                    full[key(o)] = o
            size = len(data)
            offs = sorted({max(1, size * k // (OFFSETS + 1)) for k in range(1, OFFSETS + 1)} | {20, 30})
            offs = [o for o in offs if o < size][:OFFSETS]
            for off in offs:
                jobs.append(pool.submit(check_cut, name, full, data, off, tmp))
                total += 1
        failures = [j.result() for j in jobs]
    failures = [f for f in failures if f]
    for f in failures[:20]:
        print("FAIL", f)
    if failures:
        print(f"{len(failures)} of {total} cuts failed")
        return 1
    print(f"ok: {total} cuts of {len(files)} captures: valid JSON, errors reported, no made-up cause")
    return 0


if __name__ == "__main__":
    sys.exit(main())
