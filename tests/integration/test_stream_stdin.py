#!/usr/bin/env python3
"""`analyze -` as a pipe's reader: a corpus capture is written into the pipe
record by record, slowly, as `tcpdump -U -w -` would.

1. Streaming: each session's JSON line arrives within 1 s of the record that
   ended it (its last frame) being written, while the pipe is still open.
2. SIGINT while a session is open (the pipe still open, the reader blocked):
   the open session is reported with capture_incomplete naming "analysis
   interrupted", the summary follows (interrupted: SIGINT), exit status 130.
   SIGTERM: the same, exit status 143.
Each check runs with --threads 1 and with --threads 2 (the stage thread).
"""
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
CAPTURE = "suricata-smtp-errors.pcap"
GAP = 0.02          # seconds between records written
LATENCY = 1.0       # a session's line must arrive this soon after its last frame


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    hdr, off, recs = data[:24], 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return hdr, recs


class Reader(threading.Thread):
    """Collects stdout lines with their arrival time."""

    def __init__(self, f):
        super().__init__(daemon=True)
        self.f, self.lines = f, []

    def run(self):
        for line in self.f:
            self.lines.append((time.monotonic(), line))


THREADS = "2"   # set by main(): every check runs with --threads 1 and 2


def start():
    return subprocess.Popen([BIN, "analyze", "--threads", THREADS, "--json", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)


def test_streaming(hdr, recs):
    p = start()
    rd = Reader(p.stdout)
    rd.start()
    p.stdin.write(hdr)
    written = {}
    for i, r in enumerate(recs, 1):
        p.stdin.write(r)
        written[i] = time.monotonic()
        time.sleep(GAP)
    time.sleep(1.5)             # the pipe stays open: nothing more comes
    before_close = len(rd.lines)
    p.stdin.close()
    rc = p.wait(timeout=60)
    rd.join(timeout=10)
    if rc != 0:
        return f"exit status {rc}: {p.stderr.read().decode(errors='replace')[-300:]}"
    streamed = 0
    for when, line in rd.lines[:before_close]:
        o = json.loads(line)
        if o["type"] != "session":
            continue
        lat = when - written[o["last_frame"]]
        if lat > LATENCY:
            return f"session {o['id']} arrived {lat:.2f} s after its last frame {o['last_frame']} was written"
        streamed += 1
        print(f"  session {o['id']}: line {lat * 1000:.0f} ms after its last frame")
    if streamed == 0:
        return "no session line arrived while the pipe was open"
    kinds = [json.loads(l)["type"] for _, l in rd.lines]
    if kinds[-1] != "summary":
        return "no summary at the end"
    return None


def test_signal(hdr, recs, sig, want_rc, name):
    # Feed up to the middle of a session: the second session's first half.
    p = start()
    rd = Reader(p.stdout)
    rd.start()
    p.stdin.write(hdr)
    cut = 20
    for r in recs[:cut]:
        p.stdin.write(r)
    time.sleep(1.0)             # the reader is now blocked on the open pipe
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        return f"{name}: still running 20 s after the signal"
    rd.join(timeout=10)
    p.stdin.close()
    err = p.stderr.read().decode(errors="replace")
    if rc != want_rc:
        return f"{name}: exit status {rc}, want {want_rc}; stderr {err[-300:]}"
    objs = [json.loads(l) for _, l in rd.lines]
    if not objs or objs[-1]["type"] != "summary":
        return f"{name}: no summary after the signal"
    summ = objs[-1]
    if summ.get("interrupted") != name:
        return f"{name}: summary interrupted = {summ.get('interrupted')!r}"
    if summ.get("errors"):
        return f"{name}: the interrupted read was reported as an input error: {summ['errors']}"
    open_ones = [o for o in objs if o["type"] == "session" and "analysis interrupted" in o["verdict"]["explanation"]]
    if not open_ones:
        return f"{name}: no open session reported with 'analysis interrupted'"
    for o in open_ones:
        if o["verdict"]["cause"] != "capture_incomplete" and not o["verdict"]["reply"]:
            return f"{name}: open session {o['id']} got {o['verdict']['cause']} without a reply proving it"
    print(f"  {name}: {len(open_ones)} open session(s) reported, summary printed, exit {rc}")
    return None


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    path = os.path.join(CORPUS, CAPTURE)
    if not os.path.exists(path):
        print(f"{CAPTURE} not in the corpus: skip")
        return 77
    hdr, recs = read_pcap(path)
    global THREADS
    for THREADS in ("1", "2"):
        for what, fn in (("streaming", lambda: test_streaming(hdr, recs)),
                         ("SIGINT", lambda: test_signal(hdr, recs, signal.SIGINT, 130, "SIGINT")),
                         ("SIGTERM", lambda: test_signal(hdr, recs, signal.SIGTERM, 143, "SIGTERM"))):
            problem = fn()
            if problem:
                print(f"FAIL {what} (--threads {THREADS}): {problem}")
                return 1
            print(f"ok {what} (--threads {THREADS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
