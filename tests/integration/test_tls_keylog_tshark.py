"""Differential test of the TLS decryption against tshark: for every TLS
session made by tests/data/make_tlsdec_fixtures.py and make_tlsdec_sclient.py
(tests/data/tlsdec-NAME.{txt,pcap,keys}), the SMTP commands and reply codes
our decryptor recovers (bench_tls_decrypt --dump, the decryptor alone) equal
those tshark shows with `-o tls.keylog_file:NAME.keys`. tshark shows the
first four letters of a command, so we compare those; it shows one reply code
per TCP segment (a reply spread over two segments shows its code twice), so
runs of the same code are collapsed on both sides before comparing.

When the corpus holds wsnotes-smtp2525-starttls.pcapng (Exim over STARTTLS on
port 2525, its CLIENT_RANDOM line in the capture comment), its TCP payloads are
taken out with tshark and run through the decryptor the same way.

Skips (77) without tshark or without the bench_tls_decrypt tool in the build."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402

src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
build = os.environ.get("SLEUTH_BUILD_DIR", "build")
corpus = os.environ.get("SLEUTH_CORPUS", "")
tool = os.path.join(build, "bench_tls_decrypt")
data = os.path.join(src, "tests", "data")
tshark = subprocess.run(["sh", "-c", "command -v tshark"], stdout=subprocess.PIPE).stdout.strip()
if not tshark or not os.access(tool, os.X_OK):
    print("no tshark or no %s" % tool)
    sys.exit(SKIP)


def ours(dialog, keys):
    p = subprocess.run([tool, "--dump", dialog, keys], stdout=subprocess.PIPE, timeout=60, check=True)
    cmds, codes, status = [], [], {}
    for line in p.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("# c2s ") or line.startswith("# s2c "):
            status[line[2:5]] = re.search(r"status=(\S+)", line).group(1)
        elif line.startswith("C "):
            cmds.append(line[2:6].upper())
        elif line.startswith("S ") and re.match(r"S \d\d\d( |$)", line):
            codes.append(line[2:5])
    return cmds, codes, status


def theirs(pcap, keys, port_opts=()):
    p = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keys, *port_opts,
                        "-Y", "smtp", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                        "-e", "smtp.req.command", "-e", "smtp.response.code"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120, check=True)
    cmds, codes = [], []
    for line in p.stdout.decode().splitlines():
        c, _, r = line.partition("\t")
        cmds += [x[:4].upper() for x in c.split(",") if x]
        codes += [x for x in r.split(",") if x]
    return cmds, codes


def runs(codes):
    return [x for i, x in enumerate(codes) if i == 0 or codes[i - 1] != x]


c = Checker()
names = sorted(f[len("tlsdec-"):-4] for f in os.listdir(data) if f.startswith("tlsdec-") and f.endswith(".txt"))
c.true("fixtures present", len(names) >= 12, names)
for n in names:
    base = os.path.join(data, "tlsdec-" + n)
    o_cmds, o_codes, st = ours(base + ".txt", base + ".keys")
    t_cmds, t_codes = theirs(base + ".pcap", base + ".keys")
    c.eq("%s: both directions decrypted" % n, st, {"c2s": "decrypting", "s2c": "decrypting"})
    c.true("%s: tshark decrypted the dialog" % n, "QUIT" in t_cmds and "221" in t_codes, (t_cmds, t_codes))
    c.eq("%s: commands equal tshark's" % n, o_cmds, t_cmds)
    c.eq("%s: reply codes equal tshark's" % n, runs(o_codes), runs(t_codes))

ws = os.path.join(corpus, "wsnotes-smtp2525-starttls.pcapng") if corpus else ""
if ws and os.path.exists(ws):
    info = subprocess.run(["capinfos", ws], stdout=subprocess.PIPE, check=True).stdout.decode()
    m = re.search(r"(CLIENT_RANDOM [0-9A-Fa-f]{64} [0-9A-Fa-f]{96})", info)
    c.true("wsnotes: the capture comment holds the key", m is not None)
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "keys.log")
        with open(keys, "w") as f:
            f.write(m.group(1) + "\n")
        p = subprocess.run(["tshark", "-n", "-r", ws, "-Y", "tcp.len > 0", "-T", "fields",
                            "-e", "tcp.dstport", "-e", "tcp.payload"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, timeout=60)
        dialog = os.path.join(d, "dialog.txt")
        tls = False
        with open(dialog, "w") as f:
            for line in p.stdout.decode().splitlines():
                port, _, hexb = line.partition("\t")
                side = "C" if port == "2525" else "S"
                hexb = hexb.replace(":", "")
                if side == "C" and hexb.startswith("1603"):
                    tls = True      # the ClientHello after STARTTLS's 220
                f.write("%s %s\n" % (side if tls else side.lower(), hexb))
        o_cmds, o_codes, st = ours(dialog, keys)
        t_cmds, t_codes = theirs(ws, keys, ("-d", "tcp.port==2525,smtp"))
        c.eq("wsnotes: server direction decrypted", st.get("s2c"), "decrypting")
        c.true("wsnotes: the 421 inside TLS is seen", "421" in o_codes, o_codes)
        c.eq("wsnotes: commands equal tshark's", o_cmds, t_cmds)
        c.eq("wsnotes: reply codes equal tshark's", runs(o_codes), runs(t_codes))
else:
    print("wsnotes-smtp2525-starttls.pcapng not in the corpus: that part is not run")
c.done()
