#!/usr/bin/env python3
"""RST injector for tests/data/netfault/make.sh, run in the router namespace.

Watches the client-side interface (AF_PACKET) for the first client segment
to port 25 whose payload starts with PREFIX (any case), then forges RSTs the way an
IPS or an SMTP-inspecting firewall does: to the client in the server's name
(seq = the segment's ack) and/or to the server in the client's name (seq =
the segment's seq), with the router's own TTL, IP ID 0 and no TCP options.
The segment itself is dropped by an iptables rule of make.sh, so the RST is
all either side sees. Exits after injecting, or after --wait seconds.

usage: injector.py IFACE PREFIX [--to client|server|both] [--ttl N] [--wait S]
       [--delay S]
"""
import argparse
import select
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rst(src, dst, sport, dport, seq, ack, ttl):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, 0x14, 0, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, ttl, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("prefix")
    ap.add_argument("--to", default="both", choices=("client", "server", "both"))
    ap.add_argument("--ttl", type=int, default=64)
    ap.add_argument("--wait", type=float, default=20)
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("--delay", type=float, default=0,
                    help="wait this long before injecting (to lose the race on purpose)")
    a = ap.parse_args()
    prefix = a.prefix.encode().decode("unicode_escape").encode("latin-1")
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
    sniff.bind((a.iface, 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    print("injector: ready", flush=True)
    end = time.time() + a.wait
    while time.time() < end:
        r, _, _ = select.select([sniff], [], [], 0.2)
        if not r:
            continue
        frame, addr = sniff.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        ip = frame[14:]
        if len(ip) < 40 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:tot]
        sport, dport, seq, ack, off = struct.unpack("!HHIIB", tcp[:13])
        payload = tcp[(off >> 4) * 4:]
        if a.debug:
            print("injector: saw %d -> %d %r" % (sport, dport, payload[:8]), flush=True)
        if dport != 25 or not payload.lower().startswith(prefix.lower()):
            continue
        csrc, sdst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        if a.delay:
            time.sleep(a.delay)
        if a.to in ("client", "both"):
            out.sendto(rst(sdst, csrc, dport, sport, ack, (seq + len(payload)) & 0xFFFFFFFF, a.ttl), (csrc, 0))
        if a.to in ("server", "both"):
            out.sendto(rst(csrc, sdst, sport, dport, seq, ack, a.ttl), (sdst, 0))
        print("injector: reset %s:%d <-> %s:%d on %r" % (csrc, sport, sdst, dport, payload[:16]), flush=True)
        return 0
    print("injector: nothing matched", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
