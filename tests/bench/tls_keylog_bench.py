#!/usr/bin/env python3
"""tls_keylog_bench.py - the cost of decrypting with a key log (not a test).

    python3 tests/bench/tls_keylog_bench.py BUILD/smtpsleuth [SESSIONS] [BODY_KB] [REPS]

Makes (as root: it captures on lo with tcpdump) a capture whose sessions are
all STARTTLS sessions against the bundled server run with --tls-keylog,
half TLS 1.2 (AES-256-GCM) and half TLS 1.3, each sending one message of
BODY_KB kilobytes (defaults: 400 sessions, 64 KB), then times
`analyze -q FILE` against `analyze -q --tls-keylog KEYS FILE` (best of REPS,
default 5) and prints the ratio; the bar (issue 14) is at most 2x.
"""
import os
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

if os.geteuid() != 0 or not shutil.which("tcpdump"):
    sys.exit("needs root and tcpdump (captures on lo)")

body = b"From: a@client.example.test\r\nTo: b@example.org\r\nSubject: bench\r\n\r\n" + \
    (b"y" * 98 + b"\r\n") * (KB * 1024 // 100)
d = tempfile.mkdtemp(prefix="tlsbench-")
keys, pcap = os.path.join(d, "server.keys"), os.path.join(d, "tls.pcap")
with Server("--tls-keylog", keys, "--max-size", str(len(body) * 2)) as srv:
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-B", "65536", "-w", pcap,
                           "tcp port %d" % srv.port], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def best(args):
    t = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        subprocess.run([BIN, "analyze", "-q"] + args + [pcap], check=True, stdout=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"})
        t.append(time.perf_counter() - t0)
    return min(t)


size = os.path.getsize(pcap)
plain = best([])
dec = best(["--tls-keylog", keys])
out = subprocess.run([BIN, "analyze", "--json", "--tls-keylog", keys, pcap], stdout=subprocess.PIPE).stdout
decrypted = out.count(b'"decrypted":true')
print("capture: %d TLS sessions (half 1.2, half 1.3), %d KB message each, %.1f MB" % (N, KB, size / 1e6))
print("decrypted sessions: %d of %d" % (decrypted, N))
print("analyze without keys: %.3f s  with --tls-keylog: %.3f s  ratio %.2fx (bar: 2x)" % (plain, dec, dec / plain))
print("kept in", d) if os.environ.get("KEEP") else shutil.rmtree(d)
