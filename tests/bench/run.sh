#!/usr/bin/env bash
# run.sh - the benchmark behind `make bench`.
#
#   bash tests/bench/run.sh BUILD_DIR [--with-tshark] [--reps N]   (N defaults to 3)
#
# Generates three captures into BUILD_DIR/bench/ (once; again when the
# generator was rebuilt): a 500 MB bulk capture, a 50 MB capture of the same
# mix and seed, and 500k small sessions. Runs bench_engine on each (bare
# libpcap loop, engine, and the full pipeline when it is built in) and prints
# the ratios against the bars of DESIGN.md: analysis within 1.5x of the bare
# loop on bulk traffic and 8x on small sessions (issue 19), peak RSS of the
# 500 MB run within 1.2x of the 50 MB run, under 200 MB for 500k sessions.
# Then it times the commands side by side on the bulk and the 500k captures:
# `smtpsleuth analyze --json`, `ndpiReader -i FILE -q` and `tshark -r FILE
# -Y smtp`, each as its own process, with wall time, CPU time (user + sys)
# and peak RSS, as ratios to the bare loop's wall and CPU time (tshark runs
# under an 8 GB address-space cap: past it, it is reported as failed). With
# --with-tshark it also times `tshark -q -z conv,tcp` on the small-sessions
# capture. Runs tests/bench/server_bench.sh when it exists. A summary is
# also written to BUILD_DIR/bench/results.txt.
#
# Exit status: 0 when every measurement ran (bars missed are reported, not
# fatal: the numbers are for people to read), 1 when a tool failed.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--with-tshark] [--reps N]" >&2; exit 2; }
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd) || usage
shift
WITH_TSHARK=0
REPS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --with-tshark) WITH_TSHARK=1 ;;
    --reps) REPS=${2:?}; shift ;;
    *) usage ;;
  esac
  shift
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN=$BUILD/gen_capture
BENCH=$BUILD/bench_engine
OUT=$BUILD/bench
SEED=1
for t in "$GEN" "$BENCH"; do
  [ -x "$t" ] || { echo "run.sh: $t not built (cmake --build $BUILD)" >&2; exit 1; }
done
mkdir -p "$OUT"

BULK_BIG=$OUT/bulk-500M.pcap
BULK_SMALL=$OUT/bulk-50M.pcap
SMALL=$OUT/small-500k.pcap

