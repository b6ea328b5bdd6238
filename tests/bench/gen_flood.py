#!/usr/bin/env python3
"""Writes the hostile captures of the memory-cap benchmark and test.

  gen_flood.py payload N FILE   N one-packet flows: each a server greeting
                                ("220 ...") from 203.0.113.25:25 to its own
                                client address and port (no handshake)
  gen_flood.py syn N FILE       a SYN flood: N SYNs to 203.0.113.25:25, each
                                from its own client address and port

Clients are 198.51.100.0/24 with ports 1024..65023 (16.6 M distinct
tuples); packets are 1 microsecond apart, so every flow is still open when
the capture ends and only the caps bound the analyzer's memory. Fast enough
for 1 M flows (a few seconds): one template per kind, patched per packet.
"""
import struct
import sys

SERVER = bytes([203, 0, 113, 25])
GREETING = b"220 mx.example.test ESMTP ready\r\n"
PORTS = 64000


def _csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def client_of(i):
    """(address bytes, port) of flow i."""
    return bytes([198, 51, 100, (i // PORTS) % 256]), 1024 + i % PORTS


def frame(kind, i):
    caddr, cport = client_of(i)
    if kind == "syn":
        src, dst, sport, dport, flags, payload = caddr, SERVER, cport, 25, 0x02, b""
    else:
        src, dst, sport, dport, flags, payload = SERVER, caddr, 25, cport, 0x18, GREETING
    tcp = struct.pack("!HHIIBBHHH", sport, dport, (i * 7919) & 0xFFFFFFFF, 1000, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), i & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp + payload


def write(kind, n, path, t0=1767225600):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        out = []
        for i in range(n):
            data = frame(kind, i)
            us = i
            out.append(struct.pack("<IIII", t0 + us // 1000000, us % 1000000, len(data), len(data)) + data)
            if len(out) >= 65536:
                f.write(b"".join(out))
                out = []
        f.write(b"".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("payload", "syn"):
        sys.exit(__doc__)
    write(sys.argv[1], int(sys.argv[2]), sys.argv[3])
