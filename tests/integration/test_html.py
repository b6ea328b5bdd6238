#!/usr/bin/env python3
"""analyze --html: the page opened in headless Chromium (DevTools protocol over
a pipe) agrees with the capture and with --json.

A capture is written here (html_pcap.py) with sessions of known causes, one
SMTP line per frame, a 300 s silence and a hostile session that carries markup
in the greeting, EHLO, MAIL FROM, RCPT, replies and Subject. Checks:
  - the overview's counts and cause bars equal the --json summary;
  - the table holds one row per session (rows are collected while scrolling,
    since only the rows in view exist);
  - #cause=X leaves only the sessions of cause X;
  - each session's ladder has one arrow per timeline event, with the frame
    numbers --transcript --ladder prints, every SMTP line, SYN and FIN the
    capture holds at its frame and in its direction, and exactly one decisive
    arrow, on the frame of the reply that decided;
  - the hostile capture runs no script and creates no element: its strings
    are text (checked on the page as written, and again on a copy without
    the Content Security Policy, so escaping alone is proven);
  - no script error on the page;
  - analyze --pair on the two-point captures of tests/data/pair: every
    session's path panel holds the JSON's `path` facts (each cell of the
    direction table equals the JSON values it shows, the dropped and forged
    packets drawn are the JSON's, a forged RST is marked on the ladder with
    its TTL and the genuine sender's), sessions seen at one end only say so
    (a server-only session whose id equals a client-side one's is reached by
    its own key), and a client-side file named with markup stays text.
Screenshots of each part go to $SLEUTH_BUILD_DIR/html/. Exit 77 (skip) when
Chromium is absent."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import html_pcap as hp  # noqa: E402
from cdp import Browser, find_chromium  # noqa: E402

BIN = os.environ.get("SMTPSLEUTH")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)
    return cond


def build_capture(path):
    cap = hp.Capture()
    plan = [("completed", hp.completed()), ("auth_failed", hp.auth_failed()), ("completed", hp.completed("Minutes")),
            ("relay_denied", hp.relay_denied()), ("idle_timeout", hp.idle_timeout()), ("auth_failed", hp.auth_failed()),
            ("hostile", hp.hostile())]
    truth = []
    for n, (name, script) in enumerate(plan, 1):
        truth.append((name, cap.session(n, script)))
    cap.write(path)
    return truth


def ladder_text(pcap):
    """session id -> list of frame numbers, from --transcript --ladder."""
    r = subprocess.run([BIN, "analyze", "--transcript", "--ladder", "--color", "never", pcap],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode in (0, 1), "--ladder on %s: exit status %d" % (pcap, r.returncode))
    out = r.stdout
    frames, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"=== session (\d+) ", line)
        if m:
            cur = int(m.group(1))
            frames[cur] = []
            continue
        m = re.match(r"#(\d+)\s+[+-]\d+\.\d+s\s+\|", line)
        if m and cur is not None:
            frames[cur].append(int(m.group(1)))
    return frames


COLLECT_ROWS = """(async () => {
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));  // a pending hashchange has run
  const body = document.getElementById('tbody');
  const seen = new Map();
  body.scrollTop = 0;
  for (let guard = 0; guard < 100000; guard++) {
    await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    for (const tr of body.querySelectorAll('.tr[data-id]')) seen.set(tr.dataset.id, tr.dataset.cause);
    if (body.scrollTop + body.clientHeight >= body.scrollHeight - 1) break;
    body.scrollTop += body.clientHeight;
  }
  return {rows: Array.from(seen.entries()), declared: Number(body.dataset.rows)};
})()"""

LADDER = """Array.from(document.querySelectorAll('#ladder .ev')).map(g => ({
  frame: Number(g.dataset.frame), kind: g.dataset.kind, dir: g.dataset.dir,
  decisive: g.classList.contains('decisive'), close: g.classList.contains('close')}))"""

HOSTILE_PROBE = """({pwned: window.__pwned === undefined ? null : window.__pwned,
  imgs: document.querySelectorAll('img').length,
  scripts: document.querySelectorAll('script').length,
  foreign: document.querySelectorAll('#app script, #app img, #app iframe, #app [onerror]').length,
  text: document.getElementById('app').textContent})"""


def set_hash(b, h, ready):
    b.eval("location.hash = %s" % json.dumps(h))
    return check(b.wait_for(ready), "page ready after #%s" % h)


def probe_hostile(b, url, sid, label):
    b.navigate(url + "#view=sessions&q=pwned")
    b.wait_for("document.querySelectorAll('#tbody .tr[data-id]').length > 0")
    views = [("table", None)]
    for name, h, ready in (("overview", "view=overview", "document.querySelector('[data-k]')"),
                           ("ladder", "session=%d" % sid, "document.getElementById('ladder')")):
        set_hash(b, h, ready)
        views.append((name, h))
    for name, h in views:
        if h:
            set_hash(b, h, "true")
        p = b.eval(HOSTILE_PROBE)
        check(p["pwned"] is None, "%s/%s: injected code ran (window.__pwned = %r)" % (label, name, p["pwned"]))
        check(p["imgs"] == 0 and p["foreign"] == 0, "%s/%s: injected elements in the DOM: %r" % (label, name, p))
        check(p["scripts"] == 4, "%s/%s: %d script elements, expected the page's 4" % (label, name, p["scripts"]))
    set_hash(b, "session=%d" % sid, "document.getElementById('ladder')")
    text = b.eval("document.getElementById('app').textContent")
    check(hp.HOSTILE in text, "%s: the hostile EHLO is shown as text" % label)
    check("</script><script>window.__pwned=3</script>@example.org" in text, "%s: MAIL FROM shown as text" % label)
    check("Subject" not in text or hp.HOSTILE in text, "%s: subject shown" % label)


def corpus_pages(tmp):
    """Every corpus capture's page: each session's ladder drawn without a
    script error, with the frames --ladder prints."""
    corpus = os.environ.get("SLEUTH_CORPUS", "")
    files = sorted(f for f in (os.listdir(corpus) if os.path.isdir(corpus) else [])
                   if f.endswith((".pcap", ".pcapng")))
    if not files:
        print("corpus absent: its part skipped")
        return
    b = Browser()
    try:
        n = 0
        for f in files:
            path = os.path.join(corpus, f)
            page = os.path.join(tmp, "corpus.html")
            r = subprocess.run([BIN, "analyze", "-q", "--html", page, path], capture_output=True, timeout=120)
            if not check(r.returncode in (0, 1) and os.path.getsize(page) > 0, "%s: page written" % f):
                continue
            ladders = ladder_text(path)
            b.navigate("file://" + page + "#view=sessions")
            b.wait_for("document.getElementById('tbody')")
            for sid, frames in ladders.items():
                set_hash(b, "session=%d" % sid, "document.getElementById('ladder') && document.querySelector('h1').textContent === 'Session #%d'" % sid)
                got = b.eval("Array.from(document.querySelectorAll('#ladder .ev')).map(g => Number(g.dataset.frame))")
                check(got == frames, "%s session %d: ladder frames = --ladder text" % (f, sid))
                check(b.eval("document.querySelectorAll('#ladder .ev.decisive').length") == (1 if frames else 0),
                      "%s session %d: one decisive arrow" % (f, sid))
                n += 1
            check(not b.errors, "%s: no script errors: %r" % (f, b.errors))
            b.errors.clear()
        print("corpus: %d ladders in %d pages checked" % (n, len(files)))
    finally:
        b.close()


PAIR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "pair")
PAIR_HOSTILE = "x<img src=x onerror=window.__pwned=5>.pcap"
PAIR_CASES = ["rst_to_client", "rst_to_client_v6", "rst_to_server", "rst_both", "rst_late", "synack_dropped",
              "mtu_blackhole", "loss5", "idle_drop", "nat_rst_to_client", ("nat_multi", "nat_multi_server_shifted")]

PATH_PROBE = """(() => {
  const p = document.getElementById('path');
  if (!p) return null;
  return {seen: p.dataset.seenAt, text: p.textContent,
    cells: Array.from(p.querySelectorAll('td[data-dir]')).map(td => [td.dataset.dir, td.dataset.k, JSON.parse(td.dataset.v)]),
    drawn: Array.from(p.querySelectorAll('.pev')).map(g => [g.dataset.pathDir, g.dataset.path, g.dataset.file, Number(g.dataset.frame),
      Number(g.dataset.ttl), g.dataset.senderTtl === undefined ? null : g.dataset.senderTtl]),
    marked: Array.from(document.querySelectorAll('#ladder .ev[data-path]')).map(g => [g.dataset.pathDir, g.dataset.path,
      Number(g.dataset.frame), Number(g.dataset.ttl), g.dataset.senderTtl === undefined ? null : g.dataset.senderTtl,
      g.dataset.kind]),
    ladder: (document.getElementById('ladder') || {}).textContent || '',
    pwned: window.__pwned === undefined ? null : window.__pwned,
    foreign: document.querySelectorAll('#app img, #app script, #app iframe, #app [onerror]').length,
    scripts: document.querySelectorAll('script').length};
})()"""


def hp_str(v):
    return "null" if v is None else str(v)


def check_path(b, name, s, ladder_frames):
    """One session's page against its JSON object s."""
    sid = s["id"]
    p = s["path"]
    key = ("s" if p["seen_at"] == "server" else "") + str(sid)
    if not set_hash(b, "session=" + key, "document.getElementById('path') && document.querySelector('h1').textContent === 'Session #%d'" % sid):
        return
    got = b.eval(PATH_PROBE)
    what = "%s session %s" % (name, key)
    check(got["pwned"] is None and got["foreign"] == 0 and got["scripts"] == 4, "%s: no injected code or element: %r" % (what, got))
    check(got["seen"] == p["seen_at"], "%s: seen at %s (page %s)" % (what, p["seen_at"], got["seen"]))
    if p["seen_at"] != "both":
        side = p.get("client_side") or p.get("server_side")
        check("only" in got["text"] and side["file"] in got["text"], "%s: says seen at one end only, in %s" % (what, side["file"]))
        return
    n = 0
    for d, k, v in got["cells"]:
        want = [p[d][x] for x in k.split(",")]
        check(v == want, "%s: %s %s shown %r, JSON %r" % (what, d, k, v, want))
        n += 1
    check(n == 2 * 13, "%s: %d cells in the path table" % (what, n))
    want_drawn = []
    for d in ("c2s", "s2c"):
        for k in p[d]["dropped_packets"]:
            want_drawn.append([d, "dropped", k["file"], k["frame"], k["ttl"], None])
        for k in p[d]["injected_packets"]:
            want_drawn.append([d, "forged", k["file"], k["frame"], k["ttl"], hp_str(k["sender_ttl"])])
    check(sorted(map(repr, got["drawn"])) == sorted(map(repr, want_drawn)),
          "%s: the diagram's packets %r = the JSON's %r" % (what, got["drawn"], want_drawn))
    drops = p["c2s"]["dropped"] + p["s2c"]["dropped"]
    forged = p["c2s"]["injected"] + p["s2c"]["injected"]
    check(("%d dropped" % drops) in got["text"] and ("%d forged" % forged) in got["text"],
          "%s: %d dropped and %d forged said" % (what, drops, forged))
    check("joined by " + p["join"] in got["text"], "%s: joined by %s said" % (what, p["join"]))
    off = "%+.6f s" % (p["clock_offset"] + 0.0)  # -0.0 is said +0.000000
    check(off in got["text"], "%s: clock offset %s said" % (what, off))
    if p["nat"]["client_rewritten"]:
        c = p["server_side"]["client"]
        check("%s:%d" % (c["ip"], c["port"]) in got["text"], "%s: the NAT mapping to %s:%d said" % (what, c["ip"], c["port"]))
    else:
        check("none seen" in got["text"], "%s: no NAT said" % what)
    if p["server_view"]:
        check(p["server_view"]["cause"] in got["text"], "%s: the server's view %s said" % (what, p["server_view"]["cause"]))
    # On the ladder (the client-side capture): the client's dropped packets
    # and the packets forged toward the client that have an arrow there.
    frames = set(ladder_frames)
    want_marked = {(("c2s", "dropped", k["frame"])) for k in p["c2s"]["dropped_packets"] if k["frame"] in frames}
    want_marked |= {("s2c", "forged", k["frame"]) for k in p["s2c"]["injected_packets"] if k["frame"] in frames}
    check({(m[0], m[1], m[2]) for m in got["marked"]} == want_marked,
          "%s: ladder arrows marked %r, expected %r" % (what, got["marked"], sorted(want_marked)))
    more = p["c2s"]["dropped"] - len(p["c2s"]["dropped_packets"])
    if more > 0 and any(m[1] == "dropped" for m in got["marked"]):
        check("%d more dropped later, not listed" % more in got["ladder"],
              "%s: the ladder says %d more client packets were dropped than it marks" % (what, more))
    for k in p["s2c"]["injected_packets"]:
        if "RST" in k["flags"] and k["frame"] in frames:
            check(any(m[:5] == ["s2c", "forged", k["frame"], k["ttl"], hp_str(k["sender_ttl"])] and m[5] == "rst" for m in got["marked"]),
                  "%s: the forged RST at client frame %d is marked with TTL %d (server's %s)" % (what, k["frame"], k["ttl"], k["sender_ttl"]))


