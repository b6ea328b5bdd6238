"""analyze --tls-keylog against tshark -o tls.keylog_file, end to end.

For every TLS capture with a key log, the SMTP commands (first four letters)
and reply codes `smtpsleuth analyze --tls-keylog K --json --transcript`
shows must equal those tshark shows with `-o tls.keylog_file:K` (runs of one
reply code collapsed on both sides: tshark gives one code per segment or
line). The captures:
  - tests/data/tlsdec-NAME.{pcap,keys} (TLS 1.2 GCM/CBC/ChaCha, resumed,
    implicit TLS, TLS 1.3 suites, HelloRetryRequest, KeyUpdate);
  - captures/NAME.{pcap,keys} (reproduce --tls: auth failure, size limit,
    idle timeout, completed, inside STARTTLS);
  - made here when root may capture on lo: the bundled server with
    --tls-keylog, talked to by Python's ssl (TLS 1.2 and 1.3 forced; its own
    keylog_filename too), curl (--tls-max 1.2, --tlsv1.3) and swaks
    (--tls-protocol tlsv1_2 / tlsv1_3): AUTH refused, AUTH accepted, a message
    over SIZE (552), completed mail;
  - the corpus's wsnotes-smtp2525-starttls.pcapng (its CLIENT_RANDOM line is in
    the capture comment), when present.
For each, also: every session was decrypted, no master or traffic secret of
the key log appears in any output (text, JSON with transcript, transcript,
HTML page, --extract files), the extracted ID.tls.c2s/ID.tls.s2c hold the
plaintext while ID.c2s/ID.s2c stay the wire bytes, a key log whose
secrets are altered gives `encrypted` with "keys did not match" (exit 0),
and a gap inside TLS ends decryption of that direction only (status `gap`),
with nothing read after it.

Skips (77) without tshark."""
import glob
import json
import os
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP, Server  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH", "")
src = os.environ.get("SLEUTH_SOURCE_DIR", ".")
corpus = os.environ.get("SLEUTH_CORPUS", "")
if not BIN or not os.access(BIN, os.X_OK) or not shutil.which("tshark"):
    print("no smtpsleuth binary or no tshark")
    sys.exit(SKIP)
ENV = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}


