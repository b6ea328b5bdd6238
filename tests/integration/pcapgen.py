"""pcapgen.py - writes small pcap files for the integration tests: Ethernet,
IPv4 and TCP headers built byte by byte, with sequence and acknowledgement
numbers that follow the dialog, so the analyzer sees real TCP sessions.
Checksums are left zero (the analyzer does not verify them; neither do
captures taken with checksum offloading).

A Dialog is one TCP connection; its methods append records (timestamp in
nanoseconds, frame bytes) to a shared list that write_pcap() writes in the
nanosecond pcap format, or with raw_ts to put any 32-bit seconds field in
the record header."""
import struct

SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04


def ip4(s):
    return bytes(int(x) for x in s.split("."))


class Dialog:
    def __init__(self, records, client, cport, server, sport, t0_ns):
        self.records = records
        self.ends = [(ip4(client), cport), (ip4(server), sport)]
        self.seq = [1000, 500000]
        self.t = t0_ns
        self.ipid = [1, 1]

    def _frame(self, side, flags, payload=b""):
        (src, sp), (dst, dp) = self.ends[side], self.ends[1 - side]
        ack = self.seq[1 - side] if flags & ACK else 0
        tcp = struct.pack(">HHIIBBHHH", sp, dp, self.seq[side] & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), self.ipid[side],
                         0x4000, 64, 6, 0, src, dst)
        self.ipid[side] += 1
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
        return eth + ip + tcp + payload

    def send(self, side, flags, payload=b"", step_ns=1_000_000, ts=None):
        """side 0 = client, 1 = server. Returns the record's index."""
        self.t = ts if ts is not None else self.t + step_ns
        self.records.append([self.t, self._frame(side, flags, payload)])
        self.seq[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        return len(self.records) - 1

    def handshake(self):
        self.send(0, SYN)
        self.send(1, SYN | ACK)
        self.send(0, ACK)

    def say(self, side, text):
        return self.send(side, PSH | ACK, text.encode() if isinstance(text, str) else text)

    def close(self):
        self.send(0, FIN | ACK)
        self.send(1, FIN | ACK)
        self.send(0, ACK)


def write_pcap(path, records, raw_ts=None):
    """records: [ts_ns, frame]; raw_ts: {index: seconds field} written as is."""
    raw_ts = raw_ts or {}
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for i, (ts, frame) in enumerate(records):
            sec, ns = divmod(ts, 1_000_000_000)
            if i in raw_ts:
                sec = raw_ts[i]
            f.write(struct.pack("<IIII", sec & 0xFFFFFFFF, ns, len(frame), len(frame)))
            f.write(frame)
