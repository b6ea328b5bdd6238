#!/usr/bin/env python3
"""The option table (analyzer/options.c), `--help` and the man page agree.

- `smtpsleuth CMD --help` prints on stdout and exits 0 for every command;
  its option lines come from the table.
- docs/smtpsleuth.1 defines (in its OPTIONS sections, one .TP/.TQ entry per
  option) exactly the options `--help` lists, command by command.
- serve's options in the table are all accepted by the server's own parser
  (none is "unknown option").
- usage errors are one line on stderr naming the problem, exit 2.
"""
import os
import re
import subprocess
import sys

BIN = os.environ.get("SMTPSLEUTH")
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
COMMANDS = ["analyze", "live", "serve", "reproduce"]


def help_options(cmd):
    p = subprocess.run([BIN, cmd, "--help"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0 or not p.stdout.startswith("usage:") or p.stderr:
        raise SystemExit(f"FAIL {cmd} --help: exit {p.returncode}, stdout {p.stdout[:60]!r}, stderr {p.stderr[:60]!r}")
    opts = set()
    for line in p.stdout.splitlines():
        m = re.match(r"^  (?:-([A-Za-z0-9]))?(?:, )?\s*(?:--([a-z0-9-]+))?", line)
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                opts.add("-" + m.group(1))
            if m.group(2):
                opts.add("--" + m.group(2))
    return opts


def man_options():
    """command -> options defined in the man page's OPTIONS sections."""
    text = open(os.path.join(SRC, "docs", "smtpsleuth.1")).read().split("\n")
    per = {c: set() for c in COMMANDS}
    section = None
    for i, line in enumerate(text):
        if line.startswith(".SH"):
            title = line[3:].strip().strip('"').upper()
            section = None
            if title.startswith("OPTIONS FOR"):
                words = title[len("OPTIONS FOR"):].replace(",", " ").split()
                section = [c for c in COMMANDS if c.upper() in words]
                if "ALL" in words:
                    section = COMMANDS[:]
            continue
        if section is None or i == 0 or not text[i - 1].startswith((".TP", ".TQ")):
            continue
        line = line.replace("\\-", "-")
        found = set(re.findall(r"(?<![-\w])(--[a-z0-9][a-z0-9-]*|-[A-Za-z0-9])(?![\w-])", line))
        for c in section:
            per[c] |= found
    return per


def main():
    if not BIN or not os.path.exists(BIN):
        print("SMTPSLEUTH not set or missing: skip")
        return 77
    fails = []
    man = man_options()
    for cmd in COMMANDS:
        h = help_options(cmd)
        missing, extra = sorted(h - man[cmd]), sorted(man[cmd] - h)
        if missing or extra:
            fails.append(f"{cmd}: in --help but not the man page {missing}; in the man page but not --help {extra}")
        else:
            print(f"ok   {cmd}: {len(h)} options, man page and --help agree")
    # serve's rows are options the server's parser knows
    for opt in sorted(o for o in help_options("serve") if o.startswith("--") and o not in ("--help", "--version")):
        p = subprocess.run([BIN, "serve", opt, "x", "EXTRA-ARG"], capture_output=True, text=True, timeout=30)
        if "unknown option" in p.stderr or p.returncode == 0:
            fails.append(f"serve {opt}: {p.stderr.strip()[:120]} (exit {p.returncode})")
    p = subprocess.run([BIN, "serve", "--no-such-option"], capture_output=True, text=True, timeout=30)
    if "unknown option" not in p.stderr:
        fails.append("serve does not report an unknown option")
    # concise usage errors
    cases = [
        (["reproduce", "completed"], "missing -w OUT.pcap"),
        (["reproduce", "nonsense", "-w", "/nonexistent/x.pcap"], "unknown cause 'nonsense' (one of: completed,"),
        (["analyze", "--cause", "nope", "x.pcap"], "unknown cause 'nope' (valid: completed,"),
        (["analyze"], "no capture file given"),
        (["analyze", "--bogus", "x.pcap"], "unknown option --bogus"),
        (["live", "-i"], "-i needs a value"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ]
    for args, want in cases:
        p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().splitlines()
        if p.returncode != 2 or len(lines) != 1 or want not in lines[0] or "--help" not in lines[0]:
            fails.append(f"{' '.join(args)}: exit {p.returncode}, stderr {p.stderr.strip()[:200]!r}")
        else:
            print(f"ok   {' '.join(args)}: {lines[0][:100]}")
    # --cause is case-insensitive; -V
    p = subprocess.run([BIN, "analyze", "--cause", "Size_Limit,COMPLETED", "-q", "/dev/null"],
                       capture_output=True, text=True, timeout=30)
    if "unknown cause" in p.stderr:
        fails.append("--cause is case-sensitive")
    for args in (["-V"], ["--version"], ["analyze", "-V"], ["serve", "--version"]):
        p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=30)
        if p.returncode != 0 or not p.stdout.startswith("smtpsleuth "):
            fails.append(f"{' '.join(args)}: {p.returncode} {p.stdout!r}")
    for f in fails:
        print("FAIL", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