def pair_pages(tmp, shots):
    if not os.path.isdir(PAIR_DIR):
        print("tests/data/pair absent: the --pair part skipped")
        return
    b = Browser()
    try:
        n = 0
        for case in PAIR_CASES:
            name, server = (case, case + "_server") if isinstance(case, str) else case
            client = os.path.join(PAIR_DIR, name + "_client.pcap")
            server = os.path.join(PAIR_DIR, server + ".pcap")
            if name == "rst_to_client":
                hostile = os.path.join(tmp, PAIR_HOSTILE)
                with open(client, "rb") as i, open(hostile, "wb") as o:
                    o.write(i.read())
                client = hostile
            page = os.path.join(tmp, "pair-%s.html" % name)
            js = subprocess.run([BIN, "analyze", "--json", "--pair", client, server], capture_output=True, text=True, timeout=120)
            r = subprocess.run([BIN, "analyze", "-q", "--html", page, "--pair", client, server], capture_output=True, text=True, timeout=120)
            if not check(js.returncode in (0, 1) and r.returncode in (0, 1) and os.path.getsize(page) > 0,
                         "%s: --pair --json and --html ran (%d, %d: %s)" % (name, js.returncode, r.returncode, r.stderr)):
                continue
            raw = open(page, encoding="utf-8").read()
            block = raw.split('id="sl-sessions">', 1)[1].split("</script>", 1)[0]
            check("<" not in block and ">" not in block and "&" not in block, "%s: the data block holds no markup characters" % name)
            check(raw.count("<script") == 4, "%s: the page has its own 4 script elements" % name)
            sessions = [o for o in map(json.loads, filter(None, js.stdout.split("\n"))) if o["type"] == "session"]
            check(len(sessions) > 0, "%s: sessions reported" % name)
            ladders = ladder_text(client)
            b.navigate("file://" + page + "#view=sessions")
            b.wait_for("document.getElementById('tbody')")
            for s in sessions:
                check_path(b, name, s, ladders.get(s["id"], []) if s["path"]["seen_at"] != "server" else [])
                n += 1
            if name == "rst_to_client":
                check(PAIR_HOSTILE in b.eval("document.getElementById('app').textContent"), "the hostile file name is shown as text")
                b.screenshot(os.path.join(shots, "pair-rst.png"), full=True)
            check(not b.errors, "%s: no script errors: %r" % (name, b.errors))
            b.errors.clear()
        print("--pair: %d sessions' path panels checked" % n)
    finally:
        b.close()


