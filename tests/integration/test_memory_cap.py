#!/usr/bin/env python3
"""Memory is bounded by --memory-cap, and no flow a cap ends goes unreported.

Generated captures (tests/bench/gen_flood.py; the benchmark runs the same at
1 M flows, tests/bench/memcap_bench.sh):
- 20k one-packet flows, each a server greeting, analysed under the smallest
  cap (4M): every flow is reported as a session, the evicted ones as
  capture_incomplete ending "evicted_memory", and the summary adds up.
- a 60k-flow SYN flood under the same cap (a SYN-only flow is small: most
  of them are evicted only at that size): every flow is reported too.
- the greetings under --max-flows 16: evicted ones reported ("evicted").
- the default cap holds 20k flows: nothing is evicted.
- a dialog cut by --max-flows (16 SYNs from other clients arrive in its
  middle) is reported twice: its first part as capture_incomplete (evicted),
  the rest as a flow marked mid-stream whose verdict is not of high
  confidence, although the rest holds a decisive-looking 421.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, HERE)
import gen_flood  # noqa: E402
from html_pcap import Capture  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH")
N = 20000
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)


def run(args):
    p = subprocess.run([BIN, "analyze", "--json"] + args, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr[:300]}")
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    sessions = [x for x in lines if x.get("type") == "session"]
    summary = [x for x in lines if x.get("type") == "summary"]
    check(len(summary) == 1, f"{args}: one summary, got {len(summary)}")
    return sessions, summary[0] if summary else {}


def adds_up(name, s):
    dropped = s["flows_dropped"]["evicted"] + s["flows_dropped"]["untracked"]
    check(s["flows"] == s["smtp_sessions"] + s["other_flows"] + dropped,
          f"{name}: summary does not add up: {s['flows']} != {s['smtp_sessions']} + {s['other_flows']} + {dropped}")


def flood(kind, args, expect_end, n=N):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, kind + ".pcap")
        gen_flood.write(kind, n, path)
        sessions, s = run(args + [path])
    name = f"{kind} {' '.join(args)}"
    adds_up(name, s)
    check(s.get("flows") == n, f"{name}: {s.get('flows')} flows, expected {n}")
    check(len(sessions) == n, f"{name}: {len(sessions)} sessions reported, expected every one of {n}")
    check(s.get("sessions_reported") == n, f"{name}: sessions_reported {s.get('sessions_reported')}")
    check(len({x['client']['port'] + 65536 * int(x['client']['ip'].split('.')[-1]) for x in sessions}) == n,
          f"{name}: some flow reported twice, another never")
    ended = [x for x in sessions if x["tcp"]["end"] == expect_end]
    if expect_end:
        check(len(ended) > n // 2, f"{name}: only {len(ended)} sessions ended {expect_end}")
        key = "memory_cap" if expect_end == "evicted_memory" else "flow_table"
        check(s["evicted"][key] == len(ended), f"{name}: summary evicted.{key} {s['evicted'][key]} != {len(ended)}")
        bad = [x for x in ended if x["verdict"]["cause"] != "capture_incomplete" or "evicted" not in x["verdict"]["explanation"]]
        check(not bad, f"{name}: {len(bad)} evicted sessions without capture_incomplete naming the eviction")
    else:
        check(s["evicted"] == {"flow_table": 0, "memory_cap": 0}, f"{name}: evictions under the default cap: {s['evicted']}")
    return sessions


def evicted_then_resumed():
    c = Capture()
    cli, srv = "192.0.2.10", "198.51.100.25"
    cs, ss = 1000, 5000

    def c2s(data=b"", flags=0x18):
        nonlocal cs
        c.packet(cli, 40000, srv, 25, cs, ss, flags, data)
        cs += len(data)
        c.t += 0.001

    def s2c(data=b"", flags=0x18):
        nonlocal ss
        c.packet(srv, 25, cli, 40000, ss, cs, flags, data)
        ss += len(data)
        c.t += 0.001

    c.packet(cli, 40000, srv, 25, cs - 1, 0, 0x02)
    c.packet(srv, 25, cli, 40000, ss - 1, cs, 0x12)
    c2s(flags=0x10)
    s2c(b"220 mx.example.test ESMTP\r\n")
    c2s(b"EHLO client.example.test\r\n")
    s2c(b"250 mx.example.test\r\n")
    c2s(b"MAIL FROM:<a@example.test>\r\n")
    s2c(b"250 2.1.0 Ok\r\n")
    for i in range(16):     # other clients fill the table: the dialog is evicted
        c.packet("192.0.2.%d" % (100 + i), 50000 + i, srv, 25, 7, 0, 0x02)
        c.t += 0.001
    c2s(b"RCPT TO:<b@example.test>\r\n")
    s2c(b"421 4.7.0 Too many errors, closing connection\r\n")
    s2c(flags=0x11)
    c2s(flags=0x11)
    s2c(flags=0x10)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "resumed.pcap")
        c.write(path)
        sessions, s = run(["--max-flows", "16", path])
    adds_up("resumed", s)
    ours = [x for x in sessions if x["client"]["port"] == 40000]
    check(len(ours) == 2, f"resumed: the dialog should be reported in two parts, got {len(ours)}")
    if len(ours) != 2:
        return
    first, rest = sorted(ours, key=lambda x: x["first_frame"])
    check(first["tcp"]["end"] == "evicted", f"resumed: first part ended {first['tcp']['end']}")
    check(first["verdict"]["cause"] == "capture_incomplete", f"resumed: first part {first['verdict']['cause']}")
    check(first["smtp"]["messages"] and first["smtp"]["messages"][0]["mail_from"] == "a@example.test",
          "resumed: the first part lost its MAIL FROM")
    check(rest["tcp"]["midstream"] is True, "resumed: the rest is not marked mid-stream")
    check(rest["verdict"]["confidence"] != "high",
          f"resumed: the rest got a confident verdict on half a dialog: {rest['verdict']['cause']} ({rest['verdict']['confidence']})")
    check("evicted" in rest["verdict"]["explanation"], "resumed: the rest's explanation does not say it follows an eviction")


def main():
    if not BIN:
        print("SMTPSLEUTH not set")
        return 77
    flood("payload", ["--memory-cap", "4M"], "evicted_memory")
    # a SYN-only flow costs a few hundred bytes: 4M holds some 12,000
    flood("syn", ["--memory-cap", "4M"], "evicted_memory", 3 * N)
    flood("payload", ["--max-flows", "16"], "evicted")
    flood("payload", [], None)
    evicted_then_resumed()
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
