#!/usr/bin/env python3
"""Scripted SMTP client for tests/data/netfault/make.sh.

Runs one SMTP session against HOST:PORT with a short socket timeout, and can
pause at a named step (touching a flag file, then waiting until make.sh has
changed the network) so a fault arrives at a known point of the dialog.
Prints one line saying how the session ended for the client.

usage: client.py HOST PORT [--timeout S] [--size BYTES] [--pause-at STEP]
       [--flag FILE] [--chunks N]
STEP: ehlo (after the EHLO reply), body (inside the body, after the first
chunk).
"""
import argparse
import os
import smtplib
import socket
import struct
import sys
import time


def wait_flag(flag, pause):
    """Waits for make.sh's go-ahead (FLAG.go), or PAUSE seconds without a flag."""
    if not flag:
        time.sleep(pause)
        return
    open(flag + ".ready", "w").close()
    end = time.time() + 10
    while not os.path.exists(flag + ".go") and time.time() < end:
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--pause-at", default="")
    ap.add_argument("--flag", default="")
    ap.add_argument("--chunks", type=int, default=4)
    ap.add_argument("--pause", type=float, default=1.0, help="pause without a flag file")
    ap.add_argument("--abort-rst", action="store_true",
                    help="on a failure, close with a RST (SO_LINGER 0), as some clients do")
    a = ap.parse_args()
    body = ("Subject: netfault test\r\n\r\n" +
            "".join("line %05d of the netfault test body, padding padding padding\r\n" % i
                    for i in range(a.size // 64 + 1)))[: a.size] + "\r\n"
    s = None
    try:
        s = smtplib.SMTP(a.host, a.port, timeout=a.timeout, local_hostname="client.netfault.test")
        if a.abort_rst:
            # any close of this socket is abortive (RST), as some clients do
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.ehlo()
        if a.pause_at == "ehlo":
            wait_flag(a.flag, a.pause)
        s.mail("alice@client.netfault.test")
        s.rcpt("bob@server.netfault.test")
        if a.pause_at == "body":
            code, _ = s.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, b"DATA refused")
            raw = body.encode()
            step = max(1, len(raw) // a.chunks)
            s.sock.sendall(raw[:step])
            wait_flag(a.flag, a.pause)
            s.sock.sendall(raw[step:] + b".\r\n")
            code, msg = s.getreply()
            print("end-of-data:", code)
        else:
            s.data(body)
        s.quit()
        print("client: completed")
    except (smtplib.SMTPException, OSError, socket.timeout) as e:
        print("client: %s: %s" % (type(e).__name__, e))
        if s is not None:
            s.close()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
