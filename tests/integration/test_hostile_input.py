#!/usr/bin/env python3
"""Hostile and odd input, generated here byte by byte (pcapgen.py), run
through the built command:

- a capture that starts inside AUTH, right after the server's 334
  "Password:" prompt: the base64 password appears in no output (text,
  --json, --transcript, and no extracted file but the .c2s wire copy);
- a pcap whose link type the decoder does not read, and a pcapng whose
  second section is in the other byte order: a message that says so on
  stderr, in the summary, and exit status 1;
- one record whose time cannot be right (seconds field 0xFFFFFFFF, a time
  in 1975 among 2023 ones, a step a month back, one in 2038), at every position of a
  three-session capture: the same sessions and verdicts as the clean
  capture, a bad-timestamp event on that packet, the summary's counter;
- --extract into a directory with a planted symbolic link and a file left
  from before: the link's target is untouched, the old file is kept
  (replaced with --force), files are 0600, exit 1 names the refusal; and
  index.json's frame map points at the capture's records, byte for byte."""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapgen import Dialog, write_pcap  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH")
T0 = 1_700_000_000 * 10**9
PASSWORD_B64 = "U2VjcmV0UGFzc3dvcmQxMjM="   # "SecretPassword123"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, timeout=60)


def mid_auth_capture(path):
    rec = []
    d = Dialog(rec, "192.0.2.10", 40000, "198.51.100.25", 587, T0)
    d.say(0, PASSWORD_B64 + "\r\n")
    d.say(1, "235 2.7.0 Authentication successful\r\n")
    d.say(0, "MAIL FROM:<a@example.org>\r\n")
    d.say(1, "250 2.1.0 Ok\r\n")
    d.say(0, "QUIT\r\n")
    d.say(1, "221 2.0.0 Bye\r\n")
    d.close()
    write_pcap(path, rec)


def test_mid_auth(tmp):
    cap = os.path.join(tmp, "midauth.pcap")
    mid_auth_capture(cap)
    needles = [PASSWORD_B64.rstrip("=").encode(), b"SecretPassword123"]
    for args in (["analyze"], ["analyze", "--json"], ["analyze", "--transcript"],
                 ["analyze", "--json", "--transcript"]):
        p = run(*args, cap)
        check(p.returncode == 0, f"{args}: exit {p.returncode}")
        out = p.stdout + p.stderr
        for n in needles:
            check(n not in out, f"{args}: {n!r} in the output")
    p = run("analyze", "--json", cap)
    sess = [json.loads(line) for line in p.stdout.decode().splitlines()
            if json.loads(line).get("type") == "session"]
    check(len(sess) == 1, f"one session, got {len(sess)}")
    if sess:
        check((sess[0]["smtp"].get("auth") or {}).get("result") == "accepted",
              f"auth result {sess[0]['smtp']['auth']}")
    p = run("analyze", "--transcript", cap)
    check(b"[credentials hidden]" in p.stdout, "transcript shows the hidden line as hidden")


def test_unsupported_link(tmp):
    cap = os.path.join(tmp, "wifi.pcap")
    with open(cap, "wb") as f:   # link type 105, IEEE 802.11: not decoded
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
        f.write(struct.pack("<IIII", 1_700_000_000, 0, 40, 40) + bytes(40))
    for args in (["analyze"], ["analyze", "--json"]):
        p = run(*args, cap)
        err = p.stderr.decode()
        check(p.returncode == 1, f"{args} on link type 105: exit {p.returncode}, want 1")
        check("link type 105" in err and "not supported" in err,
              f"{args} on link type 105: stderr {err!r}")
        check(b"not supported" in p.stdout, f"{args}: the summary names the error")


def pcapng_block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def test_pcapng_byte_order(tmp):
    cap = os.path.join(tmp, "swap.pcapng")
    frame = bytes(60)
    out = b""
    for e in ("<", ">"):   # a little-endian section, then a big-endian one
        out += pcapng_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        out += pcapng_block(e, 1, struct.pack(e + "HHI", 1, 0, 65535))
        ts = 1_700_000_000 * 10**6
        out += pcapng_block(e, 6, struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, 60, 60) + frame)
    with open(cap, "wb") as f:
        f.write(out)
    p = run("analyze", cap)
    err = p.stderr.decode()
    check(p.returncode == 1, f"pcapng byte-order change: exit {p.returncode}, want 1")
    check("big-endian after a little-endian" in err and "block size" not in err,
          f"pcapng byte-order change: stderr {err!r}")
    check(b"1 records" in p.stdout, "the record before the change was read")


