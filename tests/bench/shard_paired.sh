#!/usr/bin/env bash
# shard_paired.sh BASE_BIN NEW_BIN CAPTURE [PAIRS] - benchmark (not a test):
# paired runs of two builds of smtpsleuth, alternated so both see the same
# load, each timing `analyze --json` in one process and `--shard 1/2` plus
# `--shard 2/2` into two FIFOs read by `merge`. Prints per run the wall
# times, the CPU seconds (user + system) of each process, and the CPU ratio:
# the shards' and the merge's CPU seconds spread over two cores (or the
# slower shard, if longer) over the single run's, which is the wall ratio on
# two idle cores. Checks the merged output equals the single run's.
set -u
BASE=${1:?usage: shard_paired.sh BASE_BIN NEW_BIN CAPTURE [PAIRS]}
NEW=${2:?}
CAP=${3:?}
PAIRS=${4:-3}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
now() { date +%s.%N; }
cpu() { awk '{ print $1 + $2 }' "$1"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$PAIRS"); do
	for name in base new; do
		B=$BASE; [ $name = new ] && B=$NEW
		l0=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(now); /usr/bin/time -o "$D/t1" -f '%U %S' "$B" analyze --json "$CAP" > "$D/one.json"; t1=$(now)
		w1=$(echo "$t1 - $t0" | bc)
		rm -f "$D/f1" "$D/f2"; mkfifo "$D/f1" "$D/f2"
		t0=$(now)
		/usr/bin/time -o "$D/ts1" -f '%U %S' "$B" analyze --json --shard 1/2 "$CAP" > "$D/f1" & p1=$!
		/usr/bin/time -o "$D/ts2" -f '%U %S' "$B" analyze --json --shard 2/2 "$CAP" > "$D/f2" & p2=$!
		/usr/bin/time -o "$D/tm" -f '%U %S' "$B" merge "$D/f1" "$D/f2" > "$D/merged.json"
		wait $p1; wait $p2; t1=$(now)
		w2=$(echo "$t1 - $t0" | bc)
		cmp -s "$D/one.json" "$D/merged.json" && same=yes || same=NO
		c1=$(cpu "$D/t1"); a=$(cpu "$D/ts1"); b=$(cpu "$D/ts2"); m=$(cpu "$D/tm")
		est=$(echo "h=($a+$b+$m)/2; if ($a > h) h=$a; if ($b > h) h=$b; h/$c1" | bc -l)
		printf '%s run %d load %s: one %.2f s wall %.2f CPU s | 2 shards + merge %.2f s wall (ratio %.2f), shards %.2f %.2f CPU s, merge %.2f | CPU ratio %.3f, same output: %s\n' \
			$name "$r" "$l0" "$w1" "$c1" "$w2" "$(echo "$w2/$w1" | bc -l)" "$a" "$b" "$m" "$est" $same
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
