"""Core SMTP of the bundled server, driven by Python's smtplib and raw sockets:
greeting, EHLO extensions, a message through, dot-unstuffing into a Maildir,
BDAT, RSET/NOOP/VRFY/HELP, pipelining, IPv6, and the session log."""
import os
import smtplib
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Server, Checker, connect  # noqa: E402

c = Checker()

with Server("--max-size", "100000") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    code, _ = s.ehlo("client.test")
    c.eq("EHLO 250", code, 250)
    for ext in ("size", "pipelining", "8bitmime", "enhancedstatuscodes", "chunking", "starttls"):
        c.true("EHLO advertises " + ext, s.has_extn(ext))
    c.eq("SIZE value", s.esmtp_features.get("size"), "100000")
    c.eq("NOOP", s.noop()[0], 250)
    code, msg = s.verify("someone")
    c.eq("VRFY 252", code, 252)
    c.true("VRFY enhanced code", msg.startswith(b"2.0.0"), msg)
    c.eq("HELP 214", s.docmd("HELP")[0], 214)
    c.eq("RSET", s.rset()[0], 250)
    refused = s.sendmail("a@client.test", ["b@example.org", "c@example.org"],
                         "Subject: hi\r\n\r\nhello\r\n")
    c.eq("sendmail accepted", refused, {})
    code, msg = s.docmd("FOO")
    c.eq("unknown command 502", code, 502)
    c.true("unknown command enhanced 5.5.2", msg.startswith(b"5.5.2"), msg)
    code, msg = s.docmd("RCPT TO:<x@y.test>")
    c.eq("RCPT without MAIL 503", code, 503)
    c.true("503 enhanced 5.5.1", msg.startswith(b"5.5.1"), msg)
    port = s.sock.getsockname()[1]
    c.eq("QUIT 221", s.quit()[0], 221)
    log = srv.session_for(port)
    c.eq("log cause completed", log.get("cause"), "completed")
    c.eq("log msgs", log.get("msgs"), "1")
    c.eq("log closed_by", log.get("closed_by"), "server")
    c.eq("log close", log.get("close"), "fin")
    c.eq("log errors counted", log.get("errors"), "2")

# Maildir: dot-unstuffing, CRLF.CRLF only ends the message, atomic new/.
md = os.path.join(__import__("tempfile").mkdtemp(prefix="sleuth-md-"), "Maildir")
with Server("--maildir", md) as srv:
    k = connect(srv)
    c.eq("greeting 220", k.reply()[0], 220)
    # Pipelined: EHLO, MAIL, RCPT, DATA in one write.
    k.send("EHLO p.test\r\nMAIL FROM:<a@p.test>\r\nRCPT TO:<b@p.test>\r\nDATA\r\n")
    codes = [k.reply()[0] for _ in range(4)]
    c.eq("pipelined replies", codes, [250, 250, 250, 354])
    body = b"Subject: dots\r\n\r\n..leading dot\r\n.\rnot end\r\nbare\nlf\r\n"
    k.send(body + b".\r\n")
    code, lines = k.reply()
    c.eq("message accepted", code, 250)
    c.true("queued enhanced 2.0.0", lines[0].startswith("250 2.0.0"), lines)
    # BDAT: two chunks, the second LAST.
    k.send("MAIL FROM:<a@p.test>\r\nRCPT TO:<b@p.test>\r\n")
    c.eq("MAIL/RCPT before BDAT", [k.reply()[0], k.reply()[0]], [250, 250])
    k.send(b"BDAT 10\r\n0123456789BDAT 5 LAST\r\nabcde")
    c.eq("BDAT chunk", k.reply()[0], 250)
    c.eq("BDAT LAST", k.reply()[0], 250)
    c.eq("QUIT", k.cmd("QUIT")[0], 221)
    c.eq("server closes with FIN after QUIT", k.close_kind(), "fin")
    files = sorted(os.listdir(os.path.join(md, "new")))
    c.eq("two messages in new/", len(files), 2)
    c.eq("tmp/ empty", os.listdir(os.path.join(md, "tmp")), [])
    got = sorted(open(os.path.join(md, "new", f), "rb").read() for f in files)
    # RFC 5321 4.5.2: a leading dot is removed from any line that has more
    # characters, so ".\rnot end" loses its dot too.
    want = sorted([b"Subject: dots\r\n\r\n.leading dot\r\n\rnot end\r\nbare\nlf\r\n",
                   b"0123456789abcde"])
    c.eq("stored bytes (dot-unstuffed, BDAT joined)", got, want)
    log = srv.session_for(k.port)
    c.eq("maildir session completed", log.get("cause"), "completed")
    c.eq("maildir session msgs", log.get("msgs"), "2")