def main():
    if not BIN:
        print("SMTPSLEUTH not set; skipped")
        return 77
    if not find_chromium():
        print("chromium absent; skipped")
        return 77
    build = os.environ.get("SLEUTH_BUILD_DIR") or tempfile.mkdtemp()
    shots = os.path.join(build, "html")
    os.makedirs(shots, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "html-test.pcap")
        page = os.path.join(tmp, "report.html")
        truth = build_capture(pcap)
        js = subprocess.run([BIN, "analyze", "--json", pcap], capture_output=True, text=True, timeout=60, check=True)
        objs = [json.loads(l) for l in js.stdout.split("\n") if l]
        sessions = [o for o in objs if o["type"] == "session"]
        summary = [o for o in objs if o["type"] == "summary"][0]
        r = subprocess.run([BIN, "analyze", "--html", page, "-q", pcap], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "analyze --html exit status %d: %s" % (r.returncode, r.stderr))
        check(len(sessions) == len(truth), "one session per scripted dialog (%d, %d)" % (len(sessions), len(truth)))
        by_port = {s["client"]["port"]: s for s in sessions}
        raw = open(page, encoding="utf-8").read()
        block = raw.split('id="sl-sessions">', 1)[1].split("</script>", 1)[0]
        check("<" not in block and ">" not in block and "&" not in block, "the data block holds no markup characters")
        check(raw.count("<script") == 4 and raw.count("</script") == 4, "the file has exactly its own 4 script elements")
        check("http://" not in raw.replace("http://www.w3.org/2000/svg", "") and "https://" not in raw,
              "the page refers to no network address")
        ladders = ladder_text(pcap)

        url = "file://" + page
        b = Browser()
        try:
            # Overview
            b.navigate(url + "#view=overview")
            check(b.wait_for("document.querySelector('[data-k=smtp_sessions]')"), "overview drawn")
            cards = b.eval("Object.fromEntries(Array.from(document.querySelectorAll('[data-k]')).map(e => [e.dataset.k, e.textContent]))")
            num = lambda s: int(s.replace(",", ""))
            check(num(cards["smtp_sessions"]) == summary["smtp_sessions"], "overview SMTP sessions = summary")
            check(num(cards["flows"]) == summary["flows"], "overview flows = summary")
            check(num(cards["records"]) == summary["records"], "overview packets = summary")
            bars = b.eval("Object.fromEntries(Array.from(document.querySelectorAll('#causes .bar-row')).map(e => [e.dataset.cause, Number(e.querySelector('[data-n]').dataset.n)]))")
            want = {c: n for c, n in summary["causes"].items() if n}
            check(bars == want, "cause bars %r = summary causes %r" % (bars, want))
            check(b.eval("document.querySelectorAll('#timechart rect').length") > 0, "sessions-over-time chart drawn")
            b.screenshot(os.path.join(shots, "overview.png"))

            # Table: one row per session
            set_hash(b, "view=sessions", "document.querySelectorAll('#tbody .tr[data-id]').length > 0")
            got = b.eval(COLLECT_ROWS)
            ids = sorted(int(i) for i, _ in got["rows"])
            check(ids == sorted(s["id"] for s in sessions), "table rows %r = sessions" % ids)
            check(got["declared"] == len(sessions), "table declares %d rows" % got["declared"])
            b.screenshot(os.path.join(shots, "sessions.png"))

            # Cause filter through the URL
            for cause in sorted(set(s["verdict"]["cause"] for s in sessions)):
                b.eval("location.hash = 'cause=%s'" % cause)
                b.wait_for("document.getElementById('tbody') && document.getElementById('tbody').dataset.rows !== undefined && location.hash.indexOf('%s') >= 0" % cause)
                got = b.eval(COLLECT_ROWS)
                want_ids = sorted(s["id"] for s in sessions if s["verdict"]["cause"] == cause)
                check(sorted(int(i) for i, _ in got["rows"]) == want_ids, "#cause=%s shows its %d sessions" % (cause, len(want_ids)))
                check(all(c == cause for _, c in got["rows"]), "#cause=%s shows only that cause" % cause)
                check(b.eval("document.querySelectorAll('.chip.on').length") == 1, "#cause=%s: one chip on" % cause)

            # Field filters through the URL: client:IP, code:N
            one = sessions[1]
            for q, want_ids in (("client:" + one["client"]["ip"], [x["id"] for x in sessions if x["client"]["ip"] == one["client"]["ip"]]),
                                ("code:535", [x["id"] for x in sessions if (x["verdict"]["reply"] or {}).get("code") == 535]),
                                ("code:535 enh:5.7.8 auth", [x["id"] for x in sessions if (x["verdict"]["reply"] or {}).get("code") == 535])):
                b.eval("location.hash = 'view=sessions&q=' + encodeURIComponent(%s)" % json.dumps(q))
                b.wait_for("document.getElementById('count') && document.getElementById('count').textContent.length > 0")
                got = b.eval(COLLECT_ROWS)
                check(sorted(int(i) for i, _ in got["rows"]) == sorted(want_ids) and want_ids,
                      "q=%s shows sessions %r" % (q, sorted(want_ids)))

            # Ladders
            hostile_id = None
            for n, (name, t) in enumerate(truth, 1):
                s = by_port.get(40000 + n)
                if not check(s is not None, "session of dialog %d (%s) found" % (n, name)):
                    continue
                if name == "hostile":
                    hostile_id = s["id"]
                set_hash(b, "session=%d" % s["id"], "document.getElementById('ladder') && document.querySelector('h1').textContent === 'Session #%d'" % s["id"])
                evs = b.eval(LADDER)
                frames = [e["frame"] for e in evs]
                check(frames == ladders.get(s["id"]), "session %d: ladder frames %r = --ladder text %r" % (s["id"], frames, ladders.get(s["id"])))
                check(b.eval("Number(document.getElementById('ladder').dataset.events)") == len(evs), "session %d: one arrow per event" % s["id"])
                at = {}
                for e in evs:
                    at.setdefault(e["frame"], []).append(e)
                check(any(e["kind"] == "syn" and e["dir"] == "c2s" for e in at.get(t["syn"], [])), "session %d: SYN arrow at frame %d" % (s["id"], t["syn"]))
                for f in t["fin"]:
                    check(any(e["kind"] == "fin" for e in at.get(f, [])), "session %d: FIN arrow at frame %d" % (s["id"], f))
                for who, text, f in t["lines"]:
                    d = "c2s" if who == "C" else "s2c"
                    check(any(e["dir"] == d for e in at.get(f, [])), "session %d: %s line %r has an arrow at frame %d" % (s["id"], who, text[:30], f))
                dec = [e for e in evs if e["decisive"]]
                check(len(dec) == 1, "session %d: one decisive arrow (%d)" % (s["id"], len(dec)))
                code = {"auth_failed": "535", "relay_denied": "554", "idle_timeout": "421", "hostile": "554"}.get(name)
                if code and dec:
                    f = [f for who, text, f in t["lines"] if who == "S" and text.startswith(code)][0]
                    check(dec[0]["frame"] == f, "session %d (%s): decisive arrow on frame %d (the %s), got %d" % (s["id"], name, f, code, dec[0]["frame"]))
                ev_frames = b.eval("Array.from(document.querySelectorAll('#evidence li')).map(l => Number(l.dataset.frame))")
                check(ev_frames == [e["frame"] for e in s["verdict"]["evidence"]], "session %d: evidence lines = JSON evidence" % s["id"])
                cmds = b.eval("Array.from(document.querySelectorAll('#evidence code')).map(c => c.textContent)")
                check(all(re.fullmatch(r"tshark -r \S+ -Y \"frame\.number == \d+\"", c) for c in cmds) and len(cmds) > 0,
                      "session %d: tshark commands %r" % (s["id"], cmds[:1]))
                if name == "idle_timeout":
                    check(b.eval("Array.from(document.querySelectorAll('#ladder .silence text')).map(t => t.textContent).join('|')").startswith("silence 5.0 min"),
                          "idle session: the 300 s silence is drawn and named")
                    b.screenshot(os.path.join(shots, "ladder.png"), full=True)
            check(not b.errors, "no script errors: %r" % b.errors)

            # Hostile capture: as written, and with the CSP removed
            if check(hostile_id is not None, "hostile session found"):
                probe_hostile(b, url, hostile_id, "page")
                b.screenshot(os.path.join(shots, "hostile.png"), full=True)
                bare = os.path.join(tmp, "report-nocsp.html")
                with open(bare, "w", encoding="utf-8") as f:
                    f.write(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", raw))
                check("Content-Security-Policy" not in open(bare).read(), "CSP removed from the copy")
                probe_hostile(b, "file://" + bare, hostile_id, "no-CSP copy")
            check(not b.errors, "no script errors: %r" % b.errors)
        finally:
            b.close()
        pair_pages(tmp, shots)
        corpus_pages(tmp)
    print("screenshots in", shots)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
