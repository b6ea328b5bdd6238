#!/usr/bin/env python3
"""Makes the TLS decryption fixtures: real TLS sessions carrying SMTP, with
their key logs, for tests/check_tls_decrypt.c and the tshark cross-check.

A throwaway self-signed certificate is made with `openssl req`; a Python ssl
client and server (OpenSSL underneath) then talk through memory BIOs, both
writing their secrets with `keylog_filename`. Every chunk one side hands the
other is written in order. TLS 1.3 cipher suites cannot be chosen through
Python's ssl module, so each TLS 1.3 case runs in a child process whose
OPENSSL_CONF restricts Ciphersuites.

Outputs, per case NAME (in this script's directory):
  tlsdec-NAME.txt   one chunk a line: "c <hex>"/"s <hex>" plaintext SMTP
                    before STARTTLS, "C <hex>"/"S <hex>" TLS bytes from the
                    client/server (what the decryptor is fed)
  tlsdec-NAME.keys  the NSS key log of the session (tls12-resumed: of both
                    the first session and the recorded one that resumes it)
  tlsdec-NAME.pcap  the same bytes as a TCP session 192.0.2.10:40000 ->
                    198.51.100.25:25 (STARTTLS) or :465 (implicit TLS), for tshark

The SMTP dialog inside TLS is the same in every case (see DIALOG); the C test
holds the same text. The bytes differ at every run (fresh keys and randoms);
the tests check the decrypted text, not the bytes.
Run: python3 tests/data/make_tlsdec_fixtures.py [NAME...]   (default: every case)
"""
import os
import ssl
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

GREETING = b"220 mx.example.test ESMTP\r\n"
DIALOG = [
    ("C", b"EHLO client.example.test\r\n"),
    ("S", b"250-mx.example.test\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"),
    ("C", b"MAIL FROM:<alice@example.test>\r\n"),
    ("S", b"250 2.1.0 Ok\r\n"),
    ("C", b"RCPT TO:<bob@example.test>\r\n"),
    ("S", b"550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown\r\n"),
    ("C", b"QUIT\r\n"),
    ("S", b"221 2.0.0 Bye\r\n"),
]

# SSL_OP_NO_ENCRYPT_THEN_MAC: the CBC record layout of RFC 5246 (MAC, then
# encryption), which OpenSSL no longer picks when both sides offer RFC 7366
NO_ETM = 1 << 19

# Not an OpenSSL option: the recorded session resumes an earlier one (session ID)
RESUME = 1 << 62

# name: (TLS version, TLS 1.2 cipher list or TLS 1.3 Ciphersuites, implicit TLS[, options])
CASES = {
    "tls12-ecdhe-aes128gcm": ("1.2", "ECDHE-RSA-AES128-GCM-SHA256", False),
    "tls12-ecdhe-aes256gcm": ("1.2", "ECDHE-RSA-AES256-GCM-SHA384", False),
    "tls12-ecdhe-chacha20": ("1.2", "ECDHE-RSA-CHACHA20-POLY1305", False),
    "tls12-rsa-aes128gcm-implicit": ("1.2", "AES128-GCM-SHA256", True),
    "tls12-ecdhe-aes128cbc-etm": ("1.2", "ECDHE-RSA-AES128-SHA", False),
    "tls12-ecdhe-aes256cbc-sha384-mte": ("1.2", "ECDHE-RSA-AES256-SHA384", False, NO_ETM),
    "tls12-resumed": ("1.2", "ECDHE-RSA-AES128-GCM-SHA256", False, RESUME),
    "tls13-aes128gcm": ("1.3", "TLS_AES_128_GCM_SHA256", False),
    "tls13-aes256gcm": ("1.3", "TLS_AES_256_GCM_SHA384", False),
    "tls13-chacha20": ("1.3", "TLS_CHACHA20_POLY1305_SHA256", False),
}


def make_cert(d):
    key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=mx.example.test"],
                   check=True, capture_output=True)
    return key, crt