def three_sessions(path, raw_ts=None):
    """Three sessions; the second ends with the server closing after the
    client fell silent, so its verdict's confidence rests on a duration."""
    rec = []
    for k, port in enumerate((40001, 40002, 40003)):
        d = Dialog(rec, "192.0.2.10", port, "198.51.100.25", 25, T0 + k * 10**9)
        d.handshake()
        d.say(1, "220 mx.example ESMTP\r\n")
        d.say(0, "EHLO c.example\r\n")
        d.say(1, "250 mx.example\r\n")
        if k == 1:
            d.send(1, 0x11, step_ns=2 * 10**9)    # FIN|ACK from the server
            d.send(0, 0x11)
            d.send(1, 0x10)
            continue
        d.say(0, "QUIT\r\n")
        d.say(1, "221 bye\r\n")
        d.close()
    write_pcap(path, rec, raw_ts)
    return len(rec)


def verdicts(path):
    p = run("analyze", "--json", path)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    sess = [(s["client"]["port"], s["verdict"]["cause"], s["verdict"]["confidence"], s["verdict"]["closed_by"],
             s["verdict"]["phase"], s["start_ts"], s["end_ts"]) for s in lines if s["type"] == "session"]
    return sess, lines[-1], p


def same_sessions(got, want):
    """Same sessions and verdicts; times may differ by the step between two
    records (a replaced time is the previous record's), at most 2 s here."""
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g[:5] != w[:5] or not all(isinstance(t, (int, float)) for t in g[5:]):
            return False
        if abs(g[5] - w[5]) > 2.01 or abs(g[6] - w[6]) > 2.01:
            return False
    return True


def test_bad_timestamps(tmp):
    clean = os.path.join(tmp, "clean.pcap")
    n = three_sessions(clean)
    want, want_sum, _ = verdicts(clean)
    check(len(want) == 3, f"clean capture: 3 sessions, got {len(want)}")
    bad_kinds = {"0xFFFFFFFF": 0xFFFFFFFF, "1975": 5 * 365 * 86400, "a month back": 1_700_000_000 - 30 * 86400,
                 "2038": 0x7FFFFFF0}
    for name, sec in bad_kinds.items():
        # a first record a month back, in 1975 or 2038 is the capture's first
        # time: without reading ahead nothing shows it is wrong
        for i in range(0 if name == "0xFFFFFFFF" else 1, n):
            cap = os.path.join(tmp, "bad.pcap")
            three_sessions(cap, {i: sec})
            got, summary, p = verdicts(cap)
            where = f"bad time {name} on record {i + 1}"
            check(same_sessions(got, want), f"{where}: sessions differ: {got} vs {want}")
            check(summary.get("bad_timestamps") == 1, f"{where}: summary bad_timestamps {summary.get('bad_timestamps')}")
            check((summary["first"] or "")[:19] == want_sum["first"][:19],
                  f"{where}: capture starts {summary['first']}, not {want_sum['first']}")
    # real gaps are not bad times: the third session 3 hours later, and a
    # server that closes a silent session 2 hours later as the capture's
    # last record
    rec = []
    for k, port in enumerate((40001, 40002)):
        d = Dialog(rec, "192.0.2.10", port, "198.51.100.25", 25, T0 + k * 3 * 3600 * 10**9)
        d.handshake()
        d.say(1, "220 mx.example ESMTP\r\n")
        d.say(0, "EHLO c.example\r\n")
        d.say(1, "250 mx.example\r\n")
    d.send(1, 0x11, step_ns=2 * 3600 * 10**9)
    gaps = os.path.join(tmp, "gaps.pcap")
    write_pcap(gaps, rec)
    got, summary, _ = verdicts(gaps)
    check(summary.get("bad_timestamps") == 0, f"real gaps: bad_timestamps {summary.get('bad_timestamps')}")
    check(len(got) == 2 and abs(got[1][5] - (T0 / 1e9 + 3 * 3600)) < 1 and
          abs(got[1][6] - got[1][5] - 2 * 3600) < 1, f"real gaps: sessions {got}")
    check(len(got) == 2 and got[1][1] == "idle_timeout" and got[1][2] == "high",
          f"a close after 2 h of silence is an idle timeout with high confidence: {got}")

    # the event is on the packet, with its frame number
    cap = os.path.join(tmp, "bad.pcap")
    three_sessions(cap, {14: 0xFFFFFFFF})
    p = run("analyze", "--transcript", cap)
    check(b"bad-timestamp" in p.stdout and b"seconds 4294967295" in p.stdout and b"#15" in p.stdout,
          "transcript shows the bad-timestamp event on frame 15")
    check(b"timestamps that cannot be right: 1" in p.stdout, "text summary counts the bad time")


