"""`analyze --pair` on the two-point captures of tests/data/pair/ (see its
MANIFEST.md and make.sh): each scenario's path facts and verdict, and the
join of every session when the two clocks differ (by up to 10 s, either
way), when NAT rewrote the client's address and port, and when a NAT also
rewrote the initial sequence numbers (made here from the stored captures:
timestamps shifted and TCP sequence numbers rewritten, checksums fixed,
in pure Python)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402

binary = os.environ.get("SMTPSLEUTH", "")
src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
base = os.path.join(src, "tests", "data", "pair")
manifest = os.path.join(base, "MANIFEST.md")
if not binary or not os.access(binary, os.X_OK) or not os.path.exists(manifest):
    print("no smtpsleuth binary or no tests/data/pair/MANIFEST.md")
    sys.exit(SKIP)


def run(client, server, *extra):
    p = subprocess.run([binary, "analyze", "--json", *extra, "--pair", client, server],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    objs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    return p.returncode, objs


def sessions(objs):
    return [o for o in objs if o.get("type") == "session"]


def pair_obj(objs):
    return [o for o in objs if o.get("type") == "pair"][0]


def d(name):
    return os.path.join(base, name)


# ---- pcap rewriting (classic pcap, Ethernet, IPv4) ----

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    hdr, off, recs = data[:24], 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        recs.append([sec, frac, orig, bytearray(data[off + 16:off + 16 + incl])])
        off += 16 + incl
    return hdr, endian, nano, recs


def write_pcap(path, hdr, endian, recs):
    with open(path, "wb") as f:
        f.write(hdr)
        for sec, frac, orig, b in recs:
            f.write(struct.pack(endian + "IIII", sec, frac, len(b), orig))
            f.write(bytes(b))


def shift(src_path, dst_path, seconds):
    hdr, endian, nano, recs = read_pcap(src_path)
    unit = 10**9 if nano else 10**6
    delta = round(seconds * unit)
    for r in recs:
        t = r[0] * unit + r[1] + delta
        r[0], r[1] = divmod(t, unit)
    write_pcap(dst_path, hdr, endian, recs)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rewrite_client_isn(src_path, dst_path, server_port=25):
    """What a NAT that randomises ISNs leaves at the server: every client
    sequence number moved by a per-connection constant (and the server's
    acknowledgements with it). TCP checksums are recomputed."""
    hdr, endian, nano, recs = read_pcap(src_path)
    for r in recs:
        b = r[3]
        if len(b) < 14 + 20 + 20 or b[12:14] != b"\x08\x00" or b[14 + 9] != 6:
            continue
        ihl = (b[14] & 15) * 4
        t = 14 + ihl
        sport, dport = struct.unpack("!HH", b[t:t + 4])
        client_port = dport if sport == server_port else sport
        delta = (0x9E3779B9 * (client_port + 1)) & 0xFFFFFFFF
        seq, ack = struct.unpack("!II", b[t + 4:t + 12])
        if dport == server_port:
            seq = (seq + delta) & 0xFFFFFFFF
        elif b[t + 13] & 0x10:
            ack = (ack + delta) & 0xFFFFFFFF
        b[t + 4:t + 12] = struct.pack("!II", seq, ack)
        tot = struct.unpack("!H", b[16:18])[0]
        seg = bytes(b[t:14 + tot])
        seg = seg[:16] + b"\0\0" + seg[18:]
        pseudo = bytes(b[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
        b[t + 16:t + 18] = struct.pack("!H", csum(pseudo + seg))
    write_pcap(dst_path, hdr, endian, recs)


# ---- the manifest's table ----

rows = {}
for line in open(manifest):
    cells = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(cells) == 9 and cells[0].startswith("`") and cells[0] != "`scenario`":
        rows[cells[0].strip("`")] = cells
if not rows:
    print("MANIFEST lists no scenarios")
    sys.exit(SKIP)

c = Checker()
present = sorted({f.rsplit("_", 1)[0] for f in os.listdir(base)
                  if f.endswith("_client.pcap")})
c.eq("every capture pair is in the manifest", sorted(set(present) - set(rows)), [])

# ---- every scenario: verdict and path facts from the manifest ----
# columns: scenario | what | cause | closed_by | close | phase | join |
#          c2s sent/received/dropped/injected | s2c sent/received/dropped/injected
results = {}
for name, r in sorted(rows.items()):
    rc, objs = run(d(name + "_client.pcap"), d(name + "_server.pcap"))
    c.eq("%s exit status" % name, rc, 0)
    joined = [s for s in sessions(objs) if s.get("path", {}).get("seen_at") == "both"]
    results[name] = objs
    if name == "nat_multi":
        continue   # several sessions: checked below
    c.eq("%s joined sessions" % name, len(joined), 1)
    if not joined:
        continue
    s = joined[0]
    v, path = s["verdict"], s["path"]
    c.eq("%s verdict" % name, [v["cause"], v["closed_by"], v["close"], v["phase"], v["confidence"]],
         [r[2], r[3], r[4], r[5], "high"])
    c.eq("%s join" % name, path["join"], r[6])
    for col, k in ((7, "c2s"), (8, "s2c")):
        want = [int(x) for x in r[col].split("/")]
        got = [path[k][x] for x in ("sent", "received", "dropped", "injected")]
        c.eq("%s %s sent/received/dropped/injected" % (name, k), got, want)
    # every judged packet is accounted for, and one-way delays are sane
    for k in ("c2s", "s2c"):
        pk = path[k]
        c.eq("%s %s reordered (one path, in order)" % (name, k), pk["reordered"], 0)
        c.true("%s %s dropped <= sent, injected <= received" % (name, k),
               pk["dropped"] <= pk["sent"] and pk["injected"] <= pk["received"])
        if pk["delay_ms"]:
            c.true("%s %s delays ordered and small" % (name, k),
                   0 <= pk["delay_ms"]["min"] <= pk["delay_ms"]["median"] <= pk["delay_ms"]["max"] < 100,
                   repr(pk["delay_ms"]))
    c.true("%s clock offset under 1 ms" % name, abs(path["clock_offset"]) < 0.001, repr(path["clock_offset"]))

# ---- the specific proof of each fault ----

def one(name):
    return [s for s in sessions(results[name]) if s["path"]["seen_at"] == "both"][0]


for name in ("rst_to_client", "nat_rst_to_client", "rst_both", "rst_to_client_v6"):
    s = one(name)
    inj = s["path"]["s2c"]["injected_packets"]
    c.eq("%s: the forged RST toward the client" % name, [p["flags"].startswith("RST") for p in inj], [True])
    c.eq("%s: it ended the client's side" % name,
         (s["path"]["s2c"]["forged_rst"], s["path"]["s2c"]["forged_rst_ignored"]), (1, 0))
    if inj:
        c.eq("%s: its TTL against the server's" % name, (inj[0]["ttl"], inj[0]["sender_ttl"]), (64, 63))
    ev = s["verdict"]["evidence"][0]["text"]
    c.true("%s: evidence names both captures' sides" % name,
           name + "_client.pcap" in ev and "server" in ev, ev)
    c.true("%s: explanation names the other capture" % name,
           name + "_server.pcap" in s["verdict"]["explanation"], s["verdict"]["explanation"])
for name in ("rst_to_server", "rst_both"):
    inj = one(name)["path"]["c2s"]["injected_packets"]
    c.eq("%s: the forged RST toward the server" % name, [p["flags"].startswith("RST") for p in inj], [True])
    if inj:
        c.eq("%s: seen in the server-side file" % name, inj[0]["file"], name + "_server.pcap")
for name in ("rst_to_client", "rst_to_server", "rst_both", "rst_to_client_v6"):
    dropped = one(name)["path"]["c2s"]["dropped_packets"]
    c.true("%s: the DATA command (6 bytes) never reached the server" % name,
           dropped and dropped[0]["len"] == 6, repr(dropped[:1]))
s = one("rst_late")
c.eq("rst_late: both forged RSTs ignored, none effective",
     [s["path"][k][x] for k in ("c2s", "s2c") for x in ("forged_rst", "forged_rst_ignored")], [0, 1, 0, 1])
c.eq("rst_late: RCPT TO discarded every time", s["path"]["c2s"]["discarded_segment_copies"], 5)
c.true("rst_late: explanation names the filter and the ignored RSTs",
       "discarded" in s["verdict"]["explanation"] and "ignored" in s["verdict"]["explanation"],
       s["verdict"]["explanation"])
s = one("synack_dropped")
c.true("synack_dropped: only SYN-ACKs were dropped",
       all(p["flags"] == "SYN,ACK" for p in s["path"]["s2c"]["dropped_packets"]), repr(s["path"]["s2c"]))
c.true("synack_dropped: explanation says so", "SYN-ACK" in s["verdict"]["explanation"])
for name in ("mtu_blackhole", "nat_mtu_blackhole"):
    pk = one(name)["path"]["c2s"]
    c.eq("%s: black hole facts" % name, (pk["mtu_blackhole"], pk["smallest_dropped"], pk["largest_delivered"] < 576),
         (True, 1500, True))
    c.true("%s: explanation says MTU black hole" % name,
           "MTU black hole" in one(name)["verdict"]["explanation"])
    c.eq("%s: nothing dropped toward the client" % name, one(name)["path"]["s2c"]["dropped"], 0)
pk = one("loss5")["path"]
lost = pk["c2s"]["dropped"] + pk["s2c"]["dropped"]
total = pk["c2s"]["sent"] + pk["s2c"]["sent"]
c.true("loss5: loss between 1 % and 15 %", 0.01 <= lost / total <= 0.15, "%d/%d" % (lost, total))
c.eq("loss5: no black hole, no forged packet", (pk["c2s"]["mtu_blackhole"], pk["c2s"]["injected"] + pk["s2c"]["injected"]),
     (False, 0))
s = one("idle_drop")
c.eq("idle_drop: dead both ways", (s["path"]["c2s"]["dead_after_drop"], s["path"]["s2c"]["dead_after_drop"]), (True, True))
c.true("idle_drop: explanation names the idle firewall", "idle" in s["verdict"]["explanation"], s["verdict"]["explanation"])
c.eq("idle_drop: the server's own view was an idle timeout", s["path"]["server_view"]["cause"], "idle_timeout")
c.eq("rst_to_client_v6: IPv6 addresses", one("rst_to_client_v6")["client"]["ip"], "2001:db8:1::10")
c.true("rst_to_client_v6: hop limits named as such", "hop limit 64" in one("rst_to_client_v6")["verdict"]["explanation"])
for name in ("normal", "loss5", "rst_to_client", "rst_to_client_v6"):
    c.eq("%s: hops 1 both ways" % name, (one(name)["path"]["c2s"]["hops"], one(name)["path"]["s2c"]["hops"]), (1, 1))
    c.eq("%s: no NAT" % name, one(name)["path"]["nat"]["client_rewritten"], False)
for name in ("nat_normal", "nat_rst_to_client", "nat_mtu_blackhole"):
    p = one(name)["path"]
    c.eq("%s: NAT rewrote the client" % name, p["nat"]["client_rewritten"], True)
    c.true("%s: the port is in the NAT's range" % name, 40000 <= p["server_side"]["client"]["port"] <= 40099,
           repr(p["server_side"]))
    c.eq("%s: client address at the client" % name, p["client_side"]["client"]["ip"], "192.0.2.10")
p = one("nat_rst_to_client")["path"]
c.eq("nat_rst_to_client: masquerade uses the router's address", p["server_side"]["client"]["ip"], "203.0.113.1")
p = one("nat_normal")["path"]
c.eq("nat_normal: snat to 198.51.100.7", p["server_side"]["client"]["ip"], "198.51.100.7")

# ---- the join across NAT, clock shifts and rewritten ISNs ----

def joins(objs):
    """client port -> (server-side client port, cause) for joined sessions;
    plus the one-end-only sessions' (side, cause)."""
    j, only = {}, []
    for s in sessions(objs):
        p = s["path"]
        if p["seen_at"] == "both":
            j[p["client_side"]["client"]["port"]] = (p["server_side"]["client"]["port"], s["verdict"]["cause"],
                                                     p["c2s"]["dropped"], p["s2c"]["dropped"])
        else:
            only.append((p["seen_at"], s["verdict"]["cause"]))
    return j, sorted(only)


