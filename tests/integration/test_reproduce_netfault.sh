#!/usr/bin/env bash
# The network causes rebuilt in network namespaces (lab/netfault.c):
# `reproduce unanswered|middlebox_reset|network_failure|capture_incomplete`
# must give a capture the analyzer diagnoses with that cause, and leave no
# namespace behind. Needs root (exit 77 otherwise), ip and nft. Bounded:
# each run under 60 s (the scenarios take 1-8 s).
set -u
BIN=${SMTPSLEUTH:-}
[ -x "$BIN" ] || { echo "SMTPSLEUTH not set; skip"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces); skip"; exit 77; }
command -v ip >/dev/null && command -v nft >/dev/null || { echo "needs ip and nft; skip"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
for cause in unanswered middlebox_reset network_failure capture_incomplete; do
  if ! timeout 60 "$BIN" reproduce "$cause" -w "$TMP/$cause.pcap" --log "$TMP/$cause.log"; then
    echo "FAIL $cause: reproduce failed"; fail=1; continue
  fi
  got=$("$BIN" analyze --json "$TMP/$cause.pcap" | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("type") == "session":
        print(o["verdict"]["cause"])')
  logged=$(sed -n 's/.* cause=\([^ ]*\).*/\1/p' "$TMP/$cause.log")
  if [ "$got" = "$cause" ] && [ "$logged" = "$cause" ]; then
    echo "ok   $cause"
  else
    echo "FAIL $cause: analyzed as '$got', logged '$logged'"; fail=1
  fi
  left=$(ip netns list | grep -c '^sleuth-' || true)
  [ "$left" = 0 ] || { echo "FAIL $cause: $left namespaces left behind"; fail=1; }
done
# A run cut short by SIGTERM cleans up too.
timeout -s TERM 1 "$BIN" reproduce network_failure -w "$TMP/cut.pcap" >/dev/null 2>&1
sleep 0.5
left=$(ip netns list | grep -c '^sleuth-' || true)
if [ "$left" = 0 ]; then echo "ok   SIGTERM mid-run leaves no namespace"; else echo "FAIL SIGTERM left $left namespaces"; fail=1; fi
exit $fail
