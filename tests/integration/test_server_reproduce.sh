#!/usr/bin/env bash
# `reproduce` on its own: each capture holds the scenario's decisive bytes and
# close (read back with tcpdump, an independent reader), the log line states
# the cause, and capturing without permission fails with a clear message.
set -u
if [ -n "${SMTPSLEUTH:-}" ] && [ -x "$SMTPSLEUTH" ]; then BIN=$SMTPSLEUTH
else BIN=${SLEUTH_BUILD_DIR:-build}/sleuth_serve_dev; fi
[ -x "$BIN" ] || { echo "no binary"; exit 77; }
command -v tcpdump >/dev/null || { echo "tcpdump missing"; exit 77; }
if [ "$(id -u)" != 0 ]; then echo "not root: cannot capture"; exit 77; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# cause | extra args | text that must appear in the packets | RST expected (1/0)
while IFS='|' read -r cause extra text rst; do
  [ -z "$cause" ] && continue
  f="$TMP/$cause$(echo "$extra" | tr -d ' -').pcap"
  start=$(date +%s)
  # shellcheck disable=SC2086
  out=$(timeout 30 "$BIN" reproduce "$cause" $extra -w "$f")
  rc=$?
  check "$cause $extra: exit 0" '[ $rc = 0 ]'
  check "$cause $extra: bounded in time" '[ $(( $(date +%s) - start )) -le 8 ]'
  check "$cause $extra: log says cause=$cause" 'grep -q "cause=$cause " <<<"$out"'
  dump=$(tcpdump -nn -A -r "$f" 2>/dev/null)
  if [ -n "$text" ]; then
    check "$cause $extra: capture holds '$text'" 'grep -qF "$text" <<<"$dump"'
  fi
  nrst=$(tcpdump -nn -r "$f" 2>/dev/null | grep -c 'Flags \[R')
  if [ "$rst" = 1 ]; then check "$cause $extra: RST captured" '[ $nrst -ge 1 ]'
  else check "$cause $extra: no RST" '[ $nrst = 0 ]'; fi
  check "$cause $extra: SYN captured" 'tcpdump -nn -r "$f" 2>/dev/null | grep -q "Flags \[S\]"'
done <<'LIST'
completed||250 2.0.0 Ok: queued|0
size_limit||552 5.3.4|0
size_limit|--size-action reset||1
auth_failed||535 5.7.8|0
auth_required||530 5.7.0 Authentication required|0
ip_filtered||554 5.7.1|0
ip_filtered|--deny-action reset||1
relay_denied||Relay access denied|0
idle_timeout||421 4.4.2|0
too_many_errors||421 4.7.0|0
rate_limited||421 4.7.0|0
server_unavailable||421 4.3.2|0
tls_required||530 5.7.0 Must issue a STARTTLS command first|0
tls_failed||454 4.7.0|0
tls_failed|--tls-fail abort|220 2.0.0 Ready to start TLS|0
client_abort|--variant rst||1
connection_refused|||1
LIST

# No permission: an unprivileged user gets exit 1 and a clear message.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  cp "$BIN" "$TMP/bin" && chmod 755 "$TMP" "$TMP/bin"
  msg=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$TMP/bin" reproduce completed -w "$TMP/x.pcap" 2>&1)
  rc=$?
  check "unprivileged: exit 1" '[ $rc = 1 ]'
  check "unprivileged: says it is not permitted" 'grep -q "not permitted" <<<"$msg"'
fi
exit $fail
