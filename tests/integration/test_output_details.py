#!/usr/bin/env python3
"""Output details on real captures:

- `--json --transcript` puts each session's dialog in its object
  (`transcript`: frame, file, time, side, line), every frame within the
  session's frames, every time tshark's time of that frame;
- `extensions` keeps each EHLO capability with its parameters, as tshark
  reads the EHLO reply;
- the tls-mismatch evidence and event cite the server's plaintext packet
  (tshark: a packet from the server carrying an SMTP reply), not the
  client's ClientHello;
- the text transcript carries frame numbers;
- nDPI's findings for what they are: a protocol named from the port only is
  marked guessed (a SYN to 587 refused by RST), and "Known Protocol on Non
  Standard Port" for SMTP on a mail port is left out, with why.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
CAP = "suricata-smtp-errors.pcap"


def tshark(path, fields, flt=None):
    # port 465 read as SMTP: the server there speaks plaintext
    cmd = ["tshark", "-r", path, "-d", "tcp.port==465,smtp", "-T", "fields", "-E", "separator=|"] + sum((["-e", f] for f in fields), [])
    if flt:
        cmd += ["-Y", flt]
    return [l.split("|") for l in subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.splitlines()]


def write_refused(path):
    """A SYN from 192.0.2.10 to 198.51.100.25:587 and the server's RST."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return ~s & 0xffff

    def ip4(a):
        return bytes(int(x) for x in a.split("."))

    def pkt(src, dst, sp, dp, seq, ack, flags):
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0)
        ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, ip4(src), ip4(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return b"\0" * 12 + b"\x08\x00" + ip + tcp

    recs = [(0, pkt("192.0.2.10", "198.51.100.25", 40000, 587, 1000, 0, 0x02)),
            (200, pkt("198.51.100.25", "192.0.2.10", 587, 40000, 0, 1001, 0x14))]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for us, d in recs:
            f.write(struct.pack("<IIII", 1700000000, us, len(d), len(d)) + d)


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    path = os.path.join(CORPUS, CAP)
    if not os.path.exists(path) or not shutil.which("tshark"):
        print("corpus or tshark absent: skip")
        return 77
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    p = subprocess.run([BIN, "analyze", "--json", "--transcript", path], capture_output=True, text=True, timeout=120)
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    sess = [o for o in objs if o["type"] == "session"]
    times = {int(n): t for n, t in tshark(path, ["frame.number", "frame.time_epoch"])}
    check(sess and all("transcript" in s for s in sess), "--json --transcript: every session has a transcript")
    bad = []
    for s in sess:
        for t in s["transcript"]:
            if set(t) != {"frame", "file", "time", "side", "line"}:
                bad.append(f"keys {sorted(t)}")
            elif not (s["first_frame"] <= t["frame"] <= s["last_frame"]) or t["file"] != path:
                bad.append(f"session {s['id']}: frame {t['frame']} outside {s['first_frame']}-{s['last_frame']}")
            elif t["side"] not in ("client", "server", "note"):
                bad.append(f"side {t['side']}")
            elif t["time"][17:26] != f"{float(times[t['frame']]) % 60:09.6f}"[:9]:
                bad.append(f"frame {t['frame']}: time {t['time']} vs tshark {times[t['frame']]}")
    check(not bad, f"transcript lines: frames in the session, times as tshark ({bad[:3]})")

    # EHLO capabilities with parameters, as tshark reads the reply lines
    s3 = next(s for s in sess if s["client"]["port"] == 49740)
    lines = tshark(path, ["smtp.rsp.parameter"], "tcp.srcport==25 and tcp.dstport==49740 and smtp.response.code==250")
    params = [x for row in lines for x in row[0].split(",")] if lines else []
    want = [x.strip() for x in params[1:]]          # the first line is the greeting text
    check(s3["smtp"]["extensions"] == want, f"extensions as tshark reads them: {s3['smtp']['extensions'][:5]} vs {want[:5]}")
    check("SIZE 52428800" in s3["smtp"]["extensions"] and
          any(e.startswith("AUTH LOGIN PLAIN") for e in s3["smtp"]["extensions"]),
          "extensions keep SIZE's limit and AUTH's mechanisms")

    # tls-mismatch cites the server's plaintext
    s4 = next(s for s in sess if s["server"]["port"] == 465)
    ev = [t for t in s4["transcript"] if "tls-mismatch" in t["line"]]
    check(len(ev) == 1, "one tls-mismatch event in the transcript")
    if ev:
        row = tshark(path, ["tcp.srcport", "smtp.response.code"], f"frame.number=={ev[0]['frame']}")
        check(row and row[0][0] == "465" and row[0][1] == "220",
              f"tls-mismatch event at frame {ev[0]['frame']}: a server packet with its 220 ({row})")
    hello = tshark(path, ["frame.number"], "tls.handshake.type==1 and tcp.dstport==465")
    hello_frames = {int(r[0]) for r in hello}
    for e in s4["verdict"]["evidence"]:
        if "where TLS was due" in e["text"] or "plaintext" in e["text"]:
            check(e["frame"] not in hello_frames, f"evidence '{e['text'][:40]}' is not the ClientHello frame ({e['frame']})")

    # text transcript: frame numbers on every dialog line
    p = subprocess.run([BIN, "analyze", "--transcript", path], capture_output=True, text=True, timeout=120)
    dialog = [l for l in p.stdout.splitlines() if " C: " in l or " S: " in l]
    check(dialog and all(" #" in l for l in dialog), f"text transcript: {len(dialog)} dialog lines, all with #frame")
    # nDPI: a refused SYN to 587, built here (documentation addresses)
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "refused587.pcap")
        write_refused(cap)
        p = subprocess.run([BIN, "analyze", "--json", cap], capture_output=True, text=True, timeout=60)
        s = json.loads(p.stdout.splitlines()[0])
        check(s["verdict"]["cause"] == "connection_refused", "refused SYN to 587: connection_refused")
        check(s["protocol"] == "Unknown" or s["protocol_guessed"] is True,
              f"refused SYN to 587: {s['protocol']} is marked as guessed ({s['protocol_guessed']})")
        p = subprocess.run([BIN, "analyze", cap], capture_output=True, text=True, timeout=60)
        check(s["protocol"] == "Unknown" or "(guessed by port)" in p.stdout.splitlines()[0],
              "text: the guessed name says '(guessed by port)'")
    subs = []
    for f in glob.glob(os.path.join(CORPUS, "*.pcap*")):
        p = subprocess.run([BIN, "analyze", "--json", f], capture_output=True, text=True, timeout=120)
        subs += [o for o in map(json.loads, p.stdout.splitlines())
                 if o["type"] == "session" and o["server"]["port"] in (587, 2525) and o["protocol"].startswith("SMTP")]
    check(subs and all("Known Protocol on Non Standard Port" not in o["risks"] for o in subs) and
          all(r["why"] for o in subs for r in o["risks_ignored"]),
          f"SMTP on 587/2525 ({len(subs)} corpus sessions): the port risk is left out, with why")
    if fails:
        print(f"{len(fails)} checks failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
