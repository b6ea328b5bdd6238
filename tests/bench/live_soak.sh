#!/usr/bin/env bash
# live_soak.sh - soak benchmark for `smtpsleuth live` (not a CI test).
#
# Runs `live -i lo` for N minutes while a loop of client sessions runs against
# the bundled server on loopback (a mix of delivered mail, messages over the
# size limit, client aborts and idle timeouts), samples live's
# VmRSS every few seconds, and says whether memory stayed flat: the mean of
# the last quarter of samples against the mean of the first quarter.
#
# usage: tests/bench/live_soak.sh [--minutes N] [--interval S] [--port P]
#                                 [--bin PATH] [--out DIR] [--tolerance PCT]
#   --minutes N      how long live runs (default 60)
#   --interval S     seconds between VmRSS samples (default 10)
#   --port P         server port on 127.0.0.1 (default: a free one)
#   --bin PATH       the smtpsleuth binary (default $SMTPSLEUTH, else build/smtpsleuth,
#                    the Release build of `make build`); not a sanitizer build
#   --out DIR        keep samples and logs there (default a temporary directory)
#   --tolerance PCT  last quarter may exceed the first by this much (default 10)
# Needs root (capture on lo). Exit 0 when flat, 1 when memory grew, 2 on setup errors.
set -u

MINUTES=60
INTERVAL=10
PORT=
BIN=${SMTPSLEUTH:-}
OUT=
TOL=10
while [ $# -gt 0 ]; do
	case "$1" in
	--minutes) MINUTES=$2; shift 2 ;;
	--interval) INTERVAL=$2; shift 2 ;;
	--port) PORT=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--tolerance) TOL=$2; shift 2 ;;
	-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "live_soak: unknown option $1" >&2; exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "$BIN" ] || BIN=$HERE/build/smtpsleuth
[ -x "$BIN" ] || { echo "live_soak: no smtpsleuth binary at $BIN (use --bin)" >&2; exit 2; }
if ldd "$BIN" 2>/dev/null | grep -q libasan; then
	echo "live_soak: warning: $BIN is built with AddressSanitizer, whose quarantine of freed" >&2
	echo "live_soak: memory makes VmRSS grow by design; use a Release build (make build)" >&2
fi
[ "$(id -u)" = 0 ] || { echo "live_soak: capturing on lo needs root" >&2; exit 2; }
case "$MINUTES" in ''|*[!0-9.]*) echo "live_soak: --minutes needs a number" >&2; exit 2 ;; esac
[ -n "$PORT" ] || PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/sleuth-soak-XXXXXX)
mkdir -p "$OUT"

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN" serve --listen "127.0.0.1:$PORT" --max-size 20000 --idle-timeout 1 \
	>"$OUT/serve.log" 2>&1 &
SERVE=$!
PIDS+=("$SERVE")

# -q --json: only the summary is printed, so an hour of sessions does not
# fill the disk; the per-session reporting work is still done.
"$BIN" live -i lo -f "tcp port $PORT" -q --json >"$OUT/live.jsonl" 2>"$OUT/live.err" &
LIVE=$!
PIDS+=("$LIVE")

for _ in $(seq 100); do
	grep -q "capturing on" "$OUT/live.err" 2>/dev/null && break
	kill -0 "$LIVE" 2>/dev/null || { echo "live_soak: live exited: $(cat "$OUT/live.err")" >&2; exit 2; }
	sleep 0.1
done

# The client loop: one session after another until killed.
python3 - "$PORT" >"$OUT/clients.log" 2>&1 <<'EOF' &
import smtplib, socket, sys, time, itertools
port = int(sys.argv[1])
n = {"ok": 0, "big": 0, "abort": 0, "idle": 0, "error": 0}
last = time.time()
for i in itertools.count():
    kind = "idle" if i % 50 == 49 else ("ok", "ok", "big", "abort")[i % 4]
    try:
        if kind == "abort":
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.recv(512)
            s.sendall(b"EHLO soak.test\r\nMAIL FROM:<a@soak.test>\r\n")
            s.close()
        elif kind == "idle":
            # silent after the greeting until the server's idle timeout (1 s)
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.recv(512)
            while s.recv(512):
                pass
            s.close()
        if kind in ("ok", "big"):
            c = smtplib.SMTP("127.0.0.1", port, local_hostname="soak.test", timeout=5)
            size = 30000 if kind == "big" else 2000
            body = "Subject: soak %d\r\n\r\n" % i + ("y" * 98 + "\r\n") * (size // 100)
            try:
                c.sendmail("a@soak.test", ["b@soak.test"], body)
            except smtplib.SMTPException:
                pass
            try:
                c.quit()
            except Exception:
                c.close()
        n[kind] += 1
    except Exception:
        n["error"] += 1
        time.sleep(0.05)
    if time.time() - last > 60:
        print(time.strftime("%H:%M:%S"), n, flush=True)
        last = time.time()
    time.sleep(0.005)
EOF
CLIENTS=$!
PIDS+=("$CLIENTS")

echo "live_soak: $MINUTES min, sampling every ${INTERVAL}s, files in $OUT"
END=$(python3 -c "import time; print(int(time.time() + float('$MINUTES') * 60))")
: >"$OUT/rss.csv"
while [ "$(date +%s)" -lt "$END" ]; do
	kill -0 "$LIVE" 2>/dev/null || { echo "live_soak: live died: $(tail -5 "$OUT/live.err")" >&2; exit 1; }
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$LIVE/status")
	echo "$(date +%s),$rss" >>"$OUT/rss.csv"
	sleep "$INTERVAL"
done

kill "$CLIENTS" 2>/dev/null
kill -INT "$LIVE"
for _ in $(seq 100); do kill -0 "$LIVE" 2>/dev/null || break; sleep 0.1; done
wait "$LIVE"
LIVE_RC=$?
kill "$SERVE" 2>/dev/null

echo "live exit status: $LIVE_RC"
tail -1 "$OUT/live.jsonl" | python3 -c '
import json, sys
try:
    s = json.loads(sys.stdin.read())
except ValueError:
    sys.exit(0)
print("summary:", json.dumps({k: s[k] for k in s if not isinstance(s[k], (dict, list))}))'
tail -2 "$OUT/live.err"
tail -1 "$OUT/clients.log"

python3 - "$OUT/rss.csv" "$TOL" <<'EOF'
import sys
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip()]
rss = [int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit()]
tol = float(sys.argv[2])
if len(rss) < 4:
    print("too few samples (%d) to judge; run longer" % len(rss))
    sys.exit(1)
q = len(rss) // 4
first = sum(rss[:q]) / q
last = sum(rss[-q:]) / q
growth = (last - first) / first * 100
print("VmRSS samples: %d, min %d kB, max %d kB" % (len(rss), min(rss), max(rss)))
print("first quarter mean %.0f kB, last quarter mean %.0f kB, growth %+.1f%%" % (first, last, growth))
flat = growth <= tol
print("memory %s (tolerance %.0f%%)" % ("stays flat" if flat else "GREW", tol))
sys.exit(0 if flat else 1)
EOF
