#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_engine (raw-frames mode, see fuzz_engine.c)
into tests/fuzz/seeds/fuzz_engine/. Small SMTP-like exchanges over several
link types, IPv4 and IPv6, with out-of-order data, a RST and a truncated
frame, so the fuzzer starts from inputs that reach deep into the tracker."""
import os
import struct
import socket

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "fuzz_engine")
LINKS = {1: 0, 113: 1, 276: 2, 12: 3, 0: 7, 108: 8}   # DLT -> index in LINKTYPES


def ip_tcp(v6, src, dst, sport, dport, seq, ack, flags, data=b"", opts=b""):
    opts += b"\x01" * (-len(opts) % 4)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (5 + len(opts) // 4) << 4, flags,
                      65535, 0, 0) + opts + data
    if v6:
        return struct.pack("!IHBB", 0x60000000, len(tcp), 6, 64) + \
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + tcp
    return struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0) + \
        socket.inet_aton(src) + socket.inet_aton(dst) + tcp


def link(dlt, ip):
    v6 = ip[0] >> 4 == 6
    et = 0x86dd if v6 else 0x0800
    if dlt == 1:
        return b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\x64" + struct.pack("!H", et) + ip
    if dlt == 113:
        return struct.pack("!HHH8sH", 0, 1, 6, b"", et) + ip
    if dlt == 276:
        return struct.pack("!HHIHBB8s", et, 0, 1, 1, 0, 6, b"") + ip
    if dlt == 0:
        return struct.pack("<I", 30 if v6 else 2) + ip
    if dlt == 108:
        return struct.pack("!I", 24 if v6 else 2) + ip
    return ip


def conv(v6, ooo, rst):
    c, s = ("2001:db8::1", "2001:db8::2") if v6 else ("10.0.0.1", "10.0.0.2")
    a, b = 1000, 5000
    syn_opts = b"\x02\x04\x05\xb4\x03\x03\x07\x04\x02"
    segs = [
        (c, s, 40000, 25, a, 0, 0x02, b"", syn_opts),
        (s, c, 25, 40000, b, a + 1, 0x12, b"", syn_opts),
        (c, s, 40000, 25, a + 1, b + 1, 0x10, b"", b""),
        (s, c, 25, 40000, b + 1, a + 1, 0x18, b"220 mx ESMTP\r\n", b""),
    ]
    d1, d2 = b"EHLO x\r\n", b"MAIL FROM:<a@b>\r\n"
    p1 = (c, s, 40000, 25, a + 1, b + 15, 0x18, d1, b"")
    p2 = (c, s, 40000, 25, a + 1 + len(d1), b + 15, 0x18, d2, b"")
    segs += [p2, p1] if ooo else [p1, p2]
    end = a + 1 + len(d1) + len(d2)
    if rst:
        segs.append((s, c, 25, 40000, b + 15, 0, 0x04, b"", b""))
    else:
        segs.append((c, s, 40000, 25, end, b + 15, 0x11, b"", b""))
        segs.append((s, c, 25, 40000, b + 15, end + 1, 0x11, b"", b""))
    return [ip_tcp(v6, *x) for x in segs]


def seed(dlt, cfg, frames, cut_last=0):
    out = bytes([LINKS[dlt], cfg])
    for i, f in enumerate(frames):
        f = link(dlt, f)
        if cut_last and i == len(frames) - 1:
            f = f[:cut_last]
        out += struct.pack("!HH", len(f), 1) + f
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for dlt in LINKS:
        for v6 in (False, True):
            for ooo, rst, cfg in ((False, False, 0), (True, True, 1), (True, False, 6)):
                data = seed(dlt, cfg, conv(v6, ooo, rst), cut_last=30 if rst else 0)
                with open(os.path.join(OUT, "seed-%03d-dlt%d-v%d" % (n, dlt, 6 if v6 else 4)), "wb") as f:
                    f.write(data)
                n += 1


if __name__ == "__main__":
    main()
