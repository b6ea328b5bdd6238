#!/usr/bin/env python3
"""Makes the TLS 1.3 fixtures whose client must be `openssl s_client`
(Python's ssl module can neither send a KeyUpdate nor choose its key share):

  tls13-keyupdate  implicit TLS; the client sends KeyUpdate twice (s_client's
                   "K" command: update_requested), so both directions go
                   through three key generations
  tls13-hrr        implicit TLS; the client's key share is for P-256, the
                   server accepts only X25519: HelloRetryRequest, a second
                   ClientHello, then the session

The client says "quit" in lower case: s_client takes a line starting with
"Q" as its own command to close. The server is Python's ssl over a memory
BIO on a loopback socket (127.0.0.1, a free port, 5 s timeouts); it records
every chunk it receives and sends, and writes the secrets with
keylog_filename. For tls13-hrr it runs in a child process whose OPENSSL_CONF
limits its groups (s_client does not inherit it). Output format as in
make_tlsdec_fixtures.py.
Run: python3 tests/data/make_tlsdec_sclient.py [NAME...]   (default: both)
"""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_tlsdec_fixtures import make_cert, pcap  # noqa: E402

CASES = {
    # name: (s_client options, client lines, server Groups or None)
    "tls13-keyupdate": ([], [b"EHLO client.example.test\n", b"K\n", b"NOOP\n", b"K\n", b"NOOP\n",
                             b"quit\n"], None),
    "tls13-hrr": (["-groups", "P-256:X25519"], [b"EHLO client.example.test\n", b"quit\n"], "X25519"),
}
REPLIES = {b"EHLO": b"250 mx.example.test\r\n", b"NOOP": b"250 2.0.0 Ok\r\n", b"QUIT": b"221 2.0.0 Bye\r\n"}


def one(NAME):
    sopts, script, _ = CASES[NAME]
    keys = os.path.join(HERE, "tlsdec-%s.keys" % NAME)
    if os.path.exists(keys):
        os.unlink(keys)
    with tempfile.TemporaryDirectory() as d:
        key, crt = make_cert(d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.keylog_filename = keys
        ctx.num_tickets = 0
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        env = dict(os.environ)
        env.pop("OPENSSL_CONF", None)
        cli = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3",
                                "-crlf", "-servername", "mx.example.test", *sopts],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env)
        lsock.settimeout(20)
        conn, _ = lsock.accept()
        conn.settimeout(5)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        s = ctx.wrap_bio(inc, out, server_side=True)
        chunks = []

        def flush():
            b = out.read()
            if b:
                chunks.append(("S", b))
                conn.sendall(b)

        def recv():
            b = conn.recv(65536)
            if not b:
                return False
            chunks.append(("C", b))
            inc.write(b)
            return True

        while True:
            try:
                s.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                if not recv():
                    sys.exit("client left during the handshake")
        flush()
        s.write(b"220 mx.example.test ESMTP\r\n")
        flush()
        pending = b""
        for line in script:
            cli.stdin.write(line)
            cli.stdin.flush()
            time.sleep(0.3)
            if line == b"K\n":
                continue            # the KeyUpdate is read with the next command
            while b"\r\n" not in pending:
                try:
                    got = s.read(65536)
                    if not got:
                        sys.exit("read nothing")
                    pending += got
                except ssl.SSLWantReadError:
                    flush()
                    if not recv():
                        sys.exit("client left")
            cmd, pending = pending.split(b"\r\n", 1)
            s.write(REPLIES[cmd[:4].upper()])
            flush()
        cli.stdin.close()
        try:
            while recv():
                try:
                    s.read(65536)
                except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                    pass
        except (OSError, ssl.SSLError):
            pass
        conn.close()
        cli.kill()
        cli.wait(timeout=5)
    with open(os.path.join(HERE, "tlsdec-%s.txt" % NAME), "w") as f:
        for side, b in chunks:
            f.write("%s %s\n" % (side, b.hex()))
    pcap(os.path.join(HERE, "tlsdec-%s.pcap" % NAME), chunks, 465)
    print(NAME, s.version(), s.cipher()[0], len(chunks), "chunks")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one(sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as d:
        for name in sys.argv[1:] or CASES:
            env = dict(os.environ)
            groups = CASES[name][2]
            if groups:
                conf = os.path.join(d, "openssl-%s.cnf" % name)
                with open(conf, "w") as f:
                    f.write("openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\n"
                            "system_default = sd\n[sd]\nGroups = %s\n" % groups)
                env["OPENSSL_CONF"] = conf
            subprocess.run([sys.executable, __file__, "--one", name], env=env, check=True)


if __name__ == "__main__":
    main()
