#!/usr/bin/env python3
"""End-to-end: every SMTP session of the public corpus gets the verdict its
MANIFEST reading gives (../shared/corpus/MANIFEST.md, last column).

Each expectation is keyed by capture file and client port. A field given as a
set accepts any of its members: used only where the MANIFEST's reading fits
more than one contract name (noted beside it). The JSON output must parse line
by line, the summary must add up, and a damaged file must end with exit 1 and
still report the session read before the damage.
"""
import json
import os
import subprocess
import sys

BIN = os.environ.get("SMTPSLEUTH")
CORPUS = os.environ.get("SLEUTH_CORPUS", os.path.join(os.path.dirname(__file__), "../../../shared/corpus"))

ANY = None

# file -> {client_port: expectation}
EXPECT = {
    "arkime-smtp-data-250.pcap": {
        3293: dict(cause="idle_timeout", closed_by="server", close="fin", reply=421),
    },
    "arkime-smtp-data-521.pcap": {
        # 521 5.2.1 at end of data ("MUST COMPLETE IMAGE PUZZLE ... spam.html"),
        # then the server's FIN: the message refused after its data.
        56558: dict(cause="content_rejected", closed_by="server", reply=521, phase="data"),
    },
    "arkime-smtp-decrypted.pcap": {
        49475: dict(cause="completed", closed_by="server", phase="quit"),
        28120: dict(cause="completed", closed_by="server", phase="quit"),
        28134: dict(cause="completed", closed_by="server", phase="quit"),
        41347: dict(cause="completed", closed_by="server", phase="quit"),
    },
    "arkime-smtp-rcpt-553.pcap": {
        # 553 5.7.1 "Sender address rejected: not logged in": Postfix's
        # reject_unauth_sender_login_mismatch, the sender belongs to a login.
        48012: dict(cause="auth_required", closed_by="client", close="fin", phase="rcpt", reply=553),
    },
    "arkime-smtp-subject-windows.pcap": {
        40531: dict(cause="completed", closed_by="client", close="fin"),
    },
    "arkime-socks5-smtp-503.pcap": {
        53709: dict(cause="auth_failed", closed_by="client", close="rst", phase="auth", reply=503),
    },
    "bruteshark-smtp-auth-cram-md5.pcap": {
        38899: dict(cause="client_abort", closed_by="client", close="rst", phase={"auth", "mail"}),
    },
    "chrissanders-mail-relay-two-hops.pcapng": {
        49313: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
        56694: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "ndpi-emotet.pcap": {
        57309: dict(cause="capture_incomplete", closed_by="nobody", close="none", phase="data"),
    },
    "ndpi-smtp-starttls.pcap": {
        57406: dict(cause="encrypted", closed_by="server", close="fin", phase="tls"),
        7562: dict(cause="encrypted", closed_by="client", close="fin", phase="tls"),
    },
    "ndpi-smtp.pcap": {
        2127: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "ndpi-smtps.pcapng": {
        # TLS ClientHello answered by a plaintext banner; the capture ends there.
        37682: dict(cause={"tls_failed", "capture_incomplete"}, closed_by="nobody", close="none"),
    },
    "packetlife-ipv6-smtp.pcapng": {
        63943: dict(cause="capture_incomplete", closed_by="nobody", close="none"),
    },
    "suricata-smtp-bdat-bad-tail-next-mail.pcap": {
        47968: dict(cause="too_many_errors", closed_by="server", close="fin", phase="bdat", reply=521),
    },
    "suricata-smtp-data-rejected.pcap": {
        # 554 5.7.1 "message contains virus" at end of data; the client left.
        49898: dict(cause="content_rejected", closed_by="client", close="fin", phase="data", reply=554),
    },
    "suricata-smtp-errors.pcap": {
        # s0: binary bytes before the banner, five 500s; the client gave up.
        49274: dict(cause="client_abort", closed_by="client", close="fin"),
        # s1: end-of-data answered by a code-less "4.7.0 ... deferred due to user
        # complaints" (a reputation deferral) sent with the server's FIN.
        49448: dict(cause={"ip_filtered", "rate_limited"}, closed_by="server", close="fin", phase="data"),
        # s2: 472 (non-standard) "<sender> DNS A-record is empty" to MAIL,
        # then 501s; the client gave up: the sender's domain refused.
        49740: dict(cause="sender_rejected", closed_by="client", close="fin"),
        # s3: TLS ClientHello to a plaintext server on 465.
        50649: dict(cause="tls_failed", closed_by="client", close="fin"),
    },
    "suricata-smtp-large-exchange.pcap": {
        30709: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "suricata-smtp-long-command.pcap": {
        59096: dict(cause="client_abort", closed_by="client", close="fin", phase="auth"),
    },
    "suricata-smtp-out-of-order.pcap": {
        44526: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "suricata-smtp-pipelining-loopback.pcap": {
        50287: dict(cause="completed", closed_by="client", close="fin"),
    },
    "suricata-smtp-quit.pcap": {
        58121: dict(cause="ip_filtered", closed_by="server", close="fin", phase={"connect", "greeting"}),
    },
    "suricata-smtp-rfc2231.pcap": {
        44890: dict(cause="completed", closed_by="client", close="fin", phase="quit"),
    },
    "suricata-smtp-rset-bdat-loopback.pcap": {
        50062: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "suricata-smtp-startssl.pcap": {
        34634: dict(cause="encrypted", closed_by="server", close="fin", phase="tls"),
    },
    "suricata-smtp-syn-only.pcap": {
        38212: dict(cause="unanswered", closed_by="nobody", close="none", phase="connect"),
    },
    "suricata-smtp-tls-protodetect.pcap": {
        62353: dict(cause="tls_failed", closed_by="client", close="rst"),
    },
    "suricata-smtp-yahoo-pipelined.pcap": {
        51906: dict(cause="completed", closed_by="client", close="fin", phase="quit"),
    },
    "wsnotes-smtp2525-starttls.pcapng": {
        58961: dict(cause="encrypted", closed_by="client", close="fin", phase="tls"),
    },
    "zeek-http-connect-with-smtp.pcap": {
        3378: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "zeek-smtp-attachment-msg.pcap": {
        56660: dict(cause="capture_incomplete", closed_by="client"),
    },
    "zeek-smtp-bdat-cmd-invalid.pcapng": {
        33472: dict(cause="too_many_errors", closed_by="server", close="fin", phase="bdat", reply=521),
        52364: dict(cause="too_many_errors", closed_by="server", close="fin", phase="bdat", reply=521),
        46862: dict(cause="too_many_errors", closed_by="server", close="fin", phase="bdat", reply=521),
    },
    "zeek-smtp-bdat-gap.pcap": {
        12345: dict(cause="completed", closed_by="client", close="fin", phase="quit"),
    },
    "zeek-smtp-bdat-pipeline-8bitmime.pcap": {
        56074: dict(cause="completed", closed_by="client", close="fin", phase="quit"),
    },
    "zeek-smtp-mail-transactions-invalid.pcap": {
        44478: dict(cause="completed", closed_by="server", close="fin", phase="quit"),
    },
    "zeek-smtp-multi-addr.pcap": {
        35119: dict(cause="idle_timeout", closed_by="server", close="fin", reply=451),
    },
    "zeek-smtp-one-side-only.pcap": {
        57722: dict(cause="capture_incomplete", closed_by="client"),
    },
    "zeek-smtp-starttls.pcap": {
        54170: dict(cause="encrypted", closed_by="server", close="fin", phase="tls"),
    },
    "zeek-smtp.pcap": {
        1470: dict(cause="completed", closed_by="client", close="fin", phase="quit"),
        49648: dict(cause="capture_incomplete", closed_by="nobody", close="none"),
    },
    "zeek-tcp-truncated-header.pcap": {
        # Headers only: the dialog cannot be read; the closes can.
        60827: dict(cause={"capture_incomplete", "completed"}, closed_by="server", close="fin"),
    },
}

# Damaged files: exit status 1, an error in the summary, sessions still reported.
DAMAGED = {
    "suricata-smtp-to-comma-corrupt.pcap": {
        49898: dict(cause="capture_incomplete", closed_by="nobody", close="none", phase="data"),
    },
}


def run(path):
    p = subprocess.run([BIN, "analyze", "--json", path], capture_output=True, timeout=120)
    sessions, summary = [], None
    for i, line in enumerate(p.stdout.decode("utf-8").splitlines()):
        obj = json.loads(line)  # every line must be valid JSON
        if obj["type"] == "session":
            sessions.append(obj)
        elif obj["type"] == "summary":
            assert summary is None, "two summaries"
            summary = obj
    assert summary is not None, "no summary object"
    return p.returncode, p.stderr.decode("utf-8", "replace"), sessions, summary


def field(s, name):
    v = s["verdict"]
    if name == "reply":
        r = v.get("reply")
        return r["code"] if r else None
    return v[name]


def check_file(name, expect, want_rc):
    path = os.path.join(CORPUS, name)
    rc, err, sessions, summary = run(path)
    problems = []
    if rc != want_rc:
        problems.append(f"exit status {rc}, want {want_rc} ({err.strip()[:200]})")
    by_port = {}
    for s in sessions:
        by_port.setdefault(s["client"]["port"], []).append(s)
    for port, exp in expect.items():
        got = by_port.get(port)
        if not got:
            problems.append(f"client port {port}: no session reported (have {sorted(by_port)})")
            continue
        s = got[0]
        for k, want in exp.items():
            have = field(s, k)
            ok = have in want if isinstance(want, set) else have == want
            if not ok:
                problems.append(f"client port {port}: {k} = {have!r}, want {want!r} "
                                f"[{s['verdict']['cause']}: {s['verdict']['explanation'][:160]}]")
        ev = s["verdict"].get("evidence", [])
        if not ev:
            problems.append(f"client port {port}: verdict has no evidence")
    extra = set(by_port) - set(expect)
    if extra:
        problems.append(f"sessions not in the MANIFEST: client ports {sorted(extra)}")
    # The accounting adds up.
    dropped = sum(summary.get("flows_dropped", {}).values())
    if summary["flows"] != summary["smtp_sessions"] + summary["other_flows"] + dropped:
        problems.append(f"summary does not add up: {summary}")
    if summary["smtp_sessions"] != len(sessions):
        problems.append(f"summary smtp_sessions {summary['smtp_sessions']} != {len(sessions)} reported")
    if want_rc == 1 and not summary.get("error"):
        problems.append("damaged file but no error in the summary")
    return problems


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("SMTPSLEUTH not set; skipped")
        return 77
    if not os.path.isdir(CORPUS):
        print(f"corpus {CORPUS} absent; skipped")
        return 77
    failed = passed = 0
    for table, rc in ((EXPECT, 0), (DAMAGED, 1)):
        for name, expect in sorted(table.items()):
            if not os.path.exists(os.path.join(CORPUS, name)):
                print(f"SKIP {name}: absent")
                continue
            problems = check_file(name, expect, rc)
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
