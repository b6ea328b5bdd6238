#!/usr/bin/env bash
# server_bench.sh - messages per second through the bundled server on
# loopback, beside Postfix's smtp-sink, both driven by the same smtp-source
# run; prints both rates and their ratio. Not a test: numbers vary by machine.
#
# usage: bash tests/bench/server_bench.sh BUILD/smtpsleuth [MESSAGES] [SESSIONS]
# needs smtp-source and smtp-sink (Debian's postfix package: make bench-deps)
set -euo pipefail
BIN=${1:?usage: server_bench.sh PATH/TO/smtpsleuth [MESSAGES] [SESSIONS]}
MSGS=${2:-20000}
PAR=${3:-20}
SIZE=${SIZE:-1024}
PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
for t in smtp-source smtp-sink; do
  command -v $t >/dev/null || { echo "server_bench: $t not found (install postfix: make bench-deps)"; exit 77; }
done
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# -s sessions in parallel, -m messages, -l message size, one message per session
# (-N: default; use -r to reuse)
drive() { # port -> seconds
  local t0 t1
  t0=$(date +%s.%N)
  smtp-source -s "$PAR" -m "$MSGS" -l "$SIZE" -f bench@client.test -t sink@example.org "127.0.0.1:$1" >/dev/null 2>"$TMP/src.err"
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
P1=$(free_port)
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)   # smtp-sink refuses to run as root
smtp-sink "${SINK_USER[@]}" "127.0.0.1:$P1" 1000 >/dev/null 2>&1 & PIDS+=($!)
wait_port "$P1"
P2=$(free_port)
# all of smtp-source's parallel sessions come from 127.0.0.1: no per-address cap
"$BIN" serve --listen "127.0.0.1:$P2" --quiet --log /dev/null --max-conns 4096 --max-conn-per-ip 0 & PIDS+=($!)
wait_port "$P2"
# Alternate the two servers and keep each one's best of ROUNDS runs, so a
# burst of load from elsewhere on the machine does not decide the ratio.
ROUNDS=${ROUNDS:-2}
T_SINK=999999; T_OURS=999999
for _ in $(seq "$ROUNDS"); do
  T_OURS=$(best "$T_OURS" "$(drive "$P2")")
  T_SINK=$(best "$T_SINK" "$(drive "$P1")")
done

awk -v rounds="$ROUNDS" -v m="$MSGS" -v a="$T_OURS" -v b="$T_SINK" -v par="$PAR" -v size="$SIZE" 'BEGIN {
  ro = m / a; rs = m / b;
  printf "server bench: %d messages of %d bytes, %d parallel sessions (smtp-source), best of %d\n", m, size, par, rounds;
  printf "  smtpsleuth serve : %8.0f msg/s (%.2f s)\n", ro, a;
  printf "  postfix smtp-sink: %8.0f msg/s (%.2f s)\n", rs, b;
  printf "  ratio smtpsleuth/smtp-sink: %.2f\n", ro / rs;
}'
