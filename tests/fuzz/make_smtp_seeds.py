#!/usr/bin/env python3
"""Writes seed inputs for fuzz_smtp (layout in tests/fuzz/fuzz_smtp.c) from
scripted dialogs and the TLS dialogs in tests/data. Run from the source tree:
python3 tests/fuzz/make_smtp_seeds.py"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds", "fuzz_smtp")
DATA = os.path.join(HERE, "..", "data")


def encode(chunks, server_first=True, end=True):
    """chunks: list of bytes alternating starting with the server (or client)."""
    out = bytearray([(1 if server_first else 0) | (2 if end else 0)])
    for c in chunks:
        if not c:                # nothing from this side: just switch
            out += bytes([0xfd])
            continue
        while len(c) > 0xfd:     # 255-byte pieces that keep the direction
            out += bytes([0xfe]) + c[:255]
            c = c[255:]
        if c:
            out += bytes([len(c) - 1]) + c
        else:
            out += bytes([0xfd])
    return bytes(out)


DIALOGS = {
    "basic": [b"220 mx ESMTP\r\n", b"EHLO c\r\n",
              b"250-mx\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 CHUNKING\r\n",
              b"MAIL FROM:<a@x> SIZE=10\r\nRCPT TO:<b@y>\r\nDATA\r\n", b"250 ok\r\n250 ok\r\n354 go\r\n",
              b"Subject: s\r\nFrom: a\r\n\r\n..x\r\n.\r\nQUIT\r\n", b"250 queued\r\n221 bye\r\n"],
    "auth": [b"220 mx\r\n", b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n", b"Ym9i\r\n", b"334 UGFzc3dvcmQ6\r\n",
             b"aHVudGVy\r\n", b"535 5.7.8 no\r\n", b"AUTH PLAIN AGFsaWNlAHB3\r\n", b"235 ok\r\n"],
    "bdat": [b"220 mx\r\n", b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 5\r\nhelloBDAT 3 LAST\r\nabcQUIT\r\n",
             b"250 a\r\n250 b\r\n250 c\r\n250 d\r\n250 e\r\n221 f\r\n"],
    "tunnel": [b"HTTP/1.0 200 OK\r\n\r\n220 mx\r\n", b"HELO x\r\n", b"250 ok\r\n"],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, ch in DIALOGS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(encode(ch))
    tunnel = encode([b"CONNECT mx:25 HTTP/1.0\r\n\r\n"] + DIALOGS["tunnel"], server_first=False)
    with open(os.path.join(OUT, "tunnel"), "wb") as f:
        f.write(tunnel)
    for name in ("tls13-starttls.txt", "tls12-alert.txt", "tls12-implicit.txt"):
        p = os.path.join(DATA, name)
        if not os.path.exists(p):
            continue
        lines = [l.split() for l in open(p)]
        chunks, prev = [], None
        for d, h in lines:
            b = bytes.fromhex(h)
            if prev == d:        # same direction twice: insert an empty peer chunk
                chunks.append(b"")
            chunks.append(b)
            prev = d
        first_server = lines[0][0] == "S"
        with open(os.path.join(OUT, name.replace(".txt", "")), "wb") as f:
            f.write(encode(chunks, server_first=first_server))
    # re-entry (flag bit 2): STARTTLS, record-shaped TLS filler, then the
    # decrypted dialog handed over with 0xfc (and a plaintext gap, 0xfb)
    rec = bytes([0x17, 3, 3, 0, 20]) + bytes(range(20))
    out = bytearray(encode([b"220 mx ESMTP\r\n", b"EHLO c\r\n", b"250-mx\r\n250 STARTTLS\r\n",
                            b"STARTTLS\r\n", b"220 go\r\n", rec], server_first=True))
    out[0] |= 4
    plain = [b"EHLO c\r\n", b"250-mx\r\n250 AUTH PLAIN\r\n", b"AUTH PLAIN AGFsaWNlAHB3\r\n", b"535 5.7.8 no\r\n",
             b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n", b"250 ok\r\n250 ok\r\n354 go\r\n",
             b"Subject: s\r\n\r\nbody\r\n.\r\n", b"552 5.3.4 too big\r\n"]
    out += bytes([0xfd])         # the server's turn passes: plaintext starts with the client
    for c in plain:
        out += bytes([0xfc, len(c) - 1]) + c
    out += bytes([0xfb, 3]) + bytes([0xfc, len(b"QUIT\r\n") - 1]) + b"QUIT\r\n"
    with open(os.path.join(OUT, "reentry"), "wb") as f:
        f.write(bytes(out))


if __name__ == "__main__":
    main()
