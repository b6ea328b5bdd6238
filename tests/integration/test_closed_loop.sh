#!/usr/bin/env bash
# Closed loop: for every cause, `smtpsleuth reproduce` makes a capture and the
# server's log line; `smtpsleuth analyze --json` on that capture must give each
# session the cause, closed_by and close the server logged (matched by client port).
# Skips (77) when not root (capturing needs it) or when analyze is not wired.
set -u
BIN=${SMTPSLEUTH:-}
if [ "$(id -u)" != 0 ]; then echo "not root: cannot capture on lo"; exit 77; fi
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then echo "no smtpsleuth binary"; exit 77; fi
command -v jq >/dev/null || { echo "jq missing"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Is analyze there yet? It must report the session of a plain delivery.
"$BIN" reproduce completed -w "$TMP/probe.pcap" >/dev/null 2>&1 || { echo "reproduce failed"; exit 1; }
if ! timeout 30 "$BIN" analyze --json "$TMP/probe.pcap" >"$TMP/probe.json" 2>/dev/null ||
   ! grep -q '"type" *: *"session"' "$TMP/probe.json"; then
  echo "smtpsleuth analyze not available yet"; exit 77
fi

fail=0
n=0
while IFS= read -r args; do
  [ -z "$args" ] && continue
  name=$(echo "$args" | tr ' ' '_' | tr -d '-')
  # shellcheck disable=SC2086
  if ! timeout 60 "$BIN" reproduce $args -w "$TMP/$name.pcap" --log "$TMP/$name.log" 2>"$TMP/$name.err"; then
    echo "FAIL reproduce $args: $(cat "$TMP/$name.err")"; fail=1; continue
  fi
  timeout 60 "$BIN" analyze --json "$TMP/$name.pcap" >"$TMP/$name.json" 2>"$TMP/$name.aerr" || {
    echo "FAIL analyze $args: $(cat "$TMP/$name.aerr")"; fail=1; continue; }
  while IFS= read -r line; do
    n=$((n + 1))
    want=$(sed -n 's/.* cause=\([^ ]*\).*/\1/p' <<<" $line")
    port=$(sed -n 's/.* client=[^ ]*:\([0-9]*\) .*/\1/p' <<<" $line")
    # cause, closed_by and close must agree; the phase is reported only
    want="$want $(sed -n 's/.* closed_by=\([^ ]*\).*/\1/p' <<<" $line") $(sed -n 's/.* close=\([^ ]*\).*/\1/p' <<<" $line")"
    wphase=$(sed -n 's/.* phase=\([^ ]*\).*/\1/p' <<<" $line")
    got=$(jq -r --argjson p "$port" 'select(.type=="session" and .client.port==$p) | "\(.verdict.cause) \(.verdict.closed_by) \(.verdict.close)"' "$TMP/$name.json" | head -1)
    gphase=$(jq -r --argjson p "$port" 'select(.type=="session" and .client.port==$p) | .verdict.phase' "$TMP/$name.json" | head -1)
    if [ "$got" = "$want" ]; then
      echo "ok   $args (port $port): $want"
    else
      echo "FAIL $args (port $port): server logged '$want', analyze says '${got:-nothing}'"
      fail=1
    fi
    [ "$gphase" = "$wphase" ] || echo "note $args (port $port): phase: server $wphase, analyze ${gphase:-none}"
  done <"$TMP/$name.log"
done <<'LIST'
completed
size_limit
size_limit --variant mail
size_limit --size-action reset
size_limit --size-action close
auth_failed
auth_required
ip_filtered
ip_filtered --deny-action close
ip_filtered --deny-action reset
relay_denied
idle_timeout
idle_timeout --idle-action close
too_many_errors
rate_limited
rate_limited --variant greylist
rate_limited --variant msgs
server_unavailable
tls_required
tls_failed
tls_failed --tls-fail abort
client_abort
client_abort --variant rst
sender_rejected
recipient_rejected
content_rejected
connection_refused
LIST
echo "$n sessions compared"
exit $fail