# gen FILE ARGS...: (re)generates FILE unless FILE.stamp says it was made
# by the same generator source with the same arguments (a relink of the
# generator does not change its output, so its timestamp is not the test).
gen() {
  local f=$1; shift
  local stamp
  stamp="$(sha256sum < "$SRC/tests/bench/gen_capture.c" | cut -c1-16) --seed $SEED $*"
  if [ -s "$f" ] && [ "$(cat "$f.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "using $f ($(du -h "$f" | cut -f1))"
    return
  fi
  "$GEN" -o "$f.tmp" --seed "$SEED" "$@"
  mv "$f.tmp" "$f"
  echo "$stamp" > "$f.stamp"
}

echo "== captures"
gen "$BULK_BIG" --mix bulk -s 500M
gen "$BULK_SMALL" --mix bulk -s 50M
gen "$SMALL" --mix small --sessions 500000

# bench FILE BAR LOG REPS: one bench_engine run, its output kept in LOG.
STATUS=0
bench() {
  echo
  echo "== $(basename "$1") (bar ${2}x)"
  if ! "$BENCH" --full --reps "$4" --bar "$2" "$1" | tee "$3"; then
    STATUS=1
  fi
}
bench "$BULK_BIG" 1.5 "$OUT/bulk-500M.log" "$REPS"
# The bare loop reads 50 MB in ~15 ms, where one scheduling hiccup on a busy
# machine shows; more runs there cost little.
bench "$BULK_SMALL" 1.5 "$OUT/bulk-50M.log" $((REPS > 10 ? REPS : 10))
bench "$SMALL" 8 "$OUT/small-500k.log" "$REPS"

# tool NAME FILE LOG CMD...: one run of a command on FILE, its wall time,
# CPU time and peak RSS (from /usr/bin/time) as a line of LOG, output dropped.
# A tool that is not installed, or fails, gets a line saying so.
TOOLS_LOG=$OUT/tools.log
: > "$TOOLS_LOG"
tool() {
  local name=$1 file=$2; shift 2
  if ! command -v "$1" >/dev/null; then
    echo "$(basename "$file") $name missing" >> "$TOOLS_LOG"
    return
  fi
  local t=$OUT/tool.time rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null 2>"$OUT/tool.err" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "$(basename "$file") $name failed exit $rc" >> "$TOOLS_LOG"
    return
  fi
  echo "$(basename "$file") $name $(tail -1 "$t")" >> "$TOOLS_LOG"
}
echo
echo "== the commands side by side (wall, CPU = user + sys, peak RSS)"
for f in "$BULK_BIG" "$SMALL"; do
  # best of two for the two fast ones; tshark once (it is slow)
  for i in 1 2; do
    tool smtpsleuth "$f" "$BUILD/smtpsleuth" analyze --json "$f"
    tool ndpiReader "$f" ndpiReader -i "$f" -q
  done
  tool tshark "$f" prlimit --as=$((8 << 30)) -- tshark -r "$f" -Y smtp
done
cat "$TOOLS_LOG"

# field LOG KEY: the value of "KEY = value" in a bench log, or empty.
field() { sed -n "s/^$2 = \([0-9.]*\).*/\1/p" "$1" | head -1; }
secs() { awk -v m="$2" '$1 == m && $4 ~ /^[0-9.]+$/ { print $4; exit }' "$1"; }

{
  echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -m))"
  for f in bulk-500M bulk-50M small-500k; do
    bar=1.5; [ "$f" = small-500k ] && bar=8
    for m in engine full; do
      r=$(field "$OUT/$f.log" "ratio $m\\/bare")
      c=$(field "$OUT/$f.log" "cpu-time ratio $m\\/bare")
      if [ -n "$r" ]; then
        printf '%-11s ratio %-6s/bare = %s (bar %s; cpu-time ratio %s)\n' "$f" "$m" "$r" "$bar" "$c"
      elif grep -q "^ratio $m/bare = none" "$OUT/$f.log"; then
        printf '%-11s ratio %-6s/bare = none: killed over the memory cap\n' "$f" "$m"
      fi
    done
  done
  for m in engine full; do
    big=$(field "$OUT/bulk-500M.log" "peak_rss_kb $m")
    small=$(field "$OUT/bulk-50M.log" "peak_rss_kb $m")
    if [ -n "$big" ] && [ -n "$small" ]; then
      awk -v a="$big" -v b="$small" -v m="$m" \
        'BEGIN { printf "%-6s peak RSS 500M / 50M = %.2f (%.1f MB / %.1f MB, bar 1.2)\n", m, a / b, a / 1024, b / 1024 }'
    fi
    s=$(field "$OUT/small-500k.log" "peak_rss_kb $m")
    more=$(grep -q "^peak_rss_kb $m = .*killed" "$OUT/small-500k.log" && echo "more than " || true)
    [ -n "$s" ] && awk -v a="$s" -v m="$m" -v more="$more" \
      'BEGIN { printf "%-6s peak RSS 500k sessions = %s%.1f MB (bar 200 MB)\n", m, more, a / 1024 }'
  done
  # the commands against the bare loop of the same file (its best run)
  for f in bulk-500M small-500k; do
    bw=$(awk '$1 == "bare" && $4 ~ /^[0-9.]+$/ { print $4; exit }' "$OUT/$f.log")
    bc=$(awk '$1 == "bare" && $NF ~ /^[0-9.]+$/ { print $NF; exit }' "$OUT/$f.log")
    for name in smtpsleuth ndpiReader tshark; do
      line=$(awk -v f="$f.pcap" -v n="$name" '$1 == f && $2 == n' "$TOOLS_LOG" |
             awk 'NF == 6 { c = $4 + $5; if (!best || $3 < bw) { bw = $3; bc = c; rss = $6; best = 1 } }
                  NF != 6 { other = $0 }
                  END { if (best) print bw, bc, rss; else print "x", other }')
      case "$line" in
        x*) printf '%-11s %-10s %s\n' "$f" "$name" "${line#x }" ;;
        *) awk -v l="$line" -v bw="$bw" -v bc="$bc" -v f="$f" -v n="$name" 'BEGIN {
             split(l, a, " ");
             printf "%-11s %-10s wall %7.2f s = %6.1fx bare   cpu %7.2f s = %6.1fx bare   peak RSS %7.1f MB\n",
               f, n, a[1], a[1] / bw, a[2], a[2] / bc, a[3] / 1024 }' ;;
      esac
    done
  done
} | tee "$OUT/results.txt"

if [ "$WITH_TSHARK" = 1 ]; then
  echo
  echo "== tshark -q -z conv,tcp on $(basename "$SMALL") (for comparison)"
  if command -v tshark >/dev/null; then
    bare=$(secs "$OUT/small-500k.log" bare)
    TIMER=()
    [ -x /usr/bin/time ] && TIMER=(/usr/bin/time -f "%M" -o "$OUT/tshark.rss")
    t0=$(date +%s.%N)
    "${TIMER[@]}" tshark -r "$SMALL" -q -z conv,tcp >/dev/null 2>"$OUT/tshark.err" || STATUS=1
    t1=$(date +%s.%N)
    rss=$(tail -1 "$OUT/tshark.rss" 2>/dev/null || true)
    awk -v a="$t0" -v b="$t1" -v bare="$bare" -v rss="${rss:-0}" \
      'BEGIN { printf "tshark: %.1f s = %.1fx the bare loop, peak RSS %.0f MB\n", b - a, (b - a) / bare, rss / 1024 }' \
      | tee -a "$OUT/results.txt"
  else
    echo "tshark not installed; skipped"
  fi
fi

if [ -f "$SRC/tests/bench/server_bench.sh" ]; then
  echo
  echo "== server benchmark"
  if [ -x "$BUILD/smtpsleuth" ]; then
    # It takes the binary; exit 77 means its tools (Postfix) are missing.
    rc=0
    bash "$SRC/tests/bench/server_bench.sh" "$BUILD/smtpsleuth" || rc=$?
    if [ "$rc" = 77 ]; then
      echo "(server benchmark skipped: smtp-source/smtp-sink missing, see make bench-deps)"
    elif [ "$rc" != 0 ]; then
      STATUS=1
    fi
  else
    echo "($BUILD/smtpsleuth not built; server benchmark skipped)"
  fi
else
  echo
  echo "(tests/bench/server_bench.sh not present; server benchmark skipped)"
fi
exit $STATUS
