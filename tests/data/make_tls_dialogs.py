#!/usr/bin/env python3
"""Generates real TLS handshake bytes for the TLS/STARTTLS tests.

A throwaway self-signed certificate is made with `openssl req` in a
temporary directory; an ssl.SSLContext client and server then talk through
memory BIOs, and every chunk one side hands the other is written out, in
order, as a line "C <hex>" (client to server) or "S <hex>". Plaintext SMTP
lines before STARTTLS are written the same way.

Outputs (in the directory of this script):
  tls13-starttls.txt  EHLO, STARTTLS, 220, TLS 1.3 handshake that completes,
                      then EHLO/250/QUIT/221 inside TLS
  tls12-alert.txt     EHLO, STARTTLS, 220, TLS 1.2 handshake where the client
                      rejects the self-signed certificate and sends an alert
  tls12-implicit.txt  TLS 1.2 from the first byte (port 465 style), completes,
                      then the greeting and QUIT inside TLS
Run: python3 tests/data/make_tls_dialogs.py
"""
import os
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def make_cert(d):
    key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=mx.example.test"],
                   check=True, capture_output=True)
    return key, crt


class Dialog:
    def __init__(self, key, crt, version, verify):
        self.out = []
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(crt, key)
        sctx.minimum_version = sctx.maximum_version = version
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.minimum_version = cctx.maximum_version = version
        if verify:
            cctx.check_hostname = True
            cctx.verify_mode = ssl.CERT_REQUIRED   # the self-signed cert is not trusted: alert
        else:
            cctx.check_hostname = False
            cctx.verify_mode = ssl.CERT_NONE
        self.c_in, self.c_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.s_in, self.s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.c = cctx.wrap_bio(self.c_in, self.c_out, server_hostname="mx.example.test")
        self.s = sctx.wrap_bio(self.s_in, self.s_out, server_side=True)

    def plain(self, d, b):
        self.out.append((d, b))

    def pump(self):
        moved = False
        b = self.c_out.read()
        if b:
            self.out.append(("C", b))
            self.s_in.write(b)
            moved = True
        b = self.s_out.read()
        if b:
            self.out.append(("S", b))
            self.c_in.write(b)
            moved = True
        return moved

    def handshake(self):
        done_c = done_s = False
        failed = None
        for _ in range(50):
            if not done_c:
                try:
                    self.c.do_handshake()
                    done_c = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as e:
                    failed = e
            if not done_s:
                try:
                    self.s.do_handshake()
                    done_s = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as e:
                    failed = failed or e
            moved = self.pump()
            if failed and not moved:
                return False
            if done_c and done_s and not moved:
                return True
        return done_c and done_s

    def send(self, side, data):
        (self.c if side == "C" else self.s).write(data)
        self.pump()
        peer = self.s if side == "C" else self.c
        try:
            peer.read(65536)
        except ssl.SSLWantReadError:
            pass
        self.pump()

    def write(self, name):
        with open(os.path.join(HERE, name), "w") as f:
            for d, b in self.out:
                f.write("%s %s\n" % (d, b.hex()))


def smtp_prefix(dlg):
    dlg.plain("S", b"220 mx.example.test ESMTP\r\n")
    dlg.plain("C", b"EHLO client.example.test\r\n")
    dlg.plain("S", b"250-mx.example.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
    dlg.plain("C", b"STARTTLS\r\n")
    dlg.plain("S", b"220 2.0.0 Ready to start TLS\r\n")


def main():
    with tempfile.TemporaryDirectory() as d:
        key, crt = make_cert(d)

        dlg = Dialog(key, crt, ssl.TLSVersion.TLSv1_3, verify=False)
        smtp_prefix(dlg)
        if not dlg.handshake():
            sys.exit("TLS 1.3 handshake failed")
        dlg.send("C", b"EHLO client.example.test\r\n")
        dlg.send("S", b"250 mx.example.test\r\n")
        dlg.send("C", b"QUIT\r\n")
        dlg.send("S", b"221 bye\r\n")
        dlg.write("tls13-starttls.txt")

        dlg = Dialog(key, crt, ssl.TLSVersion.TLSv1_2, verify=True)
        smtp_prefix(dlg)
        if dlg.handshake():
            sys.exit("the client should have rejected the certificate")
        dlg.write("tls12-alert.txt")

        dlg = Dialog(key, crt, ssl.TLSVersion.TLSv1_2, verify=False)
        if not dlg.handshake():
            sys.exit("TLS 1.2 handshake failed")
        dlg.send("S", b"220 mx.example.test ESMTP\r\n")
        dlg.send("C", b"QUIT\r\n")
        dlg.send("S", b"221 bye\r\n")
        dlg.write("tls12-implicit.txt")


if __name__ == "__main__":
    main()
