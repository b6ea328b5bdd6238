"""The bundled server as a lab tool: --listen forms, contradictory options
refused, the envelope and the AUTH user tried in the session log (never the
password), 421 4.3.2 to open sessions on SIGTERM, and `serve --profile`
playing a profile's replies to a plain socket client. Loopback only, bounded
by timeouts; needs no privileges."""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SMTPSLEUTH", "")
if not BIN or not os.access(BIN, os.X_OK):
    print("SMTPSLEUTH not set; skip")
    sys.exit(77)
TMP = tempfile.mkdtemp(prefix="sleuth-lab-")
fails = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        fails.append(name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(args, port):
    """Start the server and wait for its "listening on" line: probing the port
    with connects raced a slow start on a loaded machine (refused)."""
    log = open(os.path.join(TMP, "log-%d" % port), "w+")
    p = subprocess.Popen([BIN, "serve"] + args, stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline and p.poll() is None:
        log.seek(0)
        if "listening on" in log.read():
            break
        time.sleep(0.02)
    return p, log


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                return lines
            lines.append(l.decode())
            if l[3:4] != b"-":
                return lines

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()


# --require-auth without --users
r = subprocess.run([BIN, "serve", "--require-auth"], capture_output=True, text=True, timeout=10)
check("--require-auth without --users refused", r.returncode == 2 and "--require-auth needs --users" in r.stderr, r.stderr)
for bad in ["99999", ":x", "127.0.0.1", "[::1]", "::1:25"]:
    r = subprocess.run([BIN, "serve", "--listen", bad], capture_output=True, text=True, timeout=10)
    check("--listen %s refused" % bad, r.returncode == 2, r.returncode)

# --listen PORT, :PORT, HOST:PORT, [v6]:PORT
for form in ["PORT", ":PORT", "127.0.0.1:PORT", "[::1]:PORT"]:
    port = free_port()
    p, log = start(["--listen", form.replace("PORT", str(port)), "--max-sessions", "1"], port)
    try:
        fam = socket.AF_INET6 if form.startswith("[") else socket.AF_INET
        host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
        s = socket.socket(fam)
        s.settimeout(5)
        s.connect((host, port))
        check("--listen " + form, s.recv(100).startswith(b"220"))
        s.close()
    except OSError as e:
        check("--listen " + form, False, e)
    p.kill()
    p.wait()

# envelope, AUTH user tried, SIGTERM 421 4.3.2
port = free_port()
users = os.path.join(TMP, "users")
open(users, "w").write("alice:correct-horse\n")
p, log = start(["--listen", str(port), "--users", users], port)
c = Client(port)
c.reply()
c.cmd("EHLO client.example")
c.cmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0wrong-secret").decode())
c.cmd("MAIL FROM:<a@client.example>")
c.cmd("RCPT TO:<b@example.org>")
c.cmd("DATA")
done = c.cmd("Subject: t\r\n\r\nhello\r\n.")
check("message accepted", done and done[-1].startswith("250"), done)
c.cmd("MAIL FROM:<second@client.example>")
c.cmd("RCPT TO:<c@example.org>")
p.send_signal(signal.SIGTERM)
bye = c.reply()
check("SIGTERM answers 421 4.3.2", bye and bye[0].startswith("421 4.3.2"), bye)
p.wait(timeout=10)
log.seek(0)
text = log.read()
check("shutdown logged", "shutdown: answered 421 4.3.2" in text and "note=shutdown" in text, text)
import re  # noqa: E402
check("envelope logged", "mail_from=<second@client.example>" in text and "rcpt_to=<c@example.org>" in text
      and re.search(r"rcpts=1 size=21 queue_id=S\d+M1", text), text)
check("AUTH user tried logged", "auth_tried=alice" in text, text)
check("password never logged", "wrong-secret" not in text and "correct-horse" not in text, text)

# serve --profile: the profile's greeting and replies, state kept by the server
prof = os.path.join(TMP, "p.json")
json.dump({"server": {"greeting": {"code": 220, "text": "mx.profile.test ESMTP Exim"},
                      "ehlo": {"hostname": "mx.profile.test", "extensions": ["SIZE 1000", "PIPELINING"]},
                      "replies": [{"command": "EHLO", "code": 250, "text": "mx.profile.test"},
                                  {"command": "MAIL", "code": 550, "enhanced": "5.7.1", "text": "sender blocked",
                                   "close": "fin"}]}}, open(prof, "w"))
port = free_port()
p, log = start(["--listen", str(port), "--profile", prof, "--max-size", "5000"], port)
c = Client(port)
g = c.reply()
check("profile greeting", g and g[0].startswith("220 mx.profile.test ESMTP Exim"), g)
e = c.cmd("EHLO x")
check("profile EHLO, SIZE from the option given after --profile", "250-SIZE 5000\r\n" in e, e)
m = c.cmd("MAIL FROM:<a@b.example>")
check("profile reply to MAIL", m and m[0].startswith("550 5.7.1 sender blocked"), m)
check("profile close after the reply", c.f.read() == b"")
p.kill()
p.wait()
# serve --profile with the captured server's own idle reply
prof = os.path.join(TMP, "idle.json")
json.dump({"server": {"idle_timeout": 0.5, "idle_action": "reply",
                      "idle_reply": {"code": 451, "enhanced": "4.7.0", "text": "Timeout waiting for client input"}}},
          open(prof, "w"))
port = free_port()
p, log = start(["--listen", str(port), "--profile", prof], port)
c = Client(port)
c.reply()
c.cmd("EHLO x")
idle = c.reply()
check("profile idle reply in the captured words", idle and idle[0] == "451 4.7.0 Timeout waiting for client input\r\n", idle)
check("profile idle reply then close", c.f.read() == b"")
p.kill()
p.wait()
bad = os.path.join(TMP, "bad.json")
open(bad, "w").write('{"server": {"replies": [{"command": "MAIL", "code": 999}]}}')
r = subprocess.run([BIN, "serve", "--profile", bad], capture_output=True, text=True, timeout=10)
check("a bad profile is refused with its place", r.returncode != 0 and "replies[0]" in r.stderr, r.stderr)
print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
