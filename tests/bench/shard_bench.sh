#!/usr/bin/env bash
# shard_bench.sh BUILD_DIR [SESSIONS] [REPS] - benchmark (not a test) of
# `analyze --shard`: on a generated capture of SESSIONS small sessions
# (default 50000), the wall time of two processes run together
# (--shard 1/2 and 2/2, piped into `smtpsleuth merge`) against one process.
# The target is a ratio of at most 0.6. Also the time of each shard run
# alone (as on two machines, one shard each) plus the merge of their stored
# outputs. Checks that the merged outputs equal the single run's. Best of
# REPS (default 3) for each.
set -euo pipefail
BUILD=${1:?usage: shard_bench.sh BUILD_DIR [SESSIONS] [REPS]}
SESSIONS=${2:-50000}
REPS=${3:-3}
BIN=$BUILD/smtpsleuth
DIR=$BUILD/bench
mkdir -p "$DIR"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
CAP=$DIR/shard-small-$SESSIONS.pcap
[ -s "$CAP" ] || "$BUILD/gen_capture" -o "$CAP" --mix small --sessions "$SESSIONS" --seed 1 >/dev/null
now() { date +%s.%N; }
# CPU seconds (user + system) of one command, from GNU time's output file
cpu() { awk '{ print $1 + $2 }' "$1"; }
T="/usr/bin/time -o"
best1=999999 best2=999999 cpu1=999999 cpu2=999999
for r in $(seq "$REPS"); do
  t0=$(now); $T "$DIR/t-one" -f '%U %S' "$BIN" analyze --json "$CAP" > "$DIR/shard-one.json"; t1=$(now)
  d=$(echo "$t1 - $t0" | bc); best1=$(echo "if ($d < $best1) $d else $best1" | bc)
  c=$(cpu "$DIR/t-one"); cpu1=$(echo "if ($c < $cpu1) $c else $cpu1" | bc)
  # the shards write into pipes that merge reads as they run
  rm -f "$DIR/fifo1" "$DIR/fifo2"; mkfifo "$DIR/fifo1" "$DIR/fifo2"
  t0=$(now)
  $T "$DIR/t-s1" -f '%U %S' "$BIN" analyze --json --shard 1/2 "$CAP" > "$DIR/fifo1" &
  p1=$!
  $T "$DIR/t-s2" -f '%U %S' "$BIN" analyze --json --shard 2/2 "$CAP" > "$DIR/fifo2" &
  p2=$!
  $T "$DIR/t-m" -f '%U %S' "$BIN" merge "$DIR/fifo1" "$DIR/fifo2" > "$DIR/shard-merged.json"
  wait $p1; wait $p2
  t1=$(now)
  d=$(echo "$t1 - $t0" | bc); best2=$(echo "if ($d < $best2) $d else $best2" | bc)
  # on two idle cores: the three processes' CPU time spread over the two
  # cores, or the slower shard if that is longer
  c=$(echo "a=$(cpu "$DIR/t-s1"); b=$(cpu "$DIR/t-s2"); m=$(cpu "$DIR/t-m"); h=(a+b+m)/2; if (a > h) h=a; if (b > h) h=b; h" | bc -l)
  cpu2=$(echo "if ($c < $cpu2) $c else $cpu2" | bc)
done
# each shard alone, as when the two run on two machines (the merge of the
# stored outputs is timed apart: it reads files then)
alone=999999
for r in $(seq "$REPS"); do
  worst=0
  for k in 1 2; do
    t0=$(now); "$BIN" analyze --json --shard $k/2 "$CAP" > "$DIR/shard-$k.json"; t1=$(now)
    d=$(echo "$t1 - $t0" | bc); worst=$(echo "if ($d > $worst) $d else $worst" | bc)
  done
  alone=$(echo "if ($worst < $alone) $worst else $alone" | bc)
done
t0=$(now); "$BIN" merge "$DIR/shard-1.json" "$DIR/shard-2.json" > "$DIR/shard-merged-files.json"; t1=$(now)
mergew=$(echo "$t1 - $t0" | bc)
cmp -s "$DIR/shard-one.json" "$DIR/shard-merged-files.json" || same_files=NO
cmp -s "$DIR/shard-one.json" "$DIR/shard-merged.json" && same=yes || same=NO
[ "${same_files:-}" = NO ] && same=NO
sessions=$(grep -c '^{"type":"session"' "$DIR/shard-one.json" || true)
printf 'shard bench: %s (%s SMTP sessions), best of %s, %s CPUs\n' "$CAP" "$sessions" "$REPS" "$(nproc)"
printf '  one process          : %.2f s\n' "$best1"
printf '  2 shards + merge     : %.2f s\n' "$best2"
printf '  ratio 2 shards / one : %.2f wall (target <= 0.6); merged output identical: %s\n' \
  "$(echo "$best2 / $best1" | bc -l)" "$same"
printf '  CPU seconds          : one %.2f; 2 shards + merge spread on 2 cores %.2f; ratio %.2f (the wall ratio on 2 idle cores)\n' \
  "$cpu1" "$cpu2" "$(echo "$cpu2 / $cpu1" | bc -l)"
printf '  each shard alone     : %.2f s (the slower, best of %s) + merge of the two outputs %.2f s: ratio %.2f (two machines)\n' \
  "$alone" "$REPS" "$mergew" "$(echo "($alone + $mergew) / $best1" | bc -l)"
printf '  load average before  : %s\n' "$LOAD0"
rm -f "$DIR/fifo1" "$DIR/fifo2" "$DIR/shard-1.json" "$DIR/shard-2.json" "$DIR/shard-merged-files.json"
[ "$same" = yes ]
