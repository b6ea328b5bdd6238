#!/usr/bin/env python3
"""`live --fanout 2` on the loopback interface: two capture processes in one
PACKET_FANOUT group (hash mode) share the packets by flow. 20 SMTP sessions
against the bundled server must each be reported exactly once, whole (both
directions reached the same process: handshake seen, verdict completed),
with one summary whose counts add up to the two processes' packet counts,
and both processes must have captured part of the traffic. Then the same
with --fanout-split: one report file per process, no session in both, and
SIGINT to the parent ends every worker with its summary and exit 0.
Needs root (capture): exit 77 (skipped) otherwise. Bounded in time; every
process it starts is killed on exit."""
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SMTPSLEUTH")
SESSIONS = 20
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def drive(port):
    for i in range(SESSIONS):
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        s.ehlo("client%d.example.org" % i)
        s.sendmail("alice@example.org", ["bob@example.org"], "Subject: fanout %d\r\n\r\nhello\r\n" % i)
        s.quit()


def run_live(port, extra, tmp, stop_with_sigint=False):
    err = open(os.path.join(tmp, "live.err"), "w+")
    live = subprocess.Popen([BIN, "live", "-i", "lo", "--fanout", "2", "--json", "-f", "tcp port %d" % port]
                            + ([] if stop_with_sigint else ["--duration", "8"]) + extra,
                            stdout=subprocess.PIPE, stderr=err)
    procs.append(live)
    deadline = time.time() + 5
    while time.time() < deadline:     # both workers capturing (and joined) before traffic
        err.seek(0)
        if err.read().count("capturing on lo") == 2:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    drive(port)
    if stop_with_sigint:
        time.sleep(1)       # the last sessions' verdicts come within a second
        live.send_signal(signal.SIGINT)
    out, _ = live.communicate(timeout=30)
    err.seek(0)
    return live.returncode, out.decode(), err.read()


def worker_packets(stderr):
    counts = [int(n) for n in re.findall(r"live \[\d/2\]: (\d+) packets captured", stderr)]
    assert len(counts) == 2, stderr
    return counts


def check_sessions(sessions, port):
    ports = sorted(s["client"]["port"] for s in sessions)
    assert len(sessions) == SESSIONS, "%d sessions, expected %d" % (len(sessions), SESSIONS)
    assert len(set(ports)) == SESSIONS, "a session reported twice: %s" % ports
    for s in sessions:
        assert s["server"]["port"] == port
        assert s["tcp"]["handshake"] and not s["tcp"]["midstream"], s["tcp"]
        assert s["verdict"]["cause"] == "completed", s["verdict"]


def main():
    if not BIN:
        print("skip: SMTPSLEUTH not set")
        return 77
    if os.geteuid() != 0:
        print("skip: capturing on lo needs root")
        return 77
    try:
        port = free_port()
        srv = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:%d" % port],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(srv)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            # one merged output
            rc, out, err = run_live(port, [], tmp)
            assert rc == 0, err
            objs = [json.loads(l) for l in out.splitlines()]
            sessions = [o for o in objs if o["type"] == "session"]
            summaries = [o for o in objs if o["type"] == "summary"]
            check_sessions(sessions, port)
            assert len(summaries) == 1 and objs[-1]["type"] == "summary", "one summary, last"
            sm = summaries[0]
            pk = worker_packets(err)
            assert all(n > 0 for n in pk), "a process captured nothing: %s" % pk
            assert sm["records"] == sum(pk), (sm["records"], pk)
            assert sm["smtp_sessions"] == SESSIONS and sm["causes"]["completed"] == SESSIONS, sm
            assert sm["flows"] == sm["smtp_sessions"] + sm["other_flows"] + sum(sm["flows_dropped"].values())
            print("merged: %d sessions once each, packets per process %s" % (len(sessions), pk))

            # one report per process; stopped by SIGINT to the parent, passed on
            # once to each worker, which still writes its summary
            prefix = os.path.join(tmp, "report")
            rc, out, err = run_live(port, ["--fanout-split", prefix], tmp, stop_with_sigint=True)
            assert rc == 0, err
            assert out == "", "stdout not empty with --fanout-split"
            parts = []
            for k in (1, 2):
                objs = [json.loads(l) for l in open("%s.%d" % (prefix, k))]
                assert objs and objs[-1]["type"] == "summary", "report %d has no summary" % k
                parts.append([o for o in objs if o["type"] == "session"])
            check_sessions(parts[0] + parts[1], port)
            assert parts[0] and parts[1], "a process reported no session: %d/%d" % tuple(map(len, parts))
            print("split: %d + %d sessions" % (len(parts[0]), len(parts[1])))
    finally:
        cleanup()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