# The same dialog whole and one byte per write: same stored bytes (framing
# and the DATA scanner must not depend on how TCP splits the stream).
md2 = os.path.join(__import__("tempfile").mkdtemp(prefix="sleuth-md-"), "Maildir")
dialog = (b"EHLO split.test\r\nMAIL FROM:<a@s.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n"
          b"Subject: split\r\n\r\n..x\r\n.\r.\r\n\r\nend\r\n.\r\nQUIT\r\n")
with Server("--maildir", md2) as srv:
    for mode in ("whole", "bytewise"):
        k = connect(srv)
        k.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        k.reply()
        if mode == "whole":
            k.send(dialog)
        else:
            for i in range(len(dialog)):
                k.send(dialog[i:i + 1])
        codes = [k.reply()[0] for _ in range(6)]
        c.eq("%s: replies" % mode, codes, [250, 250, 250, 354, 250, 221])
        k.close()
    files = sorted(os.listdir(os.path.join(md2, "new")))
    bodies = [open(os.path.join(md2, "new", f), "rb").read() for f in files]
    c.eq("whole and bytewise give 2 messages", len(bodies), 2)
    c.true("... with identical bytes", len(set(bodies)) == 1, bodies)
    c.eq("... dot-unstuffed", bodies[0], b"Subject: split\r\n\r\n.x\r\n\r.\r\n\r\nend\r\n")

# IPv6 listener (skipped when the host has no ::1).
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
    has6 = True
except OSError:
    has6 = False
if has6:
    with Server(listen="[::1]:0") as srv:
        s = smtplib.SMTP("::1", srv.port, timeout=5)
        c.eq("IPv6 EHLO", s.ehlo("v6.test")[0], 250)
        c.eq("IPv6 sendmail", s.sendmail("a@v6.test", ["b@v6.test"], "x\r\n"), {})
        s.quit()
        log = srv.wait_sessions(1)[0]
        c.true("IPv6 client logged in brackets", log["client"].startswith("[::1]:"), log)
        c.eq("IPv6 cause", log["cause"], "completed")

# --json: one JSON object per session with the same facts.
import json  # noqa: E402
with Server("--json", "--max-size", "10") as srv:
    k = connect(srv)
    k.reply()
    k.cmd("EHLO json\"test")
    k.cmd("MAIL FROM:<a@x.test> SIZE=100")
    k.cmd("QUIT")
    k.close_kind()
    import time  # noqa: E402
    deadline = time.time() + 5
    objs = []
    while time.time() < deadline and not objs:
        objs = [json.loads(l) for l in open(srv.log) if l.strip()]
        time.sleep(0.05)
    c.eq("--json: one object", len(objs), 1)
    o = objs[0] if objs else {}
    c.eq("--json: type", o.get("type"), "server_session")
    c.eq("--json: cause", o.get("cause"), "size_limit")
    c.eq("--json: reply", o.get("reply"), {"code": 552, "enhanced": "5.3.4"})
    c.eq("--json: client port", o.get("client", {}).get("port"), k.port)
    c.eq("--json: helo quote neutralised", o.get("helo"), "json?test")
    c.eq("--json: closed_by", o.get("closed_by"), "server")

# Exit statuses: --help 0 (stdout), usage error 2, port in use 1.
import subprocess  # noqa: E402
from sleuth_srv import binary  # noqa: E402
p = subprocess.run([binary(), "serve", "--help"], capture_output=True, timeout=10)
c.eq("--help exit 0", p.returncode, 0)
c.true("--help on stdout lists --max-size", b"--max-size" in p.stdout, p.stdout[:200])
p = subprocess.run([binary(), "serve", "--size-action", "explode"], capture_output=True, timeout=10)
c.eq("bad value: exit 2", p.returncode, 2)
c.true("... says which option", b"--size-action" in p.stderr, p.stderr[:200])
with Server() as srv:
    p = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=10)
    c.eq("port in use: exit 1", p.returncode, 1)
    c.true("... says why", b"cannot listen" in p.stderr, p.stderr[:200])

# A client that vanishes without QUIT.
with Server() as srv:
    k = connect(srv)
    k.reply()
    k.cmd("EHLO gone.test")
    k.cmd("MAIL FROM:<a@b.test>")
    k.close()
    log = srv.session_for(k.port)
    c.eq("vanished client: client_abort", log["cause"], "client_abort")
    c.eq("vanished client: phase", log["phase"], "mail")
    c.eq("vanished client: closed_by", log["closed_by"], "client")
c.done()