ref, ref_only = joins(results["nat_multi"])
c.eq("nat_multi: four sessions joined through NAT", len(ref), 4)
c.true("nat_multi: every joined session delivered everything",
       all(v[2] == 0 and v[3] == 0 and v[1] == "completed" for v in ref.values()), repr(ref))
c.eq("nat_multi: sessions seen at one end only", ref_only,
     [("client", "connection_refused"), ("server", "completed")])
c.eq("nat_multi: ports as the NAT mapped them (distinct, in range)",
     (len({v[0] for v in ref.values()}), all(40000 <= v[0] <= 40099 for v in ref.values())), (4, True))

rc, objs = run(d("nat_multi_client.pcap"), d("nat_multi_server_shifted.pcap"))
c.eq("stored +7.5 s: same joins", joins(objs), (ref, ref_only))
c.true("stored +7.5 s: offset found", abs(pair_obj(objs)["clock_offset"] - 7.5) < 0.001, repr(pair_obj(objs)))

with tempfile.TemporaryDirectory() as tmp:
    for sec in (-10.0, -3.3, 0.25, 10.0):
        for name in ("nat_multi", "rst_to_client", "idle_drop"):
            out = os.path.join(tmp, "%s_%s_server.pcap" % (name, sec))
            shift(d(name + "_server.pcap"), out, sec)
            rc, objs = run(d(name + "_client.pcap"), out)
            rj = joins(results[name])
            c.eq("%s, server clock %+.2f s: same joins and verdicts" % (name, sec), joins(objs), rj)
            c.true("%s, server clock %+.2f s: offset found" % (name, sec),
                   abs(pair_obj(objs)["clock_offset"] - sec) < 0.001, repr(pair_obj(objs)["clock_offset"]))
        # the client's clock off instead
        out = os.path.join(tmp, "client_%s.pcap" % sec)
        shift(d("nat_multi_client.pcap"), out, sec)
        rc, objs = run(out, d("nat_multi_server.pcap"))
        c.eq("nat_multi, client clock %+.2f s: same joins" % sec, joins(objs), (ref, ref_only))
        c.true("nat_multi, client clock %+.2f s: offset found" % sec,
               abs(pair_obj(objs)["clock_offset"] + sec) < 0.001, repr(pair_obj(objs)["clock_offset"]))
    # a NAT that also rewrites the client's ISNs: joined by payload and time
    for sec in (0.0, 10.0, -10.0):
        for name in ("nat_multi", "nat_rst_to_client"):
            out = os.path.join(tmp, "isn_%s_%s.pcap" % (name, sec))
            rewrite_client_isn(d(name + "_server.pcap"), out)
            shift(out, out, sec)
            rc, objs = run(d(name + "_client.pcap"), out)
            c.eq("%s, ISNs rewritten, clock %+.1f s: same joins and verdicts" % (name, sec), joins(objs),
                 joins(results[name]))
            sess = [s for s in sessions(objs) if s["path"]["seen_at"] == "both"]
            c.true("%s, ISNs rewritten, clock %+.1f s: joined by fingerprint, seq rewrite seen" % (name, sec),
                   sess and all(s["path"]["join"] == "fingerprint" and s["path"]["nat"]["seq_rewritten"]
                                for s in sess), repr([s["path"]["join"] for s in sess]))
    # several files per side, given in any order
    hdr, endian, nano, recs = read_pcap(d("nat_multi_server.pcap"))
    half = len(recs) // 2
    a, b = os.path.join(tmp, "part1.pcap"), os.path.join(tmp, "part2.pcap")
    write_pcap(a, hdr, endian, recs[:half])
    write_pcap(b, hdr, endian, recs[half:])
    rc, objs = run(d("nat_multi_client.pcap"), b + "," + a)
    c.eq("server side in two files (given out of order): same joins", joins(objs), (ref, ref_only))

