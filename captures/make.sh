#!/usr/bin/env bash
# captures/make.sh - regenerates the bundled captures, one per verdict, with
# `smtpsleuth reproduce`, and rewrites MANIFEST.md from the server's own log
# lines (the oracle: the cause the server enforced, who closed, how, in which
# phase, with which reply).
#
# usage: bash captures/make.sh BUILD/smtpsleuth [NAME...]   (needs root or CAP_NET_RAW)
# With NAMEs only those captures are remade; the other MANIFEST rows are kept.
set -euo pipefail
BIN=${1:?usage: bash captures/make.sh PATH/TO/smtpsleuth [NAME...]}
shift
ONLY=" $* "
DIR=$(cd "$(dirname "$0")" && pwd)

# name | reproduce arguments
SCENARIOS=(
  "completed|completed"
  "size_limit|size_limit"
  "size_limit_mail|size_limit --variant mail"
  "size_limit_reset|size_limit --size-action reset"
  "auth_failed|auth_failed"
  "auth_required|auth_required"
  "ip_filtered|ip_filtered"
  "ip_filtered_reset|ip_filtered --deny-action reset"
  "relay_denied|relay_denied"
  "idle_timeout|idle_timeout"
  "idle_timeout_silent|idle_timeout --idle-action close"
  "too_many_errors|too_many_errors"
  "rate_limited|rate_limited"
  "rate_limited_greylist|rate_limited --variant greylist"
  "server_unavailable|server_unavailable"
  "tls_required|tls_required"
  "tls_failed|tls_failed"
  "tls_failed_abort|tls_failed --tls-fail abort"
  "client_abort|client_abort"
  "sender_rejected|sender_rejected"
  "recipient_rejected|recipient_rejected"
  "content_rejected|content_rejected"
  "connection_refused|connection_refused"
  "unanswered|unanswered"
  "middlebox_reset|middlebox_reset"
  "network_failure|network_failure"
  "capture_incomplete|capture_incomplete"
  # inside STARTTLS: reproduce --tls writes NAME.keys (the server's TLS key
  # log) beside NAME.pcap; analyze them with --tls-keylog NAME.keys
  "tls_completed|completed --tls"
  "tls_auth_failed|auth_failed --tls"
  "tls_size_limit|size_limit --tls"
  "tls_idle_timeout|idle_timeout --tls"
)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

{
  echo "# Bundled captures"
  echo
  echo "Each file was made by \`smtpsleuth reproduce\` (regenerate: \`make captures\`, or"
  echo "\`bash captures/make.sh BUILD/smtpsleuth\` as root). The expected values are the"
  echo "bundled server's own log line for each session (NAME.log beside the capture): the"
  echo "cause the server enforced. The analyzer's verdict on the capture must match it."
  echo "connection_refused has no server: the kernel answers the SYN with RST."
  echo "unanswered, middlebox_reset, network_failure and capture_incomplete are made by"
  echo "the network: three namespaces (client, router, server; 192.0.2.0/24 and"
  echo "198.51.100.0/24) with an nftables rule on the router (lab/netfault.c); their .log"
  echo "line states the expected verdict."
  echo "The tls_* captures were played inside STARTTLS (reproduce --tls); NAME.keys beside"
  echo "NAME.pcap is the server's TLS key log: analyze them with --tls-keylog NAME.keys."
  echo
  echo "| file | reproduce | session (client port) | cause | closed_by | close | phase | reply |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$DIR/MANIFEST.md.tmp"

for s in "${SCENARIOS[@]}"; do
  name=${s%%|*}
  args=${s#*|}
  if [ "$ONLY" != "  " ] && [[ "$ONLY" != *" $name "* ]]; then
    # kept as it is: its rows from the current MANIFEST
    grep "^| $name.pcap |" "$DIR/MANIFEST.md" >>"$DIR/MANIFEST.md.tmp" || true
    continue
  fi
  # shellcheck disable=SC2086
  "$BIN" reproduce $args -w "$DIR/$name.pcap" --log "$DIR/$name.log"
  # a sorted log: session order in the file follows session ids
  sort -t= -k2 -n "$DIR/$name.log" -o "$DIR/$name.log"
  while IFS= read -r line; do
    client=$(field client "$line")
    reply=$(field reply "$line")
    enh=$(field enhanced "$line")
    [ -n "$enh" ] && [ "$enh" != "-" ] && reply="$reply $enh"
    echo "| $name.pcap | \`$args\` | ${client##*:} | $(field cause "$line") | $(field closed_by "$line") | $(field close "$line") | $(field phase "$line") | $reply |" >>"$DIR/MANIFEST.md.tmp"
  done <"$DIR/$name.log"
  echo "made $name.pcap"
done
mv "$DIR/MANIFEST.md.tmp" "$DIR/MANIFEST.md"
