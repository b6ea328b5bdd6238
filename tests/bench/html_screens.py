#!/usr/bin/env python3
"""Screenshots of an --html page's three parts, for the documentation.

    html_screens.py PAGE.html OUTDIR SESSION_ID

Writes OUTDIR/html-overview.png, html-sessions.png and html-ladder.png (the
ladder of SESSION_ID) from headless Chromium. docs/ holds the ones made from
`gen_capture -o docs.pcap --sessions 420 --mix small` and session 70."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from cdp import Browser  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    page, out, sid = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    b = Browser(width=1400, height=900)
    try:
        for name, h, ready in (("overview", "view=overview", "document.querySelector('[data-k]')"),
                               ("sessions", "view=sessions&fail=1", "document.querySelector('#tbody .tr[data-id]')"),
                               ("ladder", "session=%d" % sid, "document.getElementById('ladder')")):
            b.navigate("file://%s#%s" % (page, h))
            if not b.wait_for(ready):
                print("%s: not drawn" % name)
                return 1
            b.screenshot(os.path.join(out, "html-%s.png" % name), full=name == "ladder")
    finally:
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
