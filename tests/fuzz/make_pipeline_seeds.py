#!/usr/bin/env python3
"""Writes seed captures for fuzz_pipeline: small SMTP dialogs, two of them
authenticating with the planted password of tests/fuzz/fuzz_check.h (AUTH
LOGIN, AUTH PLAIN, and one capture that starts after the server's 334
prompt), so the target's no-secret check has something to guard. The
corpus captures are added by tests/fuzz/run.sh. Run from the source tree:
python3 tests/fuzz/make_pipeline_seeds.py"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from html_pcap import Capture  # noqa: E402

OUT = os.path.join(HERE, "seeds", "fuzz_pipeline")
B64 = "RnotczNjcmV0LXB3"                       # base64("Fz-s3cret-pw")
PLAIN = "AGZ1enplcgBGei1zM2NyZXQtcHc="         # base64("\0fuzzer\0Fz-s3cret-pw")

DIALOGS = {
    "auth-login": [("S", "220 mx.example.test ESMTP\r\n"), ("C", "EHLO c.example.test\r\n"),
                   ("S", "250-mx.example.test\r\n250 AUTH LOGIN PLAIN\r\n"), ("C", "AUTH LOGIN\r\n"),
                   ("S", "334 VXNlcm5hbWU6\r\n"), ("C", "ZnV6emVy\r\n"), ("S", "334 UGFzc3dvcmQ6\r\n"),
                   ("C", B64 + "\r\n"), ("S", "235 2.7.0 Authentication successful\r\n"),
                   ("C", "QUIT\r\n"), ("S", "221 2.0.0 Bye\r\n")],
    "auth-plain": [("S", "220 mx.example.test ESMTP\r\n"), ("C", "EHLO c.example.test\r\n"),
                   ("S", "250-mx.example.test\r\n250 AUTH PLAIN\r\n"), ("C", "AUTH PLAIN " + PLAIN + "\r\n"),
                   ("S", "535 5.7.8 Authentication credentials invalid\r\n"), ("C", "QUIT\r\n"),
                   ("S", "221 2.0.0 Bye\r\n")],
    "mail": [("S", "220 mx.example.test ESMTP\r\n"), ("C", "EHLO c.example.test\r\n"),
             ("S", "250-mx.example.test\r\n250-SIZE 1000\r\n250 PIPELINING\r\n"),
             ("C", "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"),
             ("S", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
             ("C", "Subject: hi\r\n\r\nbody\r\n.\r\n"), ("S", "250 2.0.0 Ok: queued\r\n"),
             ("C", "QUIT\r\n"), ("S", "221 2.0.0 Bye\r\n")],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, script in DIALOGS.items():
        c = Capture()
        c.session(1, script)
        c.write(os.path.join(OUT, name + ".pcap"))
    # a capture that starts right after the 334 password prompt (issue 13, item 4)
    c = Capture()
    c.session(2, [("C", B64 + "\r\n"), ("S", "235 2.7.0 Authentication successful\r\n"), ("C", "QUIT\r\n"),
                  ("S", "221 2.0.0 Bye\r\n")])
    c.frames = c.frames[3:]         # no handshake: mid-stream
    c.write(os.path.join(OUT, "auth-midstream.pcap"))


if __name__ == "__main__":
    main()
