#!/usr/bin/env python3
"""
test_live_tls_keylog.py - `live --tls-keylog FILE` follows a key log that
grows while it captures.

A server writes its keys as sessions come: the file is empty when live
starts, so every session here can only be decrypted if live reads the lines
appended after its start. On lo, `smtpsleuth serve --tls-keylog K` and
`smtpsleuth live -i lo --tls-keylog K --json`; Python's smtplib runs STARTTLS
sessions against the server with TLS 1.2 and 1.3 forced:
  1. an AUTH refused (535) then a message accepted, TLS 1.2;
  2. an AUTH accepted then a message over SIZE (552), TLS 1.3;
  3. the key log truncated to nothing (the server appends from the top
     again), then one session of each version: live must notice the file
     shrank and read it from the top;
  4. the key log rotated (renamed, a new empty file in its place): the
     server goes on writing to the renamed file, the client (Python's
     keylog_filename) writes its own lines to the new one; live must follow
     the name to the new file and decrypt with the client's lines.
Each session must come out of live decrypted (tls.decrypted), with the
cause the server logged for it; no secret of the key logs may appear in
live's output. Needs root (capture on lo): exit 77 otherwise. Bounded by an
alarm; every process started is stopped on exit.
"""
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP, Server  # noqa: E402

DEADLINE_S = 150
BIN = os.environ.get("SMTPSLEUTH", "")
if not BIN or not os.access(BIN, os.X_OK):
    print("SKIP: SMTPSLEUTH not set")
    sys.exit(SKIP)
if os.geteuid() != 0:
    print("SKIP: capturing on lo needs root")
    sys.exit(SKIP)
ENV = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
MSG = b"From: a@client.example.test\r\nTo: b@example.org\r\nSubject: t\r\n\r\nhello\r\n"


def on_alarm(signum, frame):
    print("FAIL: test deadline (%d s) passed" % DEADLINE_S)
    os._exit(1)


def session(port, version, auth_ok, big, keylog=None):
    """One STARTTLS session; returns the client port."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    if keylog:
        ctx.keylog_filename = keylog
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    cport = s.sock.getsockname()[1]
    s.ehlo("client.example.test")
    s.starttls(context=ctx)
    s.ehlo("client.example.test")
    try:
        s.login("alice", "correct-horse" if auth_ok else "wrong-password")
    except smtplib.SMTPAuthenticationError:
        pass
    try:
        s.sendmail("a@client.example.test", ["b@example.org"], MSG + (b"x" * 78 + b"\r\n") * (100 if big else 0))
    except smtplib.SMTPException:
        pass
    try:
        s.quit()
    except smtplib.SMTPException:
        s.close()
    return cport


def live_session(out_path, cport, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(out_path) as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                o = json.loads(line)
                if o.get("type") == "session" and o["client"]["port"] == cport:
                    return o
        time.sleep(0.05)
    return None


def secrets_of(*paths):
    out = []
    for p in paths:
        if os.path.exists(p):
            for line in open(p):
                f = line.split()
                if len(f) == 3 and not line.startswith("#"):
                    out += [f[2].lower(), f[2].upper()]
    return out


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEADLINE_S)
    c = Checker()
    d = tempfile.mkdtemp(prefix="sleuth-live-keylog-")
    keys = os.path.join(d, "server.keys")
    users = os.path.join(d, "users")
    with open(users, "w") as f:
        f.write("alice:correct-horse\n")
    out_path, err_path = os.path.join(d, "live.jsonl"), os.path.join(d, "live.err")
    live = None
    with Server("--tls-keylog", keys, "--users", users, "--max-size", "4000") as srv:
        # the server makes its key log at its first TLS session: none yet
        c.true("no key log line before any session", not os.path.exists(keys) or os.path.getsize(keys) == 0)
        live = subprocess.Popen([BIN, "live", "-i", "lo", "-f", "tcp port %d" % srv.port, "--json",
                                 "--tls-keylog", keys], stdout=open(out_path, "w"), stderr=open(err_path, "w"),
                                env=ENV)
        try:
            deadline = time.time() + 10
            while "capturing on" not in open(err_path).read() and time.time() < deadline:
                if live.poll() is not None:
                    break
                time.sleep(0.05)
            c.true("live started", "capturing on" in open(err_path).read(), open(err_path).read())
            time.sleep(0.3)
            v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
            ports = []
            ports.append(("TLS 1.2, AUTH refused, mail accepted", session(srv.port, v12, False, False)))
            ports.append(("TLS 1.3, AUTH accepted, 552 over SIZE", session(srv.port, v13, True, True)))
            # truncated: the server appends from the top again
            size_before = os.path.getsize(keys)
            os.truncate(keys, 0)
            ports.append(("truncated key log, TLS 1.2", session(srv.port, v12, True, False)))
            c.true("the key log is shorter after the truncation than before it",
                   os.path.getsize(keys) < size_before, (os.path.getsize(keys), size_before))
            ports.append(("truncated key log, TLS 1.3", session(srv.port, v13, False, False)))
            # rotated: renamed, a new file in its place that only the client writes to
            os.rename(keys, keys + ".1")
            open(keys, "w").close()
            ports.append(("rotated key log (client's lines), TLS 1.3",
                          session(srv.port, v13, True, False, keylog=keys)))
            ports.append(("rotated key log (client's lines), TLS 1.2",
                          session(srv.port, v12, True, True, keylog=keys)))
            srv.wait_sessions(len(ports), timeout=15)
            logged = {int(s["client"].rsplit(":", 1)[1]): s["cause"] for s in srv.sessions()}
            for what, cport in ports:
                o = live_session(out_path, cport)
                c.true("%s: live reported the session" % what, o is not None)
                if not o:
                    continue
                tls = o["smtp"]["tls"] or {}
                c.eq("%s: decrypted" % what, tls.get("decrypted"), True)
                c.eq("%s: the cause the server logged" % what, o["verdict"]["cause"], logged.get(cport))
        finally:
            live.send_signal(signal.SIGINT)
            try:
                rc = live.wait(timeout=10)
            except subprocess.TimeoutExpired:
                live.kill()
                rc = live.wait()
    c.eq("live exit status after SIGINT", rc, 0)
    outs = open(out_path).read() + open(err_path).read()
    leaked = [s[:8] for s in secrets_of(keys, keys + ".1") if s in outs]
    c.eq("no secret in live's output", leaked, [])
    summary = [json.loads(l) for l in open(out_path) if '"type":"summary"' in l]
    c.true("a summary", len(summary) == 1)
    c.done()


main()
