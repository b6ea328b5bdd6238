"""sleuth_srv.py - helpers for the bundled server's integration tests.

Starts `smtpsleuth serve` (or the server-only stand-in sleuth_serve_dev when the
analyzer binary is not built) on 127.0.0.1 with an ephemeral port, reads the
port from its startup line, and parses its session log (key=value lines).
Every wait is bounded; the server is killed at the end of each test.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77


def binary():
    b = os.environ.get("SMTPSLEUTH", "")
    if b and os.access(b, os.X_OK):
        return b
    d = os.environ.get("SLEUTH_BUILD_DIR", "build")
    dev = os.path.join(d, "sleuth_serve_dev")
    if os.access(dev, os.X_OK):
        return dev
    print("no smtpsleuth binary (SMTPSLEUTH) nor sleuth_serve_dev", file=sys.stderr)
    sys.exit(SKIP)


_KV = re.compile(r'(\w+)=("[^"]*"|\S+)')


def parse_line(line):
    return {k: v.strip('"') for k, v in _KV.findall(line)}


class Server:
    def __init__(self, *args, listen="127.0.0.1:0", env=None):
        self.tmp = tempfile.mkdtemp(prefix="sleuth-srv-")
        self.log = os.path.join(self.tmp, "server.log")
        self.errf = open(os.path.join(self.tmp, "stderr"), "w+")
        cmd = [binary(), "serve", "--listen", listen, "--log", self.log] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.errf)
        self.port = None
        self.host = "127.0.0.1"
        deadline = time.time() + 10
        while time.time() < deadline:
            self.errf.seek(0)
            m = re.search(r"listening on \[?([0-9a-f.:]+?)\]?:(\d+)\n", self.errf.read())
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            self.errf.seek(0)
            raise RuntimeError("server did not start: " + self.errf.read())

    def connect(self, timeout=5.0):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((self.host, self.port))
        return s

    def sessions(self):
        try:
            with open(self.log) as f:
                return [parse_line(l) for l in f if l.startswith("session=")]
        except FileNotFoundError:
            return []

    def wait_sessions(self, n, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.sessions()
            if len(s) >= n:
                return s
            time.sleep(0.02)
        raise AssertionError("expected %d session log lines, have %r" % (n, self.sessions()))

    def session_for(self, port, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for s in self.sessions():
                if s.get("client", "").endswith(":%d" % port):
                    return s
            time.sleep(0.02)
        raise AssertionError("no log line for client port %d: %r" % (port, self.sessions()))

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


class Conn:
    """A raw client connection with a reply reader that keeps pipelined bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.port = sock.getsockname()[1]

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self, timeout=5.0):
        """One (possibly multi-line) reply: (code, [lines]). EOFError on close."""
        self.sock.settimeout(timeout)
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise EOFError("closed with %r pending" % self.buf)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def close_kind(self, timeout=5.0):
        """After the server's last reply: 'fin' on EOF, 'rst' on reset, 'open'
        on timeout (further data is read and ignored)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return "fin"
        except ConnectionResetError:
            return "rst"
        except socket.timeout:
            return "open"

    def close(self):
        self.sock.close()


def connect(srv, timeout=5.0):
    return Conn(srv.connect(timeout))


class Checker:
    def __init__(self):
        self.failed = 0
        self.n = 0

    def eq(self, what, got, want):
        self.n += 1
        if got != want:
            self.failed += 1
            print("FAIL %s: got %r want %r" % (what, got, want))
        else:
            print("ok   %s" % what)

    def true(self, what, cond, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
            print("FAIL %s %s" % (what, detail))
        else:
            print("ok   %s" % what)

    def done(self):
        print("%d checks, %d failed" % (self.n, self.failed))
        sys.exit(1 if self.failed else 0)