def analyze(args, cwd=None):
    p = subprocess.run([BIN, "analyze"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=ENV, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ours(pcap, keys):
    rc, out, _ = analyze(["--json", "--transcript", "--tls-keylog", keys, pcap])
    cmds, codes, sessions = [], [], []
    for line in out.splitlines():
        o = json.loads(line)
        if o.get("type") != "session":
            continue
        sessions.append(o)
        for t in o.get("transcript", []):
            text = t["line"]
            if t["side"] == "client" and re.match(r"[A-Za-z]{4}", text):
                cmds.append(text[:4].upper())
            elif t["side"] == "server" and re.match(r"\d\d\d( |$)", text):
                codes.append(text[:3])
    return rc, cmds, codes, sessions, out


def theirs(pcap, keys, ports):
    opts = []
    for p in sorted(ports):
        if p not in (25, 465, 587):
            opts += ["-d", "tcp.port==%d,smtp" % p]
    p = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keys, *opts,
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


def secrets_of(keys):
    out = []
    for line in open(keys):
        f = line.split()
        if len(f) == 3 and not line.startswith("#"):
            out += [f[2].lower(), f[2].upper()]
    return out


def check_capture(c, name, pcap, keys, want_decrypted=None, raw_secrets=True):
    """want_decrypted: the session ids the key log opens (None: all)."""
    rc, o_cmds, o_codes, sessions, jout = ours(pcap, keys)
    c.eq("%s: exit status" % name, rc, 0)
    ports = {s["server"]["port"] for s in sessions}
    t_cmds, t_codes = theirs(pcap, keys, ports)
    c.true("%s: tshark decrypted a dialog inside TLS" % name, len(t_cmds) >= 2 and len(t_codes) >= 3, (t_cmds, t_codes))
    c.eq("%s: commands equal tshark's" % name, o_cmds, t_cmds)
    c.eq("%s: reply codes equal tshark's" % name, runs(o_codes), runs(t_codes))
    opened = {s["id"] for s in sessions} if want_decrypted is None else set(want_decrypted)
    for s in sessions:
        tls = s["smtp"]["tls"] or {}
        if s["id"] in opened:
            c.eq("%s #%d: decrypted" % (name, s["id"]), tls.get("decrypted"), True)
            c.true("%s #%d: keys named" % (name, s["id"]), tls.get("keys"), tls)
            c.true("%s #%d: not encrypted" % (name, s["id"]), s["verdict"]["cause"] != "encrypted")
        else:
            c.eq("%s #%d (not in the key log): encrypted" % (name, s["id"]), s["verdict"]["cause"], "encrypted")
            c.true("%s #%d (not in the key log): the line wanted is named" % (name, s["id"]),
                   "key log has no line for this session; the line that would decrypt it: "
                   in s["verdict"]["explanation"], s["verdict"]["explanation"])
    # key material in no output
    sec = secrets_of(keys)
    with tempfile.TemporaryDirectory() as d:
        outs = [jout]
        for args in (["--tls-keylog", keys], ["--transcript", "--tls-keylog", keys],
                     ["--ladder", "--tls-keylog", keys],
                     ["--html", os.path.join(d, "page.html"), "--tls-keylog", keys],
                     ["--extract", os.path.join(d, "x"), "-q", "--tls-keylog", keys]):
            outs.append(analyze(args + [pcap])[1])
        for f in glob.glob(os.path.join(d, "**", "*"), recursive=True):
            if os.path.isfile(f):
                outs.append(open(f, "rb").read().decode("latin-1"))
                if raw_secrets:
                    raw = open(f, "rb").read()
                    for s in sec[::2]:
                        if len(s) >= 64:
                            c.true("%s: secret bytes not in %s" % (name, os.path.basename(f)),
                                   bytes.fromhex(s) not in raw)
        leaked = [s[:8] for s in sec for o in outs if s in o]
        c.eq("%s: no secret in any output" % name, leaked, [])
        tls_c2s = sorted(glob.glob(os.path.join(d, "x", "*.tls.c2s")))
        c.eq("%s: one plaintext stream per session opened" % name, len(tls_c2s), len(opened))
        for f in tls_c2s:
            plain = open(f, "rb").read().upper()
            wire = open(f.replace(".tls.c2s", ".c2s"), "rb").read().upper()
            c.true("%s: %s holds the dialog" % (name, os.path.basename(f)), b"EHLO" in plain)
            c.true("%s: %s stays the wire bytes" % (name, os.path.basename(f)[:-8] + ".c2s"),
                   b"QUIT" not in wire[wire.find(b"STARTTLS"):] if b"STARTTLS" in wire else b"QUIT" not in wire)
    # altered keys: "keys did not match", never a crash
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.keys")
        with open(bad, "w") as f:
            for line in open(keys):
                p = line.split()
                if len(p) == 3:
                    s = p[2]
                    p[2] = s[:-2] + ("00" if s[-2:].lower() != "00" else "11")
                f.write(" ".join(p) + "\n")
        rc, out, err = analyze(["--json", "--tls-keylog", bad, pcap])
        c.eq("%s, altered keys: exit status" % name, rc, 0)
        ss = [json.loads(l) for l in out.splitlines() if '"type":"session"' in l]
        for s in ss:
            tls = s["smtp"]["tls"] or {}
            if not tls or s["id"] not in opened:
                continue
            c.eq("%s #%d, altered keys: not decrypted" % (name, s["id"]), tls.get("decrypted"), False)
            c.eq("%s #%d, altered keys: encrypted" % (name, s["id"]), s["verdict"]["cause"], "encrypted")
            c.true("%s #%d, altered keys: said" % (name, s["id"]),
                   "keys did not match" in s["verdict"]["explanation"], s["verdict"]["explanation"])


c = Checker()
fixtures = sorted(glob.glob(os.path.join(src, "tests", "data", "tlsdec-*.keys")))
c.true("tlsdec fixtures present", len(fixtures) >= 12, fixtures)
for k in fixtures:
    check_capture(c, os.path.basename(k)[:-5], k[:-5] + ".pcap", k)
bundled = sorted(glob.glob(os.path.join(src, "captures", "*.keys")))
c.true("encrypted bundled captures present", len(bundled) >= 4, bundled)
for k in bundled:
    check_capture(c, "captures/" + os.path.basename(k)[:-5], k[:-5] + ".pcap", k)

# ---- captures made here: serve --tls-keylog and three clients ----

MSG = b"From: a@client.example.test\r\nTo: b@example.org\r\nSubject: t\r\n\r\nhello\r\n"


def py_session(port, version, auth_ok, big, keylog):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    ctx.keylog_filename = keylog
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("client.example.test")
    s.starttls(context=ctx)
    s.ehlo("client.example.test")
    try:
        s.login("alice", "correct-horse" if auth_ok else "wrong-password")
    except smtplib.SMTPAuthenticationError:
        pass
    try:
        body = MSG + (b"x" * 78 + b"\r\n") * (100 if big else 0)
        s.sendmail("a@client.example.test", ["b@example.org"], body)
    except smtplib.SMTPException:
        pass
    try:
        s.quit()
    except smtplib.SMTPException:
        s.close()


def made_captures(c, d):
    if os.geteuid() != 0 or not shutil.which("tcpdump"):
        print("not root or no tcpdump: captures against serve are not made")
        return
    users = os.path.join(d, "users")
    with open(users, "w") as f:
        f.write("alice:correct-horse\n")
    keys = os.path.join(d, "server.keys")
    pykeys = os.path.join(d, "python.keys")
    msg = os.path.join(d, "msg.eml")
    with open(msg, "wb") as f:
        f.write(MSG)
    with Server("--tls-keylog", keys, "--users", users, "--max-size", "4000") as srv:
        pcap = os.path.join(d, "serve.pcap")
        td = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-B", "65536", "-U", "-s", "0", "-w", pcap, "tcp port %d" % srv.port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = b""
        deadline = time.time() + 10
        while b"listening on" not in line and time.time() < deadline and td.poll() is None:
            line = td.stderr.readline()
        n = 0
        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            py_session(srv.port, ver, False, False, pykeys)    # AUTH refused, mail accepted
            py_session(srv.port, ver, True, True, pykeys)      # AUTH accepted, 552 over SIZE
            n += 2
        url = "smtp://127.0.0.1:%d" % srv.port
        if shutil.which("curl"):
            for v in (["--tls-max", "1.2"], ["--tlsv1.3"]):
                subprocess.run(["curl", "-s", "-k", "--ssl-reqd", *v, url, "--mail-from", "a@client.example.test",
                                "--mail-rcpt", "b@example.org", "-T", msg], timeout=30,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                n += 1
        if shutil.which("swaks"):
            for v in ("tlsv1_2", "tlsv1_3"):
                subprocess.run(["swaks", "--server", "127.0.0.1:%d" % srv.port, "--tls", "--tls-protocol", v,
                                "--to", "b@example.org", "--from", "a@client.example.test",
                                "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "nope"],
                               timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                n += 1
        srv.wait_sessions(n, timeout=15)
        # tcpdump drops what it has not read yet when it is stopped: on a
        # loaded machine it lags, so wait until the file stops growing
        # (written packet by packet with -U) for a second, 15 s at most.
        size, still, deadline = -1, 0, time.time() + 15
        while still < 4 and time.time() < deadline:
            time.sleep(0.25)
            now = os.path.getsize(pcap) if os.path.exists(pcap) else 0
            still = still + 1 if now == size else 0
            size = now
        td.send_signal(signal.SIGINT)
        td.wait(10)
        logged = srv.sessions()
    c.eq("serve --tls-keylog: the key log is private", oct(os.stat(keys).st_mode & 0o777), "0o600")
    check_capture(c, "serve (server key log)", pcap, keys)
    check_capture(c, "serve (python's key log)", pcap, pykeys, want_decrypted=range(1, 5))
    # the causes the server logged, by client port
    rc, out, _ = analyze(["--json", "--tls-keylog", keys, pcap])
    got = {s["client"]["port"]: s["verdict"]["cause"] for s in map(json.loads, out.splitlines())
           if s.get("type") == "session"}
    for l in logged:
        port = int(l["client"].rsplit(":", 1)[1])
        c.eq("serve session %s: the server's cause" % port, got.get(port), l["cause"])
    tls_versions = set()
    for s in map(json.loads, out.splitlines()):
        if s.get("type") == "session":
            tls_versions.add((s["smtp"]["tls"] or {}).get("version"))
    c.true("TLS 1.2 and 1.3 both made", {0x0303, 0x0304} <= tls_versions, tls_versions)


with tempfile.TemporaryDirectory() as d:
    made_captures(c, d)

# a gap inside TLS: the client's frame carrying RCPT is removed. Decryption of
# the client direction ends there ("gap"), the server's goes on; nothing of
# the client after the gap is read (no garbage), the gap is in the transcript.
if shutil.which("editcap"):
    with tempfile.TemporaryDirectory() as d:
        cap = os.path.join(src, "captures", "tls_completed")
        p = subprocess.run(["tshark", "-r", cap + ".pcap", "-o", "tls.keylog_file:" + cap + ".keys",
                            "-Y", 'smtp.req.command == "RCPT"', "-T", "fields", "-e", "frame.number"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        frames = p.stdout.decode().split()
        cut = os.path.join(d, "gap.pcap")
        subprocess.run(["editcap", cap + ".pcap", cut, frames[0]], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rc, cmds, codes, sessions, _ = ours(cut, cap + ".keys")
        c.eq("gap inside TLS: exit status", rc, 0)
        dec = sessions[0]["smtp"]["tls"]["decryption"]
        c.eq("gap inside TLS: client direction ends as gap", dec["client"], "gap")
        c.eq("gap inside TLS: server direction still decrypted", dec["server"], "decrypting")
        c.eq("gap inside TLS: the client's commands up to the gap, none after",
             cmds, ["EHLO", "STAR", "EHLO", "MAIL"])
        tr = [t["line"] for t in sessions[0]["transcript"]]
        c.true("gap inside TLS: the gap is shown", any("not captured" in t for t in tr), tr)
else:
    print("no editcap: the gap inside TLS is not checked")

ws = os.path.join(corpus, "wsnotes-smtp2525-starttls.pcapng") if corpus else ""
if ws and os.path.exists(ws):
    info = subprocess.run(["capinfos", ws], stdout=subprocess.PIPE, check=True).stdout.decode()
    m = re.search(r"(CLIENT_RANDOM [0-9A-Fa-f]{64} [0-9A-Fa-f]{96})", info)
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "keys.log")
        with open(keys, "w") as f:
            f.write(m.group(1) + "\n")
        check_capture(c, "wsnotes", ws, keys)
        rc, o_cmds, o_codes, sessions, _ = ours(ws, keys)
        c.true("wsnotes: the 421 inside TLS is read", "421" in o_codes, o_codes)
else:
    print("wsnotes-smtp2525-starttls.pcapng not in the corpus: that part is not run")
c.done()