class Session:
    def __init__(self, key, crt, version, ciphers, keylog, options=0, prior=None):
        v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
        self.out = []
        if prior:
            # the same contexts (the server's session cache) and the earlier session
            self.sctx, self.cctx = prior.sctx, prior.cctx
            self.wrap(prior.c.session)
            return
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(crt, key)
        sctx.minimum_version = sctx.maximum_version = v
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.minimum_version = cctx.maximum_version = v
        cctx.check_hostname = False
        cctx.verify_mode = ssl.CERT_NONE
        if version == "1.2":
            sctx.set_ciphers(ciphers)
            cctx.set_ciphers(ciphers)
        cctx.keylog_filename = keylog
        sctx.options |= options & ~RESUME
        cctx.options |= options & ~RESUME
        self.sctx, self.cctx = sctx, cctx
        self.wrap(None)

    def wrap(self, session):
        self.c_in, self.c_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.s_in, self.s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.c = self.cctx.wrap_bio(self.c_in, self.c_out, server_hostname="mx.example.test",
                                    session=session)
        self.s = self.sctx.wrap_bio(self.s_in, self.s_out, server_side=True)

    def pump(self):
        moved = False
        for src, dst, tag in ((self.c_out, self.s_in, "C"), (self.s_out, self.c_in, "S")):
            b = src.read()
            if b:
                self.out.append((tag, b))
                dst.write(b)
                moved = True
        return moved

    def handshake(self):
        done = {"c": False, "s": False}
        for _ in range(50):
            for k, o in (("c", self.c), ("s", self.s)):
                if not done[k]:
                    try:
                        o.do_handshake()
                        done[k] = True
                    except ssl.SSLWantReadError:
                        pass
            if not self.pump() and all(done.values()):
                return
        raise SystemExit("handshake did not complete")

    def send(self, side, data):
        (self.c if side == "C" else self.s).write(data)
        self.pump()
        peer = self.s if side == "C" else self.c
        got = b""
        while len(got) < len(data):
            try:
                got += peer.read(65536)
            except ssl.SSLWantReadError:
                if not self.pump():
                    break
        if got != data:
            raise SystemExit("peer read %r, expected %r" % (got, data))
        self.pump()

    def close(self):
        try:
            self.c.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        self.pump()


def pcap(path, chunks, port):
    """A TCP session with correct sequence numbers; checksums are left 0."""
    cli, srv = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 25])
    cport = 40000
    seq = {"C": 1000, "S": 5000}
    recs = []
    t = [1700000000, 0]

    def pkt(side, flags, payload=b""):
        src, dst = (cli, srv) if side == "C" else (srv, cli)
        sp, dp = (cport, port) if side == "C" else (port, cport)
        other = "S" if side == "C" else "C"
        ack = seq[other] if flags & 0x10 else 0
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq[side], ack, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0,
                         src, dst)
        seq[side] = (seq[side] + len(payload) + (1 if flags & 0x03 else 0)) & 0xffffffff
        t[1] += 1000
        frame = ip + tcp + payload
        recs.append(struct.pack("<IIII", t[0], t[1], len(frame), len(frame)) + frame)

    pkt("C", 0x02)
    seq_s_isn = seq["S"]
    pkt("S", 0x12)
    seq["S"] = seq_s_isn + 1
    pkt("C", 0x10)
    for side, b in chunks:
        for off in range(0, len(b), 1400):
            pkt(side, 0x18, b[off:off + 1400])
    pkt("C", 0x11)
    pkt("S", 0x11)
    pkt("C", 0x10)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))   # LINKTYPE_RAW
        for r in recs:
            f.write(r)


def one(name, key, crt):
    version, ciphers, implicit = CASES[name][:3]
    options = CASES[name][3] if len(CASES[name]) > 3 else 0
    keys = os.path.join(HERE, "tlsdec-%s.keys" % name)
    if os.path.exists(keys):
        os.unlink(keys)
    plain = []
    if not implicit:
        plain = [("s", GREETING), ("c", b"EHLO client.example.test\r\n"),
                 ("s", b"250-mx.example.test\r\n250 STARTTLS\r\n"), ("c", b"STARTTLS\r\n"),
                 ("s", b"220 2.0.0 Ready to start TLS\r\n")]
    s = Session(key, crt, version, ciphers, keys, options)
    if options & RESUME:
        s.handshake()       # a first session, not recorded, to resume
        for side, b in DIALOG:
            s.send(side, b)
        s.close()
        s = Session(key, crt, version, ciphers, keys, options, prior=s)
    s.handshake()
    if (options & RESUME) and not s.c.session_reused:
        raise SystemExit("%s: the session was not resumed" % name)
    if implicit:
        s.send("S", GREETING)
    for side, b in DIALOG:
        s.send(side, b)
    s.close()
    chosen = s.c.cipher()[0]
    with open(os.path.join(HERE, "tlsdec-%s.txt" % name), "w") as f:
        for d, b in plain + s.out:
            f.write("%s %s\n" % (d, b.hex()))
    pcap(os.path.join(HERE, "tlsdec-%s.pcap" % name),
         [(d.upper(), b) for d, b in plain + s.out], 465 if implicit else 25)
    print("%-30s %s %s" % (name, s.c.version(), chosen))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3], sys.argv[3].replace("k.pem", "c.pem"))
        return
    with tempfile.TemporaryDirectory() as d:
        key, _ = make_cert(d)
        for name in sys.argv[1:] or CASES:
            version, ciphers = CASES[name][:2]
            env = dict(os.environ)
            if version == "1.3":
                conf = os.path.join(d, "openssl-%s.cnf" % name)
                with open(conf, "w") as f:
                    f.write("openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\n"
                            "system_default = sd\n[sd]\nCiphersuites = %s\n" % ciphers)
                env["OPENSSL_CONF"] = conf
            subprocess.run([sys.executable, __file__, "--one", name, key], env=env, check=True)


if __name__ == "__main__":
    main()
