"""reproduce --from over every capture we have: captures/, tests/data and the
public corpus (SLEUTH_CORPUS). For each SMTP session with a complete ending,
the bundled server plays the derived profile, the client script is replayed,
and the analyzer's verdict on the new capture must name the same cause.

Sessions that cannot be reproduced (TLS without keys, no close in the file)
are listed with the reason reproduce gives (exit 3): listed, not
passes. Sessions reproduced with another cause are failures, listed too.
Also: a profile edited to raise max_size turns a size_limit reproduction into
completed; a step the policy answers as captured keeps the captured words
(Sendmail's 552 5.2.3 at MAIL, not the bundled server's 5.3.4). Needs root (loopback capture); exit 77 otherwise.
Bounded: --speed 50, --max-pause 2, a per-run timeout, at most
MAX_PER_FILE sessions per file.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

BIN = os.environ.get("SMTPSLEUTH")
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
MAX_PER_FILE = 12
RUN_TIMEOUT = 60


def sessions_of(path):
    r = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, text=True, timeout=120)
    out = []
    for line in r.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "session":
            out.append((o["id"], o["verdict"]["cause"]))
    return out


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set; skip")
        return 77
    if os.geteuid() != 0:
        print("needs root to capture on loopback; skip")
        return 77
    files = sorted(glob.glob(os.path.join(SRC, "captures", "*.pcap")))
    files += sorted(glob.glob(os.path.join(SRC, "tests", "data", "**", "*.pcap*"), recursive=True))
    if CORPUS and os.path.isdir(CORPUS):
        files += sorted(glob.glob(os.path.join(CORPUS, "*.pcap*")))
    else:
        print("note: no corpus (SLEUTH_CORPUS): its captures are not tried")
    tmp = tempfile.mkdtemp(prefix="sleuth-repro-")
    ok, skipped, failed = [], [], []
    for f in files:
        sess = sessions_of(f)
        for sid, cause in sess[:MAX_PER_FILE]:
            name = "%s#%d" % (os.path.relpath(f, SRC) if f.startswith(SRC) else os.path.basename(f), sid)
            out = os.path.join(tmp, "r.pcap")
            try:
                r = subprocess.run([BIN, "reproduce", "--from", f, "--session", str(sid), "-w", out,
                                    "--speed", "50", "--max-pause", "2"],
                                   capture_output=True, text=True, timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                failed.append((name, cause, "timed out"))
                continue
            if r.returncode == 3:
                m = re.search(r"cannot be reproduced: (.*)", r.stdout)
                skipped.append((name, cause, m.group(1) if m else r.stdout.strip()))
            elif r.returncode == 0:
                ok.append(name)
            else:
                m = re.search(r"^  cause\s+(\S+)\s+(\S+)", r.stdout, re.M)
                why = ("reproduced as %s" % m.group(2)) if m else (r.stderr.strip() or r.stdout.strip())[-300:]
                failed.append((name, cause, why))
        if len(sess) > MAX_PER_FILE:
            skipped.append((os.path.basename(f), "-", "%d more sessions not tried (MAX_PER_FILE)" % (len(sess) - MAX_PER_FILE)))
    print("reproduced with the same cause: %d" % len(ok))
    print("cannot be reproduced (listed with the reason): %d" % len(skipped))
    for n, c, w in skipped:
        print("  CANNOT %s (%s): %s" % (n, c, w))
    print("reproduced with another cause: %d" % len(failed))
    for n, c, w in failed:
        print("  FAIL %s (%s): %s" % (n, c, w))

    # The edited profile: a larger SIZE limit lets the message through.
    prof = os.path.join(tmp, "size.json")
    r = subprocess.run([BIN, "reproduce", "--from", os.path.join(SRC, "captures", "size_limit.pcap"),
                        "--profile-out", prof, "-w", os.path.join(tmp, "s1.pcap"), "--speed", "50"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    edit_ok = r.returncode == 0
    doc = json.load(open(prof))
    edit_ok = edit_ok and doc["server"]["max_size"] == 2000
    doc["server"]["max_size"] = 1000000
    json.dump(doc, open(prof, "w"), indent=2)
    r = subprocess.run([BIN, "reproduce", "--profile", prof, "-w", os.path.join(tmp, "s2.pcap"), "--speed", "50"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    m = re.search(r"^  cause\s+(\S+)\s+(\S+)", r.stdout, re.M)
    edit_ok = edit_ok and r.returncode == 1 and m and m.group(1) == "size_limit" and m.group(2) == "completed"
    print("edited profile (max_size 2000 -> 1000000): %s" % ("size_limit -> completed" if edit_ok else "FAILED\n" + r.stdout + r.stderr))
    # A step the server's policy answers ("policy": true) keeps the captured
    # words when the policy gives the captured code: Sendmail's refusal of
    # MAIL ... SIZE= is replayed as its 552 5.2.3 and text, not as the bundled
    # server's own 552 5.3.4.
    out3 = os.path.join(tmp, "s3.pcap")
    r = subprocess.run([BIN, "reproduce", "--from", os.path.join(SRC, "tests", "data", "sendmail", "size_at_mail.pcap"),
                        "-w", out3, "--speed", "50"], capture_output=True, text=True, timeout=RUN_TIMEOUT)
    m = re.search(r"^  reply\s+(\d{3} \S+)\s+(\d{3} \S+)", r.stdout, re.M)
    words_ok = r.returncode == 0 and bool(m) and m.group(1) == "552 5.2.3" and m.group(2) == "552 5.2.3"
    if words_ok:
        a = subprocess.run([BIN, "analyze", "--json", out3], capture_output=True, text=True, timeout=RUN_TIMEOUT)
        replies = [json.loads(l)["verdict"]["reply"] for l in a.stdout.splitlines() if '"verdict"' in l]
        words_ok = any(rp and rp["code"] == 552 and rp["enhanced"] == "5.2.3" and
                       rp["text"] == "Message size exceeds fixed maximum message size (10240)" for rp in replies)
    print("policy step answered in the captured words (Sendmail 552 5.2.3): %s" %
          ("yes" if words_ok else "NO\n" + r.stdout + r.stderr))
    # Secrets: the AUTH line of captures/auth_failed.pcap keeps its mechanism,
    # and a placeholder stands where the credentials were.
    sec = os.path.join(tmp, "auth.json")
    subprocess.run([BIN, "reproduce", "--from", os.path.join(SRC, "captures", "auth_failed.pcap"),
                    "--profile-out", sec], capture_output=True, text=True, timeout=RUN_TIMEOUT)
    text = open(sec).read() if os.path.exists(sec) else ""
    secret_ok = "AUTH PLAIN {secret}" in text and "AGFsaWNlAHdyb25nLXBhc3N3b3Jk" not in text \
        and "wrong-password" not in text
    print("AUTH credentials replaced by a placeholder in the profile: %s" % ("yes" if secret_ok else "NO"))
    if not edit_ok or failed or not secret_ok or not words_ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