# ---- damaged captures: an error or sessions, never a crash ----
import random  # noqa: E402
rnd = random.Random(17)
with tempfile.TemporaryDirectory() as tmp:
    for i in range(30):
        name = rnd.choice(sorted(rows))
        sides = []
        for side in ("client", "server"):
            data = bytearray(open(d("%s_%s.pcap" % (name, side)), "rb").read())
            for _ in range(rnd.randint(1, 40)):
                j = rnd.randrange(24, len(data))
                data[j] = rnd.randrange(256)
            if rnd.random() < 0.3:
                data = data[:rnd.randrange(24, len(data))]
            sides.append(os.path.join(tmp, "%d_%s.pcap" % (i, side)))
            open(sides[-1], "wb").write(data)
        p = subprocess.run([binary, "analyze", "--json", "--pair", sides[0], sides[1]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode(errors="replace")
        c.true("damaged %s #%d: exit 0 or 1, no sanitizer report" % (name, i),
               p.returncode in (0, 1) and "Sanitizer" not in err and "runtime error" not in err,
               "rc %d %s" % (p.returncode, err[:500]))
        lines = p.stdout.decode(errors="replace").splitlines()
        c.true("damaged %s #%d: valid JSON, ends with the pair line" % (name, i),
               all(json.loads(l) is not None for l in lines) and json.loads(lines[-1])["type"] == "pair",
               repr(lines[-1:]))

# ---- usage ----
p = subprocess.run([binary, "analyze", "--pair", d("normal_client.pcap")], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=30)
c.eq("--pair with one side only is a usage error", p.returncode, 2)
p = subprocess.run([binary, "analyze", "--pair", d("normal_client.pcap"), os.path.join(base, "nonexistent.pcap")],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
c.eq("--pair with an unreadable side fails", p.returncode, 1)
p = subprocess.run([binary, "analyze", "--color", "never", "--pair", d("rst_to_client_client.pcap"),
                    d("rst_to_client_server.pcap")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
out = p.stdout.decode()
c.true("text report: a path block with the injected RST", "  path      joined by tuple" in out and
       "injected: rst_to_client_client.pcap frame 14 RST TTL 64 (the server's packets: 63)" in out, out)
c.done()
