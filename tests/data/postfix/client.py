#!/usr/bin/env python3
"""Scripted SMTP clients for the Postfix lab captures (see make.sh, MANIFEST.md).

Each mode is one client behaviour that a scenario needs and that swaks cannot
do exactly (talk and then idle, close mid-DATA, reset, pipeline without
PIPELINING, hold a connection open while a second one is refused). Every mode
is bounded in time: sockets time out after 30 s.

usage: client.py MODE PORT
"""
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def connect(port):
    s = socket.create_connection((HOST, port), timeout=30)
    _BUF[s.fileno()] = b""
    return s


_BUF = {}


def reply(s):
    """Read one (possibly multi-line) reply; return (code, lines) or (0, []).
    Bytes after the reply stay buffered for the next call (pipelined replies)."""
    buf = _BUF.get(s.fileno(), b"")
    lines = []
    while True:
        while b"\n" not in buf:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                _BUF[s.fileno()] = b""
                return (0, lines)
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        _BUF[s.fileno()] = buf
        line = line.rstrip(b"\r").decode("latin-1")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            try:
                return (int(line[:3]), lines)
            except ValueError:
                return (0, lines)


def cmd(s, text):
    s.sendall(text.encode() + b"\r\n")
    return reply(s)


def body(nbytes):
    head = "From: a@client.example\r\nTo: root@lab.example\r\nSubject: lab\r\n\r\n"
    line = "x" * 76 + "\r\n"
    out = head
    while len(out) < nbytes:
        out += line
    return out


def mode_size_at_mail(port):
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example> SIZE=50000")
    cmd(s, "QUIT")
    s.close()


def mode_size_body(port):
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    cmd(s, "DATA")
    s.sendall(body(20000).encode() + b".\r\n")
    reply(s)
    cmd(s, "QUIT")
    s.close()


def mode_idle(port):
    """EHLO, then say nothing until the server gives up (or 30 s)."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    end = time.time() + 30
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        if not data:
            break
    s.close()


def bad_commands(port, most):
    """Unknown commands until the server gives up (421 or close), at most `most`."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    for i in range(most):
        code, _ = cmd(s, "XYZZY%d" % i)
        if code == 0 or code == 421:
            break
    s.close()


def mode_bad_commands(port):
    bad_commands(port, 10)


def mode_bad_commands_many(port):
    bad_commands(port, 40)


