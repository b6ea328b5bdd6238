#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tls_decrypt (tests/fuzz/seeds/fuzz_tls_decrypt).

Seeds, in the layout fuzz_tls_decrypt.c documents:
  rfc8448        the RFC 8448 section 3 records (taken from the rfc_* strings
                 of tests/check_tls_decrypt.c), with the target's fixed key log
  tlsdec-NAME    each tests/data/tlsdec-NAME.txt session (TLS bytes only),
                 carrying its own key log (flag bit 2)
  follow-NAME    the same with the key log followed (flag bit 3): its lines
                 appear (0xfc) after the first four chunks, once the
                 ServerHello has been read without them (rfc8448 too)
Run: python3 tests/fuzz/make_tls_decrypt_seeds.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "seeds", "fuzz_tls_decrypt")


def encode(chunks, keylog=None, appear_after=None):
    """chunks: [(dir 0 client / 1 server, bytes)]; starts with the client.
    appear_after: follow the key log, its lines written after that many chunks."""
    out = bytearray([2 | (4 if keylog is not None else 0) | (8 if appear_after is not None else 0)])
    if keylog is not None:
        out += keylog.replace(b"\0", b"") + b"\0"
    cur = 0
    for i, (d, b) in enumerate(chunks):
        if i == appear_after:
            out.append(0xfc)
        if d != cur:
            out.append(0xfd)
            cur = d
        while len(b) >= 255:
            out.append(0xfe)
            out += b[:255]
            b = b[255:]
        while b:
            piece = b[:253]
            b = b[253:]
            out.append(len(piece) - 1)
            out += piece
            cur ^= 1                # a plain length byte switches direction
            if b:
                out.append(0xfd)
                cur ^= 1
    return bytes(out)


def rfc_seed():
    text = open(os.path.join(SRC, "tests", "check_tls_decrypt.c")).read()
    recs = {}
    for m in re.finditer(r'static const char (rfc_\w+)\[\] =\s*((?:"[^"]*"\s*)+);', text):
        try:
            recs[m.group(1)] = bytes.fromhex("".join(re.findall(r'"([^"]*)"', m.group(2))))
        except ValueError:
            pass                    # the key log text, not a record
    order = [(0, "rfc_ch"), (1, "rfc_sh"), (1, "rfc_server_flight"), (0, "rfc_client_finished"),
             (1, "rfc_ticket"), (0, "rfc_client_data"), (1, "rfc_server_data"),
             (0, "rfc_client_alert"), (1, "rfc_server_alert")]
    return [(d, recs[n]) for d, n in order]


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "rfc8448"), "wb") as f:
        f.write(encode(rfc_seed()))
    with open(os.path.join(OUT, "follow-rfc8448"), "wb") as f:
        f.write(encode(rfc_seed(), appear_after=4))
    data = os.path.join(SRC, "tests", "data")
    for name in sorted(os.listdir(data)):
        if not (name.startswith("tlsdec-") and name.endswith(".txt")):
            continue
        chunks = []
        for line in open(os.path.join(data, name)):
            if line[:1] in ("C", "S"):
                chunks.append((0 if line[0] == "C" else 1, bytes.fromhex(line[2:].strip())))
        keys = open(os.path.join(data, name[:-4] + ".keys"), "rb").read()
        with open(os.path.join(OUT, name[:-4]), "wb") as f:
            f.write(encode(chunks, keys))
        with open(os.path.join(OUT, "follow-" + name[7:-4]), "wb") as f:
            f.write(encode(chunks, keys, appear_after=4))
    print("seeds in", OUT)


if __name__ == "__main__":
    main()
