#!/usr/bin/env python3
"""Scripted TLS clients for the Postfix-over-TLS lab captures (make.sh, MANIFEST.md).

Each mode talks to Postfix over STARTTLS (or implicit TLS for the smtps_*
modes) with Python's ssl module writing the session secrets to KEYLOG
(ssl.SSLContext.keylog_filename, the NSS key log format). The TLS version is
the server's choice (make.sh forces it in Postfix); the client accepts 1.2
and 1.3 and does not verify the lab's self-signed certificate. Every mode is
bounded in time: sockets time out after 30 s.

usage: client_tls.py MODE PORT KEYLOG
"""
import smtplib
import ssl
import sys
import time

HOST = "127.0.0.1"
FROM = "a@client.example"
TO = "root@lab.example"


def context(keylog):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.keylog_filename = keylog
    return ctx


def body(nbytes):
    head = "From: %s\r\nTo: %s\r\nSubject: lab\r\n\r\n" % (FROM, TO)
    line = "x" * 76 + "\r\n"
    out = head
    while len(out) < nbytes:
        out += line
    return out.encode()


def starttls(port, keylog):
    s = smtplib.SMTP(HOST, port, local_hostname="client.example", timeout=30)
    s.ehlo()
    s.starttls(context=context(keylog))
    s.ehlo()
    return s


def quit(s):
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        s.close()


def mode_completed(port, keylog):
    """STARTTLS, one message of 1 kB accepted, QUIT."""
    s = starttls(port, keylog)
    s.sendmail(FROM, [TO], body(1000))
    quit(s)


def mode_auth_failed(port, keylog):
    """STARTTLS, AUTH PLAIN with a wrong password (535), QUIT."""
    s = starttls(port, keylog)
    try:
        s.login("user", "wrong")
    except smtplib.SMTPAuthenticationError:
        pass
    quit(s)


def mode_size_at_mail(port, keylog):
    """STARTTLS, MAIL with SIZE=50000 over message_size_limit (552), QUIT."""
    s = starttls(port, keylog)
    s.docmd("MAIL FROM:<%s> SIZE=50000" % FROM)
    quit(s)


def mode_size_body(port, keylog):
    """STARTTLS, a 20 kB body without SIZE= (552 after the final dot), QUIT."""
    s = starttls(port, keylog)
    s.docmd("MAIL FROM:<%s>" % FROM)
    s.docmd("RCPT TO:<%s>" % TO)
    s.docmd("DATA")
    s.send(body(20000) + b".\r\n")
    s.getreply()
    quit(s)


def mode_idle(port, keylog):
    """STARTTLS, EHLO inside TLS, then silence until the server gives up."""
    s = starttls(port, keylog)
    try:
        s.sock.settimeout(30)
        print(s.getreply())         # the server's 421 when smtpd_timeout expires
    except (smtplib.SMTPException, OSError):
        pass
    time.sleep(0.5)
    s.close()


def mode_smtps_completed(port, keylog):
    """Implicit TLS from the first byte (port 465 style), one message, QUIT."""
    s = smtplib.SMTP_SSL(HOST, port, local_hostname="client.example", timeout=30,
                         context=context(keylog))
    s.ehlo()
    s.sendmail(FROM, [TO], body(1000))
    quit(s)


def mode_smtps_auth_failed(port, keylog):
    """Implicit TLS, AUTH PLAIN with a wrong password (535), QUIT."""
    s = smtplib.SMTP_SSL(HOST, port, local_hostname="client.example", timeout=30,
                         context=context(keylog))
    s.ehlo()
    try:
        s.login("user", "wrong")
    except smtplib.SMTPAuthenticationError:
        pass
    quit(s)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    globals()["mode_" + sys.argv[1]](int(sys.argv[2]), sys.argv[3])
