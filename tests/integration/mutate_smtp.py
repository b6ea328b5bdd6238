"""Rewrites the SMTP dialog inside a classic pcap (Ethernet, Linux cooked or
raw IPv4, TCP) the way other servers and clients would have worded it, and
keeps the packets consistent: IP total lengths and every later TCP sequence
and acknowledgement number follow the bytes added or removed.

Modes:
  noenh    server replies lose their enhanced status codes ("550 5.7.1 x" ->
           "550 x"), as from servers that do not offer ENHANCEDSTATUSCODES;
  noquit   the client's QUIT lines and the server's 221 replies are removed,
           as from clients that never send QUIT.

Lines split across segments are left as they are (each segment is rewritten
on its own). Used by test_reply_mutations.py."""
import re
import struct

SMTP_PORTS = {25, 465, 587, 2525, 2625, 2626, 10025}
LINK_HEADER = {1: 14, 101: 0, 113: 16}   # DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL
_REPLY = re.compile(rb"^(\d{3})([ -])(\d\.\d{1,3}\.\d{1,3} )?(.*)$", re.S)


class Unsupported(Exception):
    pass


def byte_order(data):
    """struct's byte order of a classic pcap (micro- or nanosecond), or None."""
    if len(data) < 24:
        return None
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return "<"
    if data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return ">"
    return None


def _ip_checksum(header):
    total = sum(struct.unpack(">%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _rewrite(payload, from_server, mode):
    lines = payload.split(b"\r\n")
    if mode == "noenh" and from_server:
        out = []
        for line in lines:
            m = _REPLY.match(line)
            out.append(m.group(1) + m.group(2) + m.group(4) if m else line)
        lines = out
    elif mode == "noquit":
        if from_server:
            lines = [l for l in lines if not l.startswith(b"221")]
        else:
            lines = [l for l in lines if l.strip().upper() != b"QUIT"]
    return b"\r\n".join(lines)


def mutate(data, mode):
    """Returns the rewritten capture (bytes) of the classic pcap data."""
    end = byte_order(data)
    if not end:
        raise Unsupported("not a classic pcap")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    if linktype not in LINK_HEADER:
        raise Unsupported("link type %d" % linktype)
    l2 = LINK_HEADER[linktype]
    out = [data[:24]]
    added = {}      # direction (src, sport, dst, dport) -> bytes added to its stream so far
    off = 24
    while off + 16 <= len(data):
        ts1, ts2, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = bytearray(data[off + 16:off + 16 + incl])
        off += 16 + incl
        ethertype_ok = linktype != 1 or pkt[12:14] == b"\x08\x00"
        if not ethertype_ok or len(pkt) < l2 + 20 or pkt[l2] >> 4 != 4 or pkt[l2 + 9] != 6:
            out.append(struct.pack(end + "IIII", ts1, ts2, len(pkt), orig) + bytes(pkt))
            continue
        ihl = (pkt[l2] & 15) * 4
        total = struct.unpack(">H", pkt[l2 + 2:l2 + 4])[0]
        t = l2 + ihl
        if len(pkt) < t + 20:
            out.append(struct.pack(end + "IIII", ts1, ts2, len(pkt), orig) + bytes(pkt))
            continue
        sport, dport, seq, ack = struct.unpack(">HHII", pkt[t:t + 12])
        start = t + (pkt[t + 12] >> 4) * 4
        stop = min(l2 + total, len(pkt))
        payload = bytes(pkt[start:stop])
        here = (bytes(pkt[l2 + 12:l2 + 16]), sport, bytes(pkt[l2 + 16:l2 + 20]), dport)
        peer = (here[2], dport, here[0], sport)
        new = payload
        if payload and (sport in SMTP_PORTS or dport in SMTP_PORTS):
            new = _rewrite(payload, sport in SMTP_PORTS, mode)
        seq = (seq + added.get(here, 0)) & 0xFFFFFFFF
        if pkt[t + 13] & 0x10:
            ack = (ack + added.get(peer, 0)) & 0xFFFFFFFF
        added[here] = added.get(here, 0) + len(new) - len(payload)
        pkt[t + 4:t + 12] = struct.pack(">II", seq, ack)
        delta = len(new) - len(payload)
        pkt = pkt[:start] + new + pkt[stop:]
        pkt[l2 + 2:l2 + 4] = struct.pack(">H", total + delta)
        pkt[l2 + 10:l2 + 12] = struct.pack(">H", _ip_checksum(bytes(pkt[l2:l2 + 10]) + b"\0\0" + bytes(pkt[l2 + 12:l2 + ihl])))
        out.append(struct.pack(end + "IIII", ts1, ts2, len(pkt), orig + delta) + bytes(pkt))
    return b"".join(out)
