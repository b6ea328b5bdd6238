"""Each failure policy of the bundled server, checked with independent clients
(Python's smtplib and raw sockets): the reply code and enhanced code, how the
connection closes (FIN = EOF, RST = ECONNRESET) and the cause in the log."""
import base64
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Server, Checker, connect  # noqa: E402

c = Checker()


def expect_log(srv, port, cause, phase=None, close=None, closed_by=None, reply=None):
    log = srv.session_for(port)
    c.eq("log cause %s" % cause, log.get("cause"), cause)
    if phase:
        c.eq("log phase (%s)" % cause, log.get("phase"), phase)
    if close:
        c.eq("log close (%s)" % cause, log.get("close"), close)
    if closed_by:
        c.eq("log closed_by (%s)" % cause, log.get("closed_by"), closed_by)
    if reply:
        c.eq("log reply (%s)" % cause, log.get("reply"), str(reply))
    return log


def start(k, helo="client.test"):
    c.eq("greeting", k.reply()[0], 220)
    c.eq("EHLO", k.cmd("EHLO " + helo)[0], 250)


# --- size limit ---
with Server("--max-size", "1000") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo("x.test")
    port = s.sock.getsockname()[1]
    code, msg = s.mail("a@x.test", ["SIZE=5000"])
    c.eq("MAIL SIZE= over limit: 552", code, 552)
    c.true("... 5.3.4", msg.startswith(b"5.3.4"), msg)
    try:
        s.sendmail("a@x.test", ["b@x.test"], "Subject: big\r\n\r\n" + "y" * 3000 + "\r\n")
        c.true("oversize DATA refused", False)
    except smtplib.SMTPSenderRefused as e:
        # smtplib sends SIZE= itself when the server advertises SIZE
        c.eq("oversize via smtplib (SIZE=) 552", e.smtp_code, 552)
    s.quit()
    expect_log(srv, port, "size_limit", phase="mail", reply=552)
    # raw DATA without SIZE=: 552 after the final dot
    k = connect(srv)
    start(k)
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<b@x.test>")
    c.eq("DATA 354", k.cmd("DATA")[0], 354)
    k.send(b"z" * 5000 + b"\r\n.\r\n")
    code, lines = k.reply()
    c.eq("oversize DATA 552 after dot", code, 552)
    c.true("... enhanced 5.3.4", lines[0].startswith("552 5.3.4"), lines)
    c.eq("QUIT after 552", k.cmd("QUIT")[0], 221)
    c.eq("FIN after QUIT", k.close_kind(), "fin")
    expect_log(srv, k.port, "size_limit", phase="data", close="fin", closed_by="server", reply=552)

for action, close in (("close", "fin"), ("reset", "rst")):
    with Server("--max-size", "1000", "--size-action", action) as srv:
        k = connect(srv)
        start(k)
        k.cmd("MAIL FROM:<a@x.test>")
        k.cmd("RCPT TO:<b@x.test>")
        k.cmd("DATA")
        got = None
        try:
            for _ in range(10):
                k.send(b"w" * 1000)
                time.sleep(0.02)
        except ConnectionResetError:
            got = "rst"     # the reset was reported to send(), not to recv()
        except BrokenPipeError:
            pass
        got = got or k.close_kind()
        c.eq("size-action %s closes mid-DATA with %s" % (action, close), got, close)
        expect_log(srv, k.port, "size_limit", phase="data", close=close, closed_by="server")

# --- auth ---
users = os.path.join(__import__("tempfile").mkdtemp(), "users")
with open(users, "w") as f:
    f.write("alice:s3cret\n# comment\nbob:hunter2\n")
