"""Bad input and load against the bundled server: a 10 MB command line, a
10 MB body line, binary garbage, slowloris, thousands of half-open and idle
connections, 1,000 concurrent connections. After each, the server is up, a
fresh smtplib session still works, and VmRSS (/proc/PID/status) stayed bounded."""
import os
import random
import resource
import smtplib
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Server, Checker, connect  # noqa: E402

c = Checker()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
MB = 1024


def fresh_session_works(srv, what):
    # A normal client from another address than the flood's (127.0.0.1),
    # whose connections the per-address cap (--max-conn-per-ip) holds back.
    try:
        s = smtplib.SMTP(srv.host, srv.port, timeout=10, source_address=("127.0.0.2", 0))
        ok = s.sendmail("a@x.test", ["b@x.test"], "Subject: t\r\n\r\nhi\r\n") == {}
        s.quit()
    except Exception as e:  # noqa: BLE001
        ok = False
        print("  fresh session error:", e)
    c.true("%s: server alive" % what, srv.alive())
    c.true("%s: a fresh session still works" % what, ok)


with Server("--idle-timeout", "1") as srv:
    time.sleep(0.2)
    base = srv.rss_kb()

    # 10 MB command line without LF: one 500 5.5.2, memory does not follow.
    k = connect(srv)
    k.reply()
    chunk = b"A" * 65536
    for _ in range(160):
        k.send(chunk)
    code, lines = k.reply()
    c.eq("10 MB line: 500", code, 500)
    c.true("... 5.5.2 line too long", lines[0].startswith("500 5.5.2"), lines)
    k.send(b"\r\nNOOP\r\n")
    c.eq("session usable after the long line", k.reply()[0], 250)
    grow = srv.rss_kb() - base
    c.true("10 MB line: RSS grew < 8 MB (%d kB)" % grow, grow < 8 * MB)
    fresh_session_works(srv, "10 MB line")
    k.cmd("QUIT")

    # 10 MB body line in DATA: accepted, not held.
    k = connect(srv)
    k.reply()
    k.cmd("EHLO x.test")
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<b@x.test>")
    c.eq("DATA", k.cmd("DATA")[0], 354)
    for _ in range(160):
        k.send(chunk)
    k.send(b"\r\n.\r\n")
    c.eq("10 MB body line accepted", k.reply(timeout=20)[0], 250)
    grow = srv.rss_kb() - base
    c.true("10 MB body line: RSS grew < 8 MB (%d kB)" % grow, grow < 8 * MB)
    k.cmd("QUIT")

    # Binary garbage: error replies, then 421 after the error limit, FIN.
    rnd = random.Random(5321)
    k = connect(srv)
    k.reply()
    garbage = bytes(rnd.randrange(256) for _ in range(200000))
    try:
        k.send(garbage)
    except OSError:
        pass
    kind = k.close_kind(timeout=5)
    c.true("garbage: connection ended by the server (%s)" % kind, kind in ("fin", "rst"))
    log = srv.session_for(k.port)
    c.eq("garbage: cause too_many_errors", log["cause"], "too_many_errors")
    fresh_session_works(srv, "garbage")

    # Slowloris: 50 connections dribbling an endless line one byte at a time.
    slow = [connect(srv) for _ in range(50)]
    for s in slow:
        s.reply()
    t0 = time.time()
    alive = len(slow)
    while time.time() - t0 < 4 and alive:
        alive = 0
        for s in slow:
            try:
                s.sock.send(b"x")
                alive += 1
            except OSError:
                pass
        time.sleep(0.1)
    c.eq("slowloris: all 50 dropped within 4 s (line timed from its first byte)", alive, 0)
    fresh_session_works(srv, "slowloris")
    for s in slow:
        s.close()

    # Half-open: 2,000 connections that half-close after EHLO, 1,000 that
    # connect and never speak, some that reset right away.
    half = []
    for i in range(2000):
        s = socket.create_connection((srv.host, srv.port), timeout=10)
        s.sendall(b"EHLO half.test\r\n")
        s.shutdown(socket.SHUT_WR)
        half.append(s)
    mute = [socket.create_connection((srv.host, srv.port), timeout=10) for _ in range(1000)]
    for _ in range(200):
        s = socket.create_connection((srv.host, srv.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()
    fresh_session_works(srv, "3,200 half-open/mute/reset connections")
    rss = srv.rss_kb()
    c.true("half-open flood: RSS < base + 150 MB (%d kB over)" % (rss - base), rss - base < 150 * MB)
    for s in half + mute:
        s.close()

# 1,000 concurrent connections, all greeted, and the server keeps serving.
# They come from 250 loopback addresses, 4 each, within the per-address cap.
with Server() as srv:
    time.sleep(0.2)
    base = srv.rss_kb()
    conns = []
    for i in range(1000):
        src = ("127.0.1.%d" % (i % 250 + 1), 0)
        conns.append(socket.create_connection((srv.host, srv.port), timeout=10, source_address=src))
    greeted = 0
    for s in conns:
        s.settimeout(10)
        if s.recv(512).startswith(b"220 "):
            greeted += 1
    c.eq("1,000 concurrent connections greeted", greeted, 1000)
    for s in conns[:100]:
        s.sendall(b"EHLO many.test\r\n")
    answered = sum(1 for s in conns[:100] if s.recv(4096).startswith(b"250"))
    c.eq("100 of them served while all are open", answered, 100)
    fresh_session_works(srv, "1,000 open connections")
    per_conn = (srv.rss_kb() - base) / 1000.0
    c.true("memory per connection < 100 kB (%.1f kB)" % per_conn, per_conn < 100)
    for s in conns:
        s.close()
    srv.wait_sessions(1001, timeout=20)
    c.true("server alive after 1,000 closes", srv.alive())
c.done()
