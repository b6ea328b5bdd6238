#!/usr/bin/env python3
"""The community_id of every session equals a Community ID v1 (seed 0)
computed here independently: the flow tuples come from tshark's dissection of
the same corpus captures (IPv4 and IPv6), the hash from Python's hashlib
following the specification (corelight/community-id-spec). Skips (77) when
the corpus or tshark is missing."""
import base64
import hashlib
import ipaddress
import json
import os
import shutil
import struct
import subprocess
import sys

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
FILES = ["ndpi-smtp.pcap", "packetlife-ipv6-smtp.pcapng", "arkime-smtp-data-521.pcap"]


def community_id(saddr, sport, daddr, dport, proto=6, seed=0):
    s, d = ipaddress.ip_address(saddr).packed, ipaddress.ip_address(daddr).packed
    if (s, sport) > (d, dport):
        s, sport, d, dport = d, dport, s, sport
    buf = struct.pack("!H", seed) + s + d + struct.pack("!BBHH", proto, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(buf).digest()).decode()


def tshark_flows(path):
    """{community_id: (a, ap, b, bp)} of every TCP stream's first packet."""
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=\t",
                          "-e", "tcp.stream", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                          "-e", "tcp.srcport", "-e", "tcp.dstport"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    flows = {}
    seen = set()
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or f[0] in seen:
            continue
        seen.add(f[0])
        src, dst = (f[1], f[2]) if f[1] else (f[3], f[4])
        # tunnels give several addresses per packet; take the innermost
        src, dst = src.split(",")[-1], dst.split(",")[-1]
        flows[community_id(src, int(f[5]), dst, int(f[6]))] = (src, int(f[5]), dst, int(f[6]))
    return flows


def main():
    if not BIN or not os.path.isdir(CORPUS) or not shutil.which("tshark"):
        print("skip: needs SMTPSLEUTH, SLEUTH_CORPUS and tshark")
        return 77
    checked = 0
    for name in FILES:
        path = os.path.join(CORPUS, name)
        if not os.path.exists(path):
            print(f"skip: {name} not in the corpus")
            return 77
        flows = tshark_flows(path)
        p = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
        sessions = [json.loads(l) for l in p.stdout.splitlines() if json.loads(l)["type"] == "session"]
        assert sessions, f"{name}: no session"
        for s in sessions:
            cid = s["community_id"]
            want = community_id(s["client"]["ip"], s["client"]["port"], s["server"]["ip"], s["server"]["port"])
            assert cid == want, f"{name} session {s['id']}: {cid} != {want}"
            # and the flow exists as tshark saw it, with the same endpoints
            assert cid in flows, f"{name} session {s['id']}: {cid} is no TCP stream tshark saw"
            a, ap, b, bp = flows[cid]
            ip = ipaddress.ip_address
            assert {(ip(a), ap), (ip(b), bp)} == {(ip(s["client"]["ip"]), s["client"]["port"]),
                                                  (ip(s["server"]["ip"]), s["server"]["port"])}, (cid, flows[cid])
            checked += 1
        print(f"{name}: {len(sessions)} sessions, community_id as computed from tshark's tuples")
    print(f"ok: {checked} sessions checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