with Server("--users", users, "--require-auth", "--max-auth-failures", "2") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo("x.test")
    c.true("AUTH advertised", "PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features)
    port = s.sock.getsockname()[1]
    code, msg = s.mail("a@x.test")
    c.eq("MAIL without auth: 530", code, 530)
    c.true("... 5.7.0", msg.startswith(b"5.7.0"), msg)
    s.rset()
    s.login("alice", "s3cret")
    c.eq("after login, mail accepted", s.sendmail("alice@x.test", ["b@y.test"], "x\r\n"), {})
    s.quit()
    expect_log(srv, port, "completed")
    # auth_required alone
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo("x.test")
    port = s.sock.getsockname()[1]
    s.mail("a@x.test")
    s.quit()
    expect_log(srv, port, "auth_required", phase="mail", reply=530)
    # wrong password (smtplib), then again -> 421 and close
    k = connect(srv)
    start(k)
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    code, lines = k.cmd("AUTH PLAIN " + bad)
    c.eq("bad password: 535", code, 535)
    c.true("... 5.7.8", lines[0].startswith("535 5.7.8"), lines)
    k.send("AUTH LOGIN\r\n")
    c.eq("AUTH LOGIN user prompt", k.reply()[0], 334)
    k.send(base64.b64encode(b"bob").decode() + "\r\n")
    c.eq("AUTH LOGIN password prompt", k.reply()[0], 334)
    k.send(base64.b64encode(b"nope").decode() + "\r\n")
    c.eq("second failure: 535", k.reply()[0], 535)
    code, lines = k.reply()
    c.eq("then 421", code, 421)
    c.true("... 4.7.0", lines[0].startswith("421 4.7.0"), lines)
    c.eq("and FIN", k.close_kind(), "fin")
    log = expect_log(srv, k.port, "auth_failed", phase="auth", close="fin", closed_by="server", reply=535)
    c.eq("two failures logged", log.get("auth_failures"), "2")
    with open(srv.log) as f:
        c.true("password never logged", "wrong" not in f.read() and "nope" not in open(srv.log).read())
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    try:
        s.login("alice", "bad")
        c.true("smtplib login refused", False)
    except smtplib.SMTPAuthenticationError as e:
        c.eq("smtplib sees 535", e.smtp_code, 535)

# --- address filter ---
with Server("--deny", "127.0.0.0/8", "--deny", "::1/128") as srv:
    k = connect(srv)
    code, lines = k.reply()
    c.eq("denied: 554 greeting", code, 554)
    c.true("... 5.7.1", lines[0].startswith("554 5.7.1"), lines)
    code, _ = k.cmd("EHLO x.test")
    c.eq("denied: commands get 503", code, 503)
    c.eq("denied: QUIT 221", k.cmd("QUIT")[0], 221)
    c.eq("denied: FIN", k.close_kind(), "fin")
    expect_log(srv, k.port, "ip_filtered", phase="greeting", close="fin", reply=554)
    try:
        smtplib.SMTP(srv.host, srv.port, timeout=5)
        c.true("smtplib refused at connect", False)
    except smtplib.SMTPConnectError as e:
        c.eq("smtplib sees 554", e.smtp_code, 554)
for action, close in (("close", "fin"), ("reset", "rst")):
    with Server("--deny", "127.0.0.1/32", "--deny-action", action) as srv:
        k = connect(srv)
        c.eq("deny-action %s: %s before any greeting" % (action, close), k.close_kind(), close)
        expect_log(srv, k.port, "ip_filtered", phase="connect", close=close, closed_by="server")
with Server("--allow", "10.0.0.0/8") as srv:
    k = connect(srv)
    c.eq("not in --allow: 554", k.reply()[0], 554)
with Server("--allow", "127.0.0.1", "--deny", "127.0.0.0/8") as srv:
    k = connect(srv)
    c.eq("--allow overrides --deny", k.reply()[0], 220)

# --- idle timeout ---
with Server("--idle-timeout", "0.3") as srv:
    k = connect(srv)
    start(k)
    t0 = time.time()
    code, lines = k.reply(timeout=5)
    c.eq("idle: 421", code, 421)
    c.true("... 4.4.2", lines[0].startswith("421 4.4.2"), lines)
    c.true("idle after ~0.3 s", 0.2 < time.time() - t0 < 2.5, time.time() - t0)
    c.eq("idle: FIN", k.close_kind(), "fin")
    expect_log(srv, k.port, "idle_timeout", phase="idle", close="fin", closed_by="server", reply=421)
with Server("--idle-timeout", "0.3", "--idle-action", "close") as srv:
    k = connect(srv)
    start(k)
    c.eq("idle-action close: silent FIN", k.close_kind(), "fin")
    log = expect_log(srv, k.port, "idle_timeout", close="fin")
    c.eq("no reply logged", log.get("reply"), "-")

# --- errors ---
with Server("--max-errors", "3") as srv:
    k = connect(srv)
    start(k)
    c.eq("bad 1", k.cmd("XYZZY")[0], 502)
    c.eq("bad 2", k.cmd("MAIL nonsense")[0], 501)
    code, lines = k.cmd("DATA")
    c.eq("third error still answered", code, 503)
    code, lines = k.reply()
    c.eq("then 421", code, 421)
    c.true("... 4.7.0", lines[0].startswith("421 4.7.0"), lines)
    c.eq("FIN", k.close_kind(), "fin")
    expect_log(srv, k.port, "too_many_errors", close="fin", closed_by="server", reply=421)

# --- relay ---
with Server("--relay-domain", "example.org", "--users", users) as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo("x.test")
    port = s.sock.getsockname()[1]
    s.mail("a@x.test")
    code, msg = s.rcpt("someone@example.org")
    c.eq("local recipient 250", code, 250)
    code, msg = s.rcpt("victim@elsewhere.test")
    c.eq("relay: 554", code, 554)
    c.true("... 5.7.1 Relay access denied", msg.startswith(b"5.7.1") and b"Relay access denied" in msg, msg)
    s.quit()
    expect_log(srv, port, "relay_denied", phase="rcpt", reply=554)
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.login("bob", "hunter2")
    c.eq("authenticated client may relay", s.sendmail("bob@x.test", ["v@elsewhere.test"], "x\r\n"), {})
    s.quit()

# --- rate limits ---
with Server("--max-conn-per-ip", "1") as srv:
    k1 = connect(srv)
    start(k1)
    k2 = connect(srv)
    code, lines = k2.reply()
    c.eq("second connection: 421", code, 421)
    c.true("... 4.7.0", lines[0].startswith("421 4.7.0"), lines)
    c.eq("second connection: FIN", k2.close_kind(), "fin")
    expect_log(srv, k2.port, "rate_limited", phase="greeting", close="fin", reply=421)
    c.eq("first connection still served", k1.cmd("NOOP")[0], 250)
    k1.cmd("QUIT")
    expect_log(srv, k1.port, "completed")
with Server("--max-conns", "2") as srv:
    k1, k2 = connect(srv), connect(srv)
    c.eq("--max-conns: first two greeted", [k1.reply()[0], k2.reply()[0]], [220, 220])
    k3 = connect(srv)
    code, lines = k3.reply()
    c.eq("--max-conns: third gets 421", code, 421)
    c.true("... 4.7.0", lines[0].startswith("421 4.7.0"), lines)
    expect_log(srv, k3.port, "rate_limited", phase="greeting", close="fin", reply=421)
    k1.cmd("QUIT")
    srv.session_for(k1.port)
    k4 = connect(srv)
    c.eq("--max-conns: a slot freed is reused", k4.reply()[0], 220)
with Server("--max-msgs", "1") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    port = s.sock.getsockname()[1]
    c.eq("first message", s.sendmail("a@x.test", ["b@x.test"], "x\r\n"), {})
    code, msg = s.mail("a@x.test")
    c.eq("second message: 421", code, 421)
    c.true("... 4.7.0", msg.startswith(b"4.7.0"), msg)
    expect_log(srv, port, "rate_limited", phase="mail", reply=421)
with Server("--max-rcpts", "2") as srv:
    k = connect(srv)
    start(k)
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<1@x.test>")
    k.cmd("RCPT TO:<2@x.test>")
    code, lines = k.cmd("RCPT TO:<3@x.test>")
    c.eq("too many recipients 452", code, 452)
    c.true("... 4.5.3", lines[0].startswith("452 4.5.3"), lines)
with Server("--greylist", "--greylist-delay", "0.2") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    port = s.sock.getsockname()[1]
    s.ehlo("x.test")
    s.mail("a@x.test")
    code, msg = s.rcpt("b@x.test")
    c.eq("greylist first attempt 451", code, 451)
    c.true("... 4.7.1", msg.startswith(b"4.7.1"), msg)
    s.quit()
    expect_log(srv, port, "rate_limited", phase="rcpt", reply=451)
    time.sleep(0.3)
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    c.eq("greylist retry accepted", s.sendmail("a@x.test", ["b@x.test"], "x\r\n"), {})
    s.quit()

# --- shutdown, greeting delay, early talker ---
with Server("--shutdown") as srv:
    k = connect(srv)
    code, lines = k.reply()
    c.eq("shutdown: 421", code, 421)
    c.true("... 4.3.2", lines[0].startswith("421 4.3.2"), lines)
    c.eq("shutdown: FIN", k.close_kind(), "fin")
    expect_log(srv, k.port, "server_unavailable", phase="greeting", close="fin", reply=421)
with Server("--greeting-delay", "0.3") as srv:
    k = connect(srv)
    t0 = time.time()
    c.eq("delayed greeting", k.reply()[0], 220)
    c.true("greeting delayed ~0.3 s", time.time() - t0 >= 0.25, time.time() - t0)
# The idle clock starts at the greeting: a client that talked before a held
# greeting (longer than the idle timeout) gets its whole idle time after it.
with Server("--greeting-delay", "1.0", "--idle-timeout", "0.8") as srv:
    k = connect(srv)
    k.send("EHLO early.test\r\n")
    c.eq("early EHLO: greeting", k.reply()[0], 220)
    t0 = time.time()
    c.eq("early EHLO: answered", k.reply()[0], 250)
    code, _ = k.reply(timeout=5)
    c.eq("early EHLO: then the idle 421", code, 421)
    c.true("idle counted from the greeting (>= 0.6 s after it)", time.time() - t0 >= 0.6, time.time() - t0)
with Server("--greeting-delay", "0.5", "--early-talker") as srv:
    k = connect(srv)
    k.send("EHLO impatient.test\r\n")
    code, lines = k.reply()
    c.eq("early talker: 554", code, 554)
    c.true("... 5.5.0", lines[0].startswith("554 5.5.0"), lines)
    c.eq("early talker: FIN", k.close_kind(), "fin")
    expect_log(srv, k.port, "too_many_errors", phase="greeting", reply=554)

# --- TLS policies ---
with Server("--require-tls") as srv:
    k = connect(srv)
    start(k)
    code, lines = k.cmd("MAIL FROM:<a@x.test>")
    c.eq("require-tls: 530", code, 530)
    c.true("... 5.7.0 Must issue a STARTTLS command first",
           lines[0] == "530 5.7.0 Must issue a STARTTLS command first", lines)
    k.cmd("QUIT")
    expect_log(srv, k.port, "tls_required", phase="mail", reply=530)
with Server("--tls-fail", "refuse") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    port = s.sock.getsockname()[1]
    s.ehlo("x.test")
    try:
        s.starttls()
        c.true("STARTTLS refused", False)
    except smtplib.SMTPResponseException as e:
        c.eq("tls-fail refuse: 454", e.smtp_code, 454)
        c.true("... 4.7.0", e.smtp_error.startswith(b"4.7.0"), e.smtp_error)
    s.quit()
    expect_log(srv, port, "tls_failed", phase="starttls", reply=454)
with Server("--tls-fail", "abort") as srv:
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    port = s.sock.getsockname()[1]
    s.ehlo("x.test")
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        s.starttls(context=ctx)
        c.true("handshake fails", False)
    except (ssl.SSLError, OSError, smtplib.SMTPException):
        c.true("tls-fail abort: client handshake fails", True)
    expect_log(srv, port, "tls_failed", phase="starttls", closed_by="server")
# --- address and content refusals ---
with Server("--reject-sender", "spam.test", "--reject-rcpt", "nobody@x.test",
            "--reject-rcpt", "gone.test", "--relay-domain", "x.test", "--relay-domain", "gone.test") as srv:
    k = connect(srv)
    start(k)
    code, lines = k.cmd("MAIL FROM:<eve@spam.test>")
    c.eq("--reject-sender domain: 553", code, 553)
    c.true("... 5.1.8 naming the sender", lines[0].startswith("553 5.1.8 <eve@spam.test>"), lines)
    c.eq("MAIL from another sender: 250", k.cmd("MAIL FROM:<alice@ok.test>")[0], 250)
    code, lines = k.cmd("RCPT TO:<nobody@x.test>")
    c.eq("--reject-rcpt address: 550", code, 550)
    c.true("... 5.1.1 user unknown", lines[0].startswith("550 5.1.1 <nobody@x.test>") and "User unknown" in lines[0], lines)
    c.eq("--reject-rcpt domain: 550", k.cmd("RCPT TO:<bob@GONE.test>")[0], 550)
    c.eq("another recipient: 250", k.cmd("RCPT TO:<bob@x.test>")[0], 250)
    # relay refusal wins over the address list: outside.test is not local
    c.eq("relay before address: 554", k.cmd("RCPT TO:<nobody@outside.test>")[0], 554)
    k.cmd("QUIT")
    log = expect_log(srv, k.port, "sender_rejected", phase="mail", reply=553)
with Server("--reject-rcpt", "nobody@x.test") as srv:
    k = connect(srv)
    start(k)
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<nobody@x.test>")
    k.cmd("QUIT")
    expect_log(srv, k.port, "recipient_rejected", phase="rcpt", reply=550)
with Server("--reject-content", "EICAR-STANDARD-ANTIVIRUS-TEST") as srv:
    # the pattern split across two writes must still be found
    k = connect(srv)
    start(k)
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<b@x.test>")
    c.eq("DATA 354", k.cmd("DATA")[0], 354)
    k.send(b"Subject: t\r\n\r\n" + b"x" * 3000 + b"EICAR-STANDARD-")
    time.sleep(0.05)
    k.send(b"ANTIVIRUS-TEST\r\n.\r\n")
    code, lines = k.reply()
    c.eq("--reject-content: 554 after the dot", code, 554)
    c.true("... 5.7.1", lines[0].startswith("554 5.7.1"), lines)
    # the next message without the pattern goes through
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<b@x.test>")
    k.cmd("DATA")
    k.send(b"Subject: clean\r\n\r\nhello\r\n.\r\n")
    c.eq("clean message: 250", k.reply()[0], 250)
    k.cmd("QUIT")
    expect_log(srv, k.port, "completed")
with Server("--reject-content", "EICAR") as srv:
    k = connect(srv)
    start(k)
    k.cmd("MAIL FROM:<a@x.test>")
    k.cmd("RCPT TO:<b@x.test>")
    k.cmd("DATA")
    k.send(b"Subject: t\r\n\r\nEICAR\r\n.\r\n")
    c.eq("content refused: 554", k.reply()[0], 554)
    k.cmd("QUIT")
    expect_log(srv, k.port, "content_rejected", phase="data", reply=554)
c.done()
