#!/usr/bin/env python3
"""analyze's filters as tcpdump/tshark users run them, on corpus captures:

- `-f BPF` on a file and on stdin analyses exactly the records
  `tcpdump -r FILE EXPR` prints, and keeps the file's frame numbers;
  a bad expression is a usage error (exit 2);
- `--host` (repeatable, CIDR) and `--port` (repeatable) report the union;
- `--since`/`--until` (ISO 8601 or epoch) keep the records in the window;
- `-c N` analyses N records;
- a gzip-compressed capture gives the same JSON as the plain one (apart from
  its name), and a cut one reports an error.
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
CAP = "suricata-smtp-errors.pcap"       # 4 sessions, 4 clients, ports 25 and 465


def run(args, stdin=None):
    p = subprocess.run([BIN, "analyze", "--json"] + args, input=stdin, capture_output=True, timeout=120)
    objs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, objs, p.stderr.decode(errors="replace")


def sessions(objs):
    return [o for o in objs if o["type"] == "session"]


def strip_names(o):
    if isinstance(o, dict):
        return {k: strip_names(v) for k, v in o.items() if k not in ("file", "last_file")}
    if isinstance(o, list):
        return [strip_names(v) for v in o]
    return o


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    path = os.path.join(CORPUS, CAP)
    if not os.path.exists(path) or not shutil.which("tcpdump"):
        print("corpus or tcpdump absent: skip")
        return 77
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    rc, whole, _ = run([path])
    all_s = sessions(whole)
    check(rc == 0 and len(all_s) == 4, f"whole file: 4 sessions (got {len(all_s)})")

    # -f BPF, file and stdin, against tcpdump -r
    for expr in ("tcp port 25 and host 10.6.8.101", "tcp port 465", "src host 10.7.29.101"):
        n = len(subprocess.run(["tcpdump", "-nr", path, expr], capture_output=True, text=True).stdout.splitlines())
        rc, objs, err = run(["-f", expr, path])
        check(rc == 0 and objs[-1]["records"] == n, f"-f '{expr}' on a file: {objs[-1]['records']} records, tcpdump {n}")
        with open(path, "rb") as f:
            rc2, objs2, _ = run(["-f", expr, "-"], stdin=f.read())
        check(rc2 == 0 and objs2[-1]["records"] == n, f"-f '{expr}' on stdin: {objs2[-1]['records']} records, tcpdump {n}")
    # frame numbers under a filter are still the file's
    rc, objs, _ = run(["-f", "tcp port 25 and host 10.6.8.101", path])
    got = sessions(objs)
    want = [s for s in all_s if s["client"]["ip"] == "10.6.8.101"]
    check(len(got) == 1 and got[0]["verdict"]["evidence"] == want[0]["verdict"]["evidence"],
          "-f keeps the file's frame numbers in the evidence")
    rc, objs, err = run(["-f", "tcp port", path])
    check(rc == 2 and "-f" in err, f"a bad BPF expression is a usage error (exit {rc}: {err.strip()[:80]})")

    # --host repeatable and CIDR, --port repeatable
    rc, objs, _ = run(["--host", "10.6.8.101", "--host", "10.7.29.101", path])
    got = {s["client"]["ip"] for s in sessions(objs)}
    check(got == {"10.6.8.101", "10.7.29.101"}, f"--host A --host B: both ({sorted(got)})")
    rc, objs, _ = run(["--host", "10.0.0.0/8", path])
    got = {s["client"]["ip"] for s in sessions(objs)}
    check(got == {"10.6.8.101", "10.7.29.101", "10.4.16.101"}, f"--host 10.0.0.0/8: the three 10.x clients ({sorted(got)})")
    rc, objs, _ = run(["--host", "104.131.33.0/24", path])
    check([s["server"]["port"] for s in sessions(objs)] == [465], "--host CIDR matches the server side too")
    rc, objs, _ = run(["--port", "465", "--port", "49274", path])
    got = sorted(s["client"]["port"] for s in sessions(objs))
    check(got == [49274, 50649], f"--port 465 --port 49274: two sessions ({got})")
    rc, objs, err = run(["--host", "10.0.0.0/33", path])
    check(rc == 2, "--host with a bad prefix is a usage error")

    # --since / --until against the records' own times
    times = [float(t) for t in subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch"],
                                              capture_output=True, text=True).stdout.split()] \
        if shutil.which("tshark") else []
    if times:
        since, until = 1528475452, 1564419697.0
        n = sum(1 for t in times if since <= t <= until)
        rc, objs, _ = run(["--since", "2018-06-08T16:30:52Z", "--until", str(until), path])
        check(objs[-1]["records"] == n, f"--since ISO --until epoch: {objs[-1]['records']} records, want {n}")
        rc, objs, _ = run(["--since", "2019-07-29T17:01:37+00:00", path])
        n = sum(1 for t in times if t >= 1564419697)
        check(objs[-1]["records"] == n, f"--since with an offset: {objs[-1]['records']} records, want {n}")
    rc, objs, err = run(["--since", "last week", path])
    check(rc == 2, "--since with a bad time is a usage error")

    # -c N
    rc, objs, _ = run(["-c", "10", path])
    check(objs[-1]["records"] == 10, f"-c 10: {objs[-1]['records']} records")
    rc, objs, _ = run(["-c", "10", "-f", "tcp port 465", path])
    check(objs[-1]["records"] == 10 and all(s["server"]["port"] == 465 for s in sessions(objs)),
          "-c counts the records the filter lets through")

    # .gz read directly
    with tempfile.TemporaryDirectory() as tmp:
        gz = os.path.join(tmp, CAP + ".gz")
        with open(path, "rb") as f, gzip.open(gz, "wb") as g:
            g.write(f.read())
        rc, objs, _ = run([gz])
        check(rc == 0 and [strip_names(o) for o in objs] == [strip_names(o) for o in whole],
              ".pcap.gz gives the same JSON as the plain file")
        check(sessions(objs)[0]["file"] == gz, ".pcap.gz sessions name the .gz file")
        cut = os.path.join(tmp, "cut.pcap.gz")
        with open(gz, "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        rc, objs, _ = run([cut])
        check(rc == 1 and objs[-1]["errors"] and sessions(objs), f"a cut .pcap.gz: exit {rc}, error and the sessions before it")
    if fails:
        print(f"{len(fails)} checks failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
