#!/usr/bin/env python3
"""analyze --shard K/N + merge give what one process gives, byte for byte:
for N = 1, 2 and 4, the N shard runs joined by `smtpsleuth merge` (from files
and from stdin) equal a plain `analyze --json` run, on a capture made by
tests/bench/gen_capture (3000 sessions, with loss and reordering), on the
bundled captures read together, and on a corpus capture when SLEUTH_CORPUS is
set. Each shard holds exactly the sessions whose Community ID digest (SHA-1,
computed here with hashlib) falls in it, as documented. merge refuses a
missing shard, a shard given twice and shards of different captures."""
import base64
import glob
import hashlib
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
BUILD = os.environ.get("SLEUTH_BUILD_DIR", "")
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("SLEUTH_CORPUS", "")


def digest(s):
    a, ap = ipaddress.ip_address(s["client"]["ip"]).packed, s["client"]["port"]
    b, bp = ipaddress.ip_address(s["server"]["ip"]).packed, s["server"]["port"]
    if (a, ap) > (b, bp):
        a, ap, b, bp = b, bp, a, ap
    d = hashlib.sha1(struct.pack("!H", 0) + a + b + struct.pack("!BBHH", 6, 0, ap, bp)).digest()
    assert "1:" + base64.b64encode(d).decode() == s["community_id"]
    return d


def run(args, stdin=None):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=600, input=stdin)
    return p.returncode, p.stdout, p.stderr


def check(files, tmp, label):
    rc, whole, err = run(["analyze", "--json"] + files)
    assert rc == 0, err
    n_sessions = sum(1 for l in whole.splitlines() if l.startswith(b'{"type":"session"'))
    for n in (1, 2, 4):
        outs = []
        for k in range(1, n + 1):
            rc, out, err = run(["analyze", "--json", "--shard", f"{k}/{n}"] + files)
            assert rc == 0, err
            path = os.path.join(tmp, f"{label}-{k}of{n}.json")
            with open(path, "wb") as f:
                f.write(out)
            outs.append(path)
            for line in out.splitlines():
                o = json.loads(line)
                if o["type"] == "session":
                    assert o["shard"]["k"] == k and o["shard"]["n"] == n
                    want = int.from_bytes(digest(o)[:4], "big") % n + 1
                    assert want == k, f"{label}: session {o['id']} in shard {k}/{n}, hash says {want}"
        rc, merged, err = run(["merge"] + outs[::-1])      # any order of inputs, merged as read
        assert rc == 0, err
        assert merged == whole, f"{label}: merge of {n} shards differs from one run"
        rc, merged, err = run(["merge"], stdin=b"".join(open(p, "rb").read() for p in outs))
        assert rc == 0 and merged == whole, f"{label}: merge from stdin of {n} shards differs"
        print(f"{label}: N={n} identical to one run ({n_sessions} sessions, {len(whole)} bytes)")
    return outs


def main():
    gen = os.path.join(BUILD, "gen_capture")
    if not BIN or not os.path.exists(gen):
        print("skip: needs SMTPSLEUTH and gen_capture in SLEUTH_BUILD_DIR")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        g = os.path.join(tmp, "gen.pcap")
        subprocess.run([gen, "-o", g, "--mix", "small", "--sessions", "3000", "--seed", "11",
                        "--loss", "0.5", "--reorder", "0.5"], check=True, capture_output=True, timeout=300)
        outs4 = check([g], tmp, "generated")
        check(sorted(glob.glob(os.path.join(SRC, "captures", "*.pcap"))), tmp, "bundled")
        if os.path.isdir(CORPUS):
            for name in ("ndpi-emotet.pcap", "suricata-smtp-errors.pcap"):
                if os.path.exists(os.path.join(CORPUS, name)):
                    check([os.path.join(CORPUS, name)], tmp, name)
        # refusals
        rc, _, err = run(["merge"] + outs4[:3])
        assert rc == 1 and b"missing" in err, err
        rc, _, err = run(["merge"] + outs4 + outs4[:1])
        assert rc == 1 and b"twice" in err, err
        other = os.path.join(tmp, "bundled-2of4.json")
        rc, _, err = run(["merge"] + outs4[:1] + [other] + outs4[2:])
        # read as they come, the sessions collide before the summaries disagree
        assert rc == 1 and (b"disagree" in err or b"twice" in err), err
        rc, _, err = run(["merge", "-"], stdin=open(outs4[0], "rb").read() + open(other, "rb").read()
                         + b"".join(open(p, "rb").read() for p in outs4[2:]))
        assert rc == 1 and b"disagree" in err, err
        rc, _, err = run(["merge", os.path.join(tmp, "nonexistent.json")])
        assert rc == 1, err
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
