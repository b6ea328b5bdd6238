"""Writes small SMTP captures for the HTML report's tests: each session is a
TCP handshake, one segment per SMTP line (so every line has its own frame
number, which the tests know), optional silences, and a FIN exchange.
Addresses come from the documentation ranges. The writer returns, per
session, the frame numbers of its packets by role, so a test can check the
page against the bytes it wrote rather than against the analyzer's output."""
import struct

CLIENT_NET = "192.0.2."
SERVER_IP = "198.51.100.25"


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _ip(a):
    return bytes(int(x) for x in a.split("."))


class Capture:
    def __init__(self, t0=1767225600.0):
        self.frames = []  # (ts, bytes)
        self.t = t0

    def packet(self, src, sport, dst, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        c = _csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), len(self.frames) & 0xFFFF, 0x4000, 64, 6, 0,
                         _ip(src), _ip(dst))
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        self.frames.append((self.t, eth + ip + tcp + payload))
        return len(self.frames)  # frame numbers start at 1

    def session(self, n, script):
        """script: list of (who, text) with who 'C' or 'S', or ('wait', seconds).
        Returns {'syn': f, 'lines': [(who, text, frame)], 'fin': [f, f]}."""
        c, cp, s, sp = CLIENT_NET + str(10 + n), 40000 + n, SERVER_IP, 25
        cs, ss = 1000 * n, 500000 + 1000 * n
        out = {"lines": []}
        out["syn"] = self.packet(c, cp, s, sp, cs, 0, 0x02)
        self.t += 0.001
        out["synack"] = self.packet(s, sp, c, cp, ss, cs + 1, 0x12)
        self.t += 0.001
        self.packet(c, cp, s, sp, cs + 1, ss + 1, 0x10)
        cs += 1
        ss += 1
        for who, text in script:
            if who == "wait":
                self.t += text
                continue
            self.t += 0.004
            data = text.encode("utf-8")
            if who == "C":
                f = self.packet(c, cp, s, sp, cs, ss, 0x18, data)
                cs += len(data)
            else:
                f = self.packet(s, sp, c, cp, ss, cs, 0x18, data)
                ss += len(data)
            out["lines"].append((who, text, f))
        self.t += 0.004
        out["fin"] = [self.packet(c, cp, s, sp, cs, ss, 0x11)]
        self.t += 0.001
        out["fin"].append(self.packet(s, sp, c, cp, ss, cs + 1, 0x11))
        self.t += 0.001
        self.packet(c, cp, s, sp, cs + 1, ss + 1, 0x10)
        self.t += 0.5
        return out

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for ts, b in self.frames:
                sec = int(ts)
                f.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)), len(b), len(b)))
                f.write(b)


HELLO = [("S", "220 mx.example.net ESMTP ready\r\n"), ("C", "EHLO client.example.org\r\n"),
         ("S", "250-mx.example.net\r\n250-SIZE 10485760\r\n250 AUTH PLAIN LOGIN\r\n")]
QUIT = [("C", "QUIT\r\n"), ("S", "221 2.0.0 Bye\r\n")]


def completed(subject="Quarterly report"):
    return HELLO + [("C", "MAIL FROM:<alice@example.org>\r\n"), ("S", "250 2.1.0 Ok\r\n"),
                    ("C", "RCPT TO:<bob@example.net>\r\n"), ("S", "250 2.1.5 Ok\r\n"),
                    ("C", "DATA\r\n"), ("S", "354 End data with <CR><LF>.<CR><LF>\r\n"),
                    ("C", "From: alice@example.org\r\nSubject: %s\r\n\r\nHello.\r\n.\r\n" % subject),
                    ("S", "250 2.0.0 Ok: queued as 4F2A1\r\n")] + QUIT


def auth_failed():
    return HELLO + [("C", "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), ("S", "535 5.7.8 Error: authentication failed\r\n")] + QUIT


def relay_denied():
    return HELLO + [("C", "MAIL FROM:<alice@example.org>\r\n"), ("S", "250 2.1.0 Ok\r\n"),
                    ("C", "RCPT TO:<someone@elsewhere.example>\r\n"),
                    ("S", "554 5.7.1 <someone@elsewhere.example>: Relay access denied\r\n")] + QUIT


def idle_timeout():
    return HELLO + [("C", "MAIL FROM:<alice@example.org>\r\n"), ("S", "250 2.1.0 Ok\r\n"), ("wait", 300.0),
                    ("S", "421 4.4.2 mx.example.net Error: timeout exceeded\r\n")]


HOSTILE = "<script>window.__pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned=2\">"
HOSTILE_END = "</script><script>window.__pwned=3</script>"


def hostile():
    """Markup in every place a capture controls: greeting, EHLO, MAIL FROM,
    replies, Subject, RCPT."""
    return [("S", "220 mx.example.net %s ESMTP\r\n" % HOSTILE), ("C", "EHLO %s\r\n" % HOSTILE),
            ("S", "250-mx.example.net %s\r\n250 SIZE 1000\r\n" % HOSTILE_IMG),
            ("C", "MAIL FROM:<%s@example.org>\r\n" % HOSTILE_END), ("S", "250 2.1.0 %s Ok\r\n" % HOSTILE_END),
            ("C", "RCPT TO:<%s@example.net>\r\n" % HOSTILE_IMG), ("S", "250 2.1.5 Ok\r\n"),
            ("C", "DATA\r\n"), ("S", "354 go ahead\r\n"),
            ("C", "Subject: %s %s\r\n\r\nbody\r\n.\r\n" % (HOSTILE, HOSTILE_IMG)),
            ("S", "554 5.7.1 %s rejected \u2028 %s\r\n" % (HOSTILE_IMG, HOSTILE_END))] + QUIT
