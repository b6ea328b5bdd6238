"""The captures in which fuzz_pipeline found a password in some output
(tests/fuzz/seeds/fuzz_pipeline/auth-*.pcap, docs/fuzzing.md, "The secret
check"), run through every report the analyzer writes: the JSON, the
transcript, the ladder, the text report and the HTML page. The planted
password (fuzz_check.h: plain, base64, and inside AUTH PLAIN's base64) must
appear in none. Each capture failed on the code of its day; this keeps them
fixed for the real binary, not only inside the fuzz target."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Checker, SKIP  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH", "")
SRC = os.environ.get("SLEUTH_SOURCE_DIR", ".")
SEEDS = os.path.join(SRC, "tests", "fuzz", "seeds", "fuzz_pipeline")
# the leaks found so far, in the order they were found
FOUND = ["auth-midstream.pcap", "auth-login-gap.pcap", "auth-inside-line.pcap",
         "auth-login-mangled-prompt.pcap", "auth-334s-before-answers.pcap",
         "auth-334-after-mangled-prompt.pcap", "auth-line-answered-235.pcap",
         "auth-login-user-is-password.pcap", "auth-login-password-prompt-first.pcap",
         "auth-plain-glued-to-bytes.pcap", "auth-plain-in-server-line.pcap",
         "auth-plain-echoed-in-500.pcap", "auth-plain-line-start-lost.pcap"]
FORMS = [b"Fz-s3cret-pw", b"RnotczNjcmV0LXB3", b"AGZ1enplcgBGei1zM2NyZXQtcHc="]
MODES = [["--json"], ["--json", "--transcript"], ["--transcript"], ["--ladder"], []]

if not BIN or not os.access(BIN, os.X_OK) or not os.path.isdir(SEEDS):
    print("no smtpsleuth binary or no fuzz seeds")
    sys.exit(SKIP)

c = Checker()
tmp = tempfile.mkdtemp(prefix="sleuth-secret-")
for name in FOUND:
    path = os.path.join(SEEDS, name)
    c.true("%s present" % name, os.path.exists(path))
    if not os.path.exists(path):
        continue
    raw = open(path, "rb").read()
    c.true("%s holds the planted password" % name, any(f in raw for f in FORMS))
    html = os.path.join(tmp, "r.html")
    for mode in MODES + [["--html", html]]:
        p = subprocess.run([BIN, "analyze"] + mode + [path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        out = p.stdout + p.stderr
        if mode and mode[0] == "--html":
            out += open(html, "rb").read() if os.path.exists(html) else b""
            c.true("%s: the page was written" % name, os.path.exists(html))
        leaked = [f.decode() for f in FORMS if f in out]
        c.eq("%s %s: no password" % (name, " ".join(mode[:1]) or "text"), leaked, [])
c.done()