def read_pcap(path):
    """Records of a pcap (either byte order, either precision) as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def two_interleaved(path):
    rec = []
    a = Dialog(rec, "192.0.2.10", 40001, "198.51.100.25", 25, T0)
    b = Dialog(rec, "192.0.2.11", 40002, "198.51.100.25", 25, T0)
    for d in (a, b):
        d.t = T0
    a.handshake()
    b.handshake()
    for d in (a, b):
        d.say(1, "220 mx.example ESMTP\r\n")
    a.say(0, "EHLO a.example\r\n")
    b.say(0, "EHLO b.example\r\n")
    b.say(1, "250 mx.example\r\n")
    a.say(1, "250 mx.example\r\n")
    for d in (a, b):
        d.say(0, "QUIT\r\n")
        d.say(1, "221 bye\r\n")
        d.close()
    rec.sort(key=lambda r: r[0])
    write_pcap(path, rec)


def test_extract(tmp):
    cap = os.path.join(tmp, "midauth.pcap")
    mid_auth_capture(cap)
    out = os.path.join(tmp, "out")
    os.mkdir(out, 0o700)
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, os.path.join(out, "1.c2s"))
    p = run("analyze", "-q", "--extract", out, cap)
    check(open(victim).read() == "precious\n", "extract followed a planted symlink")
    check(os.path.islink(os.path.join(out, "1.c2s")), "extract replaced a planted symlink")
    check(p.returncode == 1 and b"1.c2s" in p.stderr, f"refused link: exit {p.returncode}, {p.stderr!r}")
    for name in ("1.pcap", "1.s2c", "index.json"):
        path = os.path.join(out, name)
        check(os.path.exists(path) and os.stat(path).st_mode & 0o777 == 0o600,
              f"{name}: missing or not 0600")
    # a second run does not overwrite the first run's files
    p = run("analyze", "-q", "--extract", out, cap)
    check(p.returncode == 1 and b"index.json exists" in p.stderr, f"second run: {p.returncode} {p.stderr!r}")

    out2 = os.path.join(tmp, "out2")
    os.mkdir(out2, 0o700)
    with open(os.path.join(out2, "1.s2c"), "w") as f:
        f.write("left from before\n")
    p = run("analyze", "-q", "--extract", out2, cap)
    check(open(os.path.join(out2, "1.s2c")).read() == "left from before\n", "an existing file was overwritten")
    check(p.returncode == 1, f"existing file: exit {p.returncode}")
    p = run("analyze", "-q", "--force", "--extract", out2, cap)
    check(p.returncode == 0, f"--force: exit {p.returncode} {p.stderr!r}")
    s2c = open(os.path.join(out2, "1.s2c"), "rb").read()
    check(s2c.startswith(b"235 2.7.0") and s2c.endswith(b"221 2.0.0 Bye\r\n"), f"--force: 1.s2c is {s2c!r}")
    c2s = open(os.path.join(out2, "1.c2s"), "rb").read()
    check(c2s.startswith(PASSWORD_B64.encode()), "the .c2s file is the wire bytes (by contract)")
    check(os.stat(os.path.join(out2, "1.c2s")).st_mode & 0o777 == 0o600, ".c2s is 0600")

    # index.json: the frame map of two interleaved sessions, checked byte for byte
    cap2 = os.path.join(tmp, "two.pcap")
    two_interleaved(cap2)
    out3 = os.path.join(tmp, "out3")
    p = run("analyze", "-q", "--extract", out3, cap2)
    check(p.returncode == 0, f"two sessions: exit {p.returncode} {p.stderr!r}")
    check(os.stat(out3).st_mode & 0o777 == 0o700, "a new extract directory is 0700")
    index = json.load(open(os.path.join(out3, "index.json")))
    capture = read_pcap(cap2)
    ids = sorted(s["id"] for s in index["sessions"])
    check(ids == [1, 2], f"index sessions {ids}")
    covered = []
    for s in index["sessions"]:
        sid = s["id"]
        check(s["files"] == [f"{sid}.pcap", f"{sid}.c2s", f"{sid}.s2c"], f"session {sid} files {s['files']}")
        frames = [f + k for f, n in s["frames"] for k in range(n)]
        check(len(s["frames"]) > 1, f"session {sid}: interleaved, so more than one run: {s['frames']}")
        mine = read_pcap(os.path.join(out3, f"{sid}.pcap"))
        check(len(mine) == len(frames), f"session {sid}: {len(mine)} packets, map has {len(frames)}")
        for i, fr in enumerate(frames):
            check(mine[i] == capture[fr - 1], f"session {sid}: pcap frame {i + 1} is not capture frame {fr}")
        covered += frames
    check(sorted(covered) == list(range(1, len(capture) + 1)), "the two maps cover every capture frame once")


def main():
    if not BIN:
        print("SMTPSLEUTH not set")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        test_mid_auth(tmp)
        test_unsupported_link(tmp)
        test_pcapng_byte_order(tmp)
        test_bad_timestamps(tmp)
        test_extract(tmp)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
