#!/usr/bin/env python3
"""Several files are one capture: corpus captures split with `editcap -c 15`
and given in shuffled order must give the same JSON as the whole file, apart
from the file/frame references (and the summary's file count); every
evidence item's (file, frame) must name the same packet as the whole file's
evidence item at the same place, checked with tshark (same timestamp and
length), and must carry the time tshark shows for that frame.
"""
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

# Captures whose records are in time order (a split of an out-of-order file
# is merged by time, as mergecap does, so it cannot be byte-identical).
FILES = [
    "suricata-smtp-errors.pcap",
    "arkime-smtp-decrypted.pcap",
    "ndpi-smtp-starttls.pcap",
    "chrissanders-mail-relay-two-hops.pcapng",
    "suricata-smtp-large-exchange.pcap",
    "packetlife-ipv6-smtp.pcapng",
]

FRAME_KEYS = {"file", "frame", "first_frame", "last_frame", "last_file"}


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in FRAME_KEYS}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def run(files):
    p = subprocess.run([BIN, "analyze", "--json"] + files, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"analyze {files} exited {p.returncode}: {p.stderr}")
    return [json.loads(l) for l in p.stdout.splitlines()]


_frames = {}


def frames_of(path):
    """frame number -> (epoch time string, length) for every frame, by tshark."""
    if path not in _frames:
        out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number",
                              "-e", "frame.time_epoch", "-e", "frame.len"],
                             capture_output=True, text=True, timeout=120).stdout
        d = {}
        for line in out.splitlines():
            n, t, ln = line.split("\t")
            d[int(n)] = (t, int(ln))
        _frames[path] = d
    return _frames[path]


def epoch_of_iso(s):
    # "2018-06-08T16:30:51.788642Z" -> seconds as a string with the same digits
    import datetime
    base, frac = s.rstrip("Z").split(".")
    dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()), frac


def same_time(iso, tshark_epoch):
    sec, frac = epoch_of_iso(iso)
    tsec, tfrac = tshark_epoch.split(".")
    n = min(len(frac), len(tfrac))
    return sec == int(tsec) and frac[:n] == tfrac[:n]


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    if not CORPUS or not os.path.isdir(CORPUS):
        print("corpus absent: skip")
        return 77
    for tool in ("editcap", "tshark"):
        if not shutil.which(tool):
            print(f"{tool} not installed: skip")
            return 77
    rng = random.Random(11)
    checked = 0
    parts_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in FILES:
            whole = os.path.join(CORPUS, name)
            if not os.path.exists(whole):
                print(f"{name}: not in the corpus: skip it")
                continue
            d = os.path.join(tmp, name)
            os.mkdir(d)
            ext = ".pcapng" if name.endswith(".pcapng") else ".pcap"
            subprocess.run(["editcap", "-c", "15", whole, os.path.join(d, "part" + ext)],
                           check=True, capture_output=True)
            parts = sorted(glob.glob(os.path.join(d, "part_*")))
            parts_total += len(parts)
            one = run([whole])
            for attempt in range(2):
                shuffled = parts[:]
                rng.shuffle(shuffled)
                many = run(shuffled)
                a = [strip(o) for o in one]
                b = [strip(o) for o in many]
                for o in a + b:
                    if o["type"] == "summary":
                        o.pop("files")
                if a != b:
                    print(f"FAIL {name}: JSON of {len(parts)} shuffled parts differs from the whole file")
                    for x, y in zip(a, b):
                        if x != y:
                            print(" whole:", json.dumps(x)[:600])
                            print(" parts:", json.dumps(y)[:600])
                            break
                    return 1
                if many[-1]["files"] != len(parts):
                    print(f"FAIL {name}: summary files {many[-1]['files']} != {len(parts)}")
                    return 1
                # Each evidence item: (file, frame) is the packet the whole
                # file's item cites, and its time is that frame's time.
                for so, mo in zip(one, many):
                    if so["type"] != "session":
                        continue
                    for se, me in zip(so["verdict"]["evidence"], mo["verdict"]["evidence"]):
                        if not se["frame"]:
                            continue
                        ft = frames_of(whole)[se["frame"]]
                        part = os.path.join(d, me["file"])
                        if not os.path.exists(part):
                            print(f"FAIL {name}: evidence names file {me['file']!r}, not one of the parts")
                            return 1
                        pt = frames_of(part).get(me["frame"])
                        if pt != ft:
                            print(f"FAIL {name}: session {so['id']} evidence {me['text']!r}: "
                                  f"{me['file']}:{me['frame']} is {pt}, whole-file frame {se['frame']} is {ft}")
                            return 1
                        if me["time"] and not same_time(me["time"], pt[0]):
                            print(f"FAIL {name}: evidence time {me['time']} != tshark {pt[0]}")
                            return 1
                        checked += 1
            print(f"ok {name}: {len(parts)} parts, JSON identical in shuffled order")
    if checked == 0:
        print("FAIL: no evidence frame was checked")
        return 1
    print(f"ok: {checked} evidence frames checked with tshark over {parts_total} parts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
