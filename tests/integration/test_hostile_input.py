#!/usr/bin/env python3
"""Hostile and odd input, generated here byte by byte (pcapgen.py), run
through the built command:

- a capture that starts inside AUTH, right after the server's 334
  "Password:" prompt: the base64 password appears in no output (text,
  --json, --transcript, and no extracted file but the .c2s wire copy);
- a pcap whose link type the decoder does not read, and a pcapng whose
  second section is in the other byte order: a message that says so on
  stderr, in the summary, and exit status 1."""
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


def main():
    if not BIN:
        print("SMTPSLEUTH not set")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        test_mid_auth(tmp)
        test_unsupported_link(tmp)
        test_pcapng_byte_order(tmp)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