def mode_no_quit(port):
    """One message accepted, then a close without QUIT."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    if cmd(s, "DATA")[0] == 354:
        s.sendall(body(300).encode() + b".\r\n")
        reply(s)
    s.close()


def mode_no_helo(port):
    """MAIL without HELO (smtpd_helo_required), then HELO with a bad name."""
    s = connect(port)
    reply(s)
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "HELO bad..name")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    cmd(s, "QUIT")
    s.close()


def mode_unauth_pipelining(port):
    """HELO (not EHLO: PIPELINING never offered), then MAIL/RCPT/DATA in one write."""
    s = connect(port)
    reply(s)
    cmd(s, "HELO client.example")
    s.sendall(b"MAIL FROM:<a@client.example>\r\nRCPT TO:<root@lab.example>\r\nDATA\r\n")
    for _ in range(3):
        code, _ = reply(s)
        if code == 0:
            break
    cmd(s, "QUIT")
    s.close()


def mode_mail_before_starttls(port):
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "QUIT")
    s.close()


def mode_abort_data(port):
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    cmd(s, "DATA")
    s.sendall(body(3000).encode())
    time.sleep(0.3)
    s.close()


def mode_rst(port):
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def mode_conn_count(port):
    """Hold one session open, open a second one (refused by the count limit)."""
    a = connect(port)
    reply(a)
    cmd(a, "EHLO first.example")
    time.sleep(0.3)
    b = connect(port)
    reply(b)
    try:
        b.recv(4096)
    except OSError:
        pass
    b.close()
    cmd(a, "QUIT")
    a.close()


def mode_conn_rate(port):
    """Four quick sessions, each EHLO + QUIT; the rate limit refuses the later ones."""
    for i in range(4):
        s = connect(port)
        code, _ = reply(s)
        if code == 220:
            cmd(s, "EHLO c%d.example" % i)
            cmd(s, "QUIT")
        else:
            try:
                s.recv(4096)
            except OSError:
                pass
        s.close()
        time.sleep(0.2)


def mode_pregreet(port):
    """Talk before the greeting (postscreen's greet test)."""
    s = connect(port)
    s.sendall(b"EHLO early.example\r\n")
    end = time.time() + 15
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        if not data:
            break
    s.close()


def mode_data_idle(port):
    """DATA accepted, a few body lines, then silence until the server gives up."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    cmd(s, "DATA")
    s.sendall(body(500).encode())
    reply(s)
    s.close()


def mode_bdat_size(port):
    """BDAT (CHUNKING) with a chunk over message_size_limit."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    data = body(20000).encode()
    s.sendall(b"BDAT %d LAST\r\n" % len(data) + data)
    reply(s)
    cmd(s, "QUIT")
    s.close()


def mode_many_rcpts(port):
    """One message to five recipients (smtpd_recipient_limit)."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    for i in range(5):
        cmd(s, "RCPT TO:<root+%d@lab.example>" % i)
    cmd(s, "QUIT")
    s.close()


def mode_many_msgs(port):
    """Four messages in one session (smtpd_client_message_rate_limit)."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    for i in range(4):
        code, _ = cmd(s, "MAIL FROM:<a@client.example>")
        if code != 250:
            break
        cmd(s, "RCPT TO:<root@lab.example>")
        if cmd(s, "DATA")[0] != 354:
            break
        s.sendall(body(300).encode() + b".\r\n")
        reply(s)
    cmd(s, "QUIT")
    s.close()


def mode_http(port):
    """An HTTP request to the SMTP port (smtpd_forbidden_commands)."""
    s = connect(port)
    reply(s)
    s.sendall(b"GET / HTTP/1.0\r\nHost: mx\r\n\r\n")
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()


def mode_silent(port):
    """Connect, read the greeting, say nothing until the server gives up."""
    s = connect(port)
    end = time.time() + 30
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        if not data:
            break
    s.close()


def mode_starttls_plain(port):
    """STARTTLS answered 220, then plaintext instead of a ClientHello."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    code, _ = cmd(s, "STARTTLS")
    if code == 220:
        s.sendall(b"EHLO client.example\r\n")
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    s.close()


def mode_pregreet_go_on(port):
    """Talk before the greeting, then carry on with a normal dialog."""
    s = connect(port)
    s.sendall(b"EHLO early.example\r\n")
    for _ in range(2):
        code, lines = reply(s)
        if code == 0 or code == 250:
            break
    for c in ("MAIL FROM:<a@client.example>", "RCPT TO:<root@lab.example>", "QUIT"):
        code, _ = cmd(s, c)
        if code == 0:
            break
    s.close()


def mode_auth_bad_many(port):
    """Three AUTH PLAIN attempts with a wrong password, then QUIT."""
    import base64
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    tok = base64.b64encode(b"\0user\0wrong").decode()
    for _ in range(3):
        code, _ = cmd(s, "AUTH PLAIN " + tok)
        if code == 0 or code == 421:
            break
    cmd(s, "QUIT")
    s.close()


def mode_rst_data(port):
    """DATA, 3 kB of body, then a RST (SO_LINGER 0)."""
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "MAIL FROM:<a@client.example>")
    cmd(s, "RCPT TO:<root@lab.example>")
    cmd(s, "DATA")
    s.sendall(body(3000).encode())
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def mode_auth_plain_notls(port):
    """AUTH PLAIN with the right password in plaintext, without STARTTLS
    (for servers that offer AUTH only inside TLS), then QUIT."""
    import base64
    s = connect(port)
    reply(s)
    cmd(s, "EHLO client.example")
    cmd(s, "AUTH PLAIN " + base64.b64encode(b"\0user\0secret").decode())
    cmd(s, "QUIT")
    s.close()


MODES = {k[5:]: v for k, v in globals().items() if k.startswith("mode_")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in MODES:
        sys.stderr.write("usage: client.py {%s} PORT\n" % "|".join(sorted(MODES)))
        sys.exit(2)
    MODES[sys.argv[1]](int(sys.argv[2]))
