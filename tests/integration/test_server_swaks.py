"""The bundled server's policies seen by swaks, a second independent client:
exit status, the replies swaks prints (codes + enhanced codes), STARTTLS and
AUTH over TLS, and the cause in the server's log."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Server, Checker, SKIP  # noqa: E402

if not shutil.which("swaks"):
    print("swaks not installed")
    sys.exit(SKIP)

c = Checker()


def swaks(srv, *args):
    cmd = ["swaks", "-s", srv.host, "-p", str(srv.port), "--timeout", "5",
           "-f", "a@client.test", "-t", "b@example.org", "--helo", "swaks.test"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("latin-1")


def last_cause(srv):
    return srv.wait_sessions(1)[-1].get("cause")


with Server() as srv:
    rc, out = swaks(srv)
    c.eq("plain delivery exit 0", rc, 0)
    c.true("queued 250 2.0.0", "250 2.0.0 Ok: queued" in out, out)
    c.eq("cause completed", last_cause(srv), "completed")

with Server() as srv:
    rc, out = swaks(srv, "-tls")
    c.eq("STARTTLS delivery exit 0", rc, 0)
    c.true("TLS started", "TLS started" in out, out)
    log = srv.wait_sessions(1)[-1]
    c.eq("log tls=yes", log.get("tls"), "yes")
    c.eq("TLS session completed", log.get("cause"), "completed")

with Server("--max-size", "2000") as srv:
    rc, out = swaks(srv, "--body", "x" * 5000)
    c.true("oversize refused (non-zero exit)", rc != 0, rc)
    c.true("552 5.3.4 shown", "552 5.3.4" in out, out)
    c.eq("cause size_limit", last_cause(srv), "size_limit")

users = os.path.join(tempfile.mkdtemp(), "users")
with open(users, "w") as f:
    f.write("carol:pa55word\n")
with Server("--users", users, "--require-auth", "--require-tls") as srv:
    rc, out = swaks(srv, "-tls", "--auth", "PLAIN", "--auth-user", "carol", "--auth-password", "pa55word")
    c.eq("AUTH PLAIN over TLS exit 0", rc, 0)
    c.true("235 2.7.0", "235 2.7.0" in out, out)
    log = srv.wait_sessions(1)[-1]
    c.eq("log auth user", log.get("auth"), "carol")
    rc, out = swaks(srv, "-tls", "--auth", "LOGIN", "--auth-user", "carol", "--auth-password", "wrong")
    c.true("bad password: non-zero exit", rc != 0, rc)
    c.true("535 5.7.8 shown", "535 5.7.8" in out, out)
    c.eq("cause auth_failed", srv.wait_sessions(2)[-1].get("cause"), "auth_failed")
    rc, out = swaks(srv)
    c.true("no TLS: 530 5.7.0 Must issue a STARTTLS", "530 5.7.0 Must issue a STARTTLS command first" in out, out)
    c.eq("cause tls_required", srv.wait_sessions(3)[-1].get("cause"), "tls_required")
    rc, out = swaks(srv, "-tls")
    c.true("TLS without AUTH: 530 5.7.0 Authentication required", "530 5.7.0 Authentication required" in out, out)
    c.eq("cause auth_required", srv.wait_sessions(4)[-1].get("cause"), "auth_required")

with Server("--deny", "127.0.0.0/8") as srv:
    rc, out = swaks(srv)
    c.true("denied: non-zero exit", rc != 0, rc)
    c.true("554 5.7.1 banner", "554 5.7.1" in out, out)
    c.eq("cause ip_filtered", last_cause(srv), "ip_filtered")

with Server("--relay-domain", "local.test") as srv:
    rc, out = swaks(srv)
    c.true("relay: 554 5.7.1 Relay access denied", "554 5.7.1 <b@example.org>: Relay access denied" in out, out)
    c.eq("cause relay_denied", last_cause(srv), "relay_denied")

with Server("--shutdown") as srv:
    rc, out = swaks(srv)
    c.true("shutdown: 421 4.3.2", "421 4.3.2" in out, out)
    c.eq("cause server_unavailable", last_cause(srv), "server_unavailable")

with Server("--greylist") as srv:
    rc, out = swaks(srv)
    c.true("greylist: 451 4.7.1", "451 4.7.1" in out, out)
    c.eq("cause rate_limited", last_cause(srv), "rate_limited")
    rc, out = swaks(srv)
    c.eq("greylist retry (delay 0) delivered", rc, 0)

with Server("--tls-fail", "refuse") as srv:
    rc, out = swaks(srv, "-tls")
    c.true("tls refuse: 454 4.7.0", "454 4.7.0" in out, out)
    c.eq("cause tls_failed", last_cause(srv), "tls_failed")

with Server("--tls-fail", "abort") as srv:
    rc, out = swaks(srv, "-tls")
    c.true("tls abort: swaks reports TLS failure", rc != 0, rc)
    c.eq("cause tls_failed (abort)", last_cause(srv), "tls_failed")

with Server("--max-size", "1000", "--size-action", "reset") as srv:
    big = os.path.join(tempfile.mkdtemp(), "body")
    with open(big, "w") as f:
        f.write(("x" * 76 + "\n") * 3000)
    rc, out = swaks(srv, "--body", big, "--pipeline")
    c.true("reset mid-DATA: swaks fails", rc != 0, rc)
    log = srv.wait_sessions(1)[-1]
    c.eq("reset: cause size_limit", log.get("cause"), "size_limit")
    c.eq("reset: close rst", log.get("close"), "rst")
c.done()
