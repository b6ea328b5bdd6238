#!/usr/bin/env python3
"""tls_keylog_bench.py - the cost of decrypting with a key log (not a test).

    python3 tests/bench/tls_keylog_bench.py BUILD/smtpsleuth [SESSIONS] [BODY_KB] [REPS]

Makes (as root: it captures on lo with tcpdump) a capture whose sessions are
all STARTTLS sessions against the bundled server run with --tls-keylog,
half TLS 1.2 (AES-256-GCM) and half TLS 1.3, each sending one message of
BODY_KB kilobytes (defaults: 400 sessions, 64 KB), then times
`analyze -q FILE` against `analyze -q --tls-keylog KEYS FILE` (best of REPS,
default 5) and prints the ratio; the bar (issue 14) is at most 2x.

The runs with and without keys alternate, and each is measured twice: wall
clock, and the CPU time the child used (user + system, from getrusage). On a
shared, loaded machine the wall clock mostly measures the other jobs; the CPU
time much less so. REUSE=DIR times the capture kept in DIR by an earlier run
(KEEP=1) instead of making one.
"""
import os
import resource
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else sys.exit(__doc__)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400
KB = int(sys.argv[3]) if len(sys.argv) > 3 else 64
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
os.environ["SMTPSLEUTH"] = BIN
from sleuth_srv import Server  # noqa: E402

REUSE = os.environ.get("REUSE")
if not REUSE and (os.geteuid() != 0 or not shutil.which("tcpdump")):
    sys.exit("needs root and tcpdump (captures on lo)")

body = b"From: a@client.example.test\r\nTo: b@example.org\r\nSubject: bench\r\n\r\n" + \
    (b"y" * 98 + b"\r\n") * (KB * 1024 // 100)
d = REUSE or tempfile.mkdtemp(prefix="tlsbench-")
keys, pcap = os.path.join(d, "server.keys"), os.path.join(d, "tls.pcap")


def make_capture():
    with Server("--tls-keylog", keys, "--max-size", str(len(body) * 2)) as srv:
        td = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-B", "65536",
                               "-w", pcap, "tcp port %d" % srv.port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = b""
        while b"listening on" not in line and td.poll() is None:
            line = td.stderr.readline()
        for i in range(N):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            v = ssl.TLSVersion.TLSv1_2 if i % 2 == 0 else ssl.TLSVersion.TLSv1_3
            ctx.minimum_version = ctx.maximum_version = v
            s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
            s.starttls(context=ctx)
            s.sendmail("a@client.example.test", ["b@example.org"], body)
            s.quit()
        srv.wait_sessions(N, timeout=30)
        time.sleep(1)
        td.send_signal(signal.SIGINT)
        td.wait(10)


if not REUSE:
    make_capture()

ENV = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}


def once(args):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([BIN, "analyze", "-q"] + args + [pcap], check=True, stdout=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def best_pair():
    """Best (wall, cpu) without and with keys, the runs alternating."""
    res = {False: [9e9, 9e9], True: [9e9, 9e9]}
    for _ in range(REPS):
        for with_keys in (False, True):
            w, c = once(["--tls-keylog", keys] if with_keys else [])
            res[with_keys] = [min(res[with_keys][0], w), min(res[with_keys][1], c)]
    return res[False], res[True]


size = os.path.getsize(pcap)
(plain, plain_cpu), (dec, dec_cpu) = best_pair()
out = subprocess.run([BIN, "analyze", "--json", "--tls-keylog", keys, pcap], stdout=subprocess.PIPE, env=ENV).stdout
decrypted = out.count(b'"decrypted":true')
print("capture: %d TLS sessions (half 1.2, half 1.3), %d KB message each, %.1f MB" % (N, KB, size / 1e6))
print("decrypted sessions: %d of %d" % (decrypted, N))
print("analyze without keys: %.3f s  with --tls-keylog: %.3f s  ratio %.2fx (wall, best of %d)"
      % (plain, dec, dec / plain, REPS))
print("analyze without keys: %.3f s  with --tls-keylog: %.3f s  ratio %.2fx (CPU, best of %d; bar: 2x)"
      % (plain_cpu, dec_cpu, dec_cpu / plain_cpu, REPS))
print("load average: %.1f %.1f %.1f" % os.getloadavg())
print("kept in", d) if os.environ.get("KEEP") or REUSE else shutil.rmtree(d)
