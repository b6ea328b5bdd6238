#!/usr/bin/env python3
"""Benchmark (not a test): how fast an --html page opens in headless Chromium.

    html_bench.py [--smtpsleuth BIN] [--gen GEN_CAPTURE] [--sessions N] [--runs R] [--keep DIR]

Writes a capture of about N SMTP sessions with gen_capture (--mix small), runs
`smtpsleuth analyze -q --html`, opens the page R times in a fresh headless
Chromium (DevTools protocol over a pipe, tests/integration/cdp.py) at
#view=sessions and reports, from the page's own performance timeline:
  - DOMContentLoaded to first table paint: from the start of the
    DOMContentLoaded event (the page's script begins its work there) to the
    mark 'sl-table-painted', which the page sets in the first task after the
    frame that shows the first rows;
  - navigation start to first table paint (includes reading and parsing the
    file, which grows with the sessions);
  - the page's size and the JS heap after the first paint.
Binaries default to the build folder given by SLEUTH_BUILD_DIR or ./build."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cdp import Browser, find_chromium  # noqa: E402

# gen_capture's small mix: about 92 % of its flows are SMTP sessions
SMTP_SHARE = 0.919

TIMING = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = performance.getEntriesByName('sl-table-painted')[0];
  return {dcl: nav.domContentLoadedEventStart, painted: mark ? mark.startTime : null,
          rows: Number(document.getElementById('tbody').dataset.rows),
          heap: performance.memory ? performance.memory.usedJSHeapSize : null};
})()"""


def main():
    build = os.environ.get("SLEUTH_BUILD_DIR", "build")
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpsleuth", default=os.path.join(build, "smtpsleuth"))
    ap.add_argument("--gen", default=os.path.join(build, "gen_capture"))
    ap.add_argument("--sessions", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="keep the capture and the page in this folder")
    a = ap.parse_args()
    if not find_chromium():
        print("chromium absent")
        return 77
    tmp = a.keep or tempfile.mkdtemp(prefix="sleuth-html-bench-")
    os.makedirs(tmp, exist_ok=True)
    pcap, page = os.path.join(tmp, "bench.pcap"), os.path.join(tmp, "bench.html")
    flows = int(a.sessions / SMTP_SHARE) + 1
    subprocess.run([a.gen, "-o", pcap, "--mix", "small", "--sessions", str(flows), "-s", str(1 << 40)],
                   check=True, stdout=subprocess.DEVNULL)
    t = time.monotonic()
    subprocess.run([a.smtpsleuth, "analyze", "-q", "--html", page, pcap], check=True, stdout=subprocess.DEVNULL)
    print("analyze --html: %.1f s; page %.1f MB" % (time.monotonic() - t, os.path.getsize(page) / 1e6))
    dcl_to_paint, nav_to_paint = [], []
    for run in range(a.runs):
        b = Browser()
        try:
            b.navigate("file://" + page + "#view=sessions")
            if not b.wait_for("performance.getEntriesByName('sl-table-painted').length > 0", timeout=120):
                print("run %d: the table never painted" % run)
                return 1
            m = b.eval(TIMING)
        finally:
            b.close()
        dcl_to_paint.append(m["painted"] - m["dcl"])
        nav_to_paint.append(m["painted"])
        print("run %d: %d rows; DOMContentLoaded -> first table paint %.0f ms; navigation start -> paint %.0f ms; "
              "JS heap %s MB" % (run, m["rows"], dcl_to_paint[-1], nav_to_paint[-1],
                                 "%.0f" % (m["heap"] / 1e6) if m["heap"] else "?"))
    print("median: DOMContentLoaded -> first table paint %.0f ms; navigation start -> first table paint %.0f ms"
          % (statistics.median(dcl_to_paint), statistics.median(nav_to_paint)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
