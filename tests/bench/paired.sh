#!/usr/bin/env bash
# paired.sh BASE_BUILD NEW_BUILD CAPTURE [PAIRS] [MEASURES] - benchmark (not a
# test): two builds' bench_engine alternated PAIRS times (default 3) on the
# same capture, so both see the same load and the same page cache; this VM's
# neighbours change its speed by a third within an hour, so only measurements
# taken side by side compare. MEASURES: bench_engine's --only value (default
# full; `engine` for the packet engine). Prints each run's wall and CPU
# seconds and its ratio to the bare loop, then per build the best and the
# median wall time and the new build's median over the base's.
#
#   git worktree add /tmp/base HEAD~1 && cmake -S /tmp/base -B /tmp/base/b \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/base/b --target bench_engine
#   bash tests/bench/paired.sh /tmp/base/b build build/bench/bulk-500M.pcap 5
set -euo pipefail
BASE=${1:?usage: paired.sh BASE_BUILD NEW_BUILD CAPTURE [PAIRS] [MEASURE]}
NEW=${2:?usage: paired.sh BASE_BUILD NEW_BUILD CAPTURE [PAIRS] [MEASURE]}
CAP=${3:?usage: paired.sh BASE_BUILD NEW_BUILD CAPTURE [PAIRS] [MEASURE]}
PAIRS=${4:-3}
MEASURE=${5:-full}
for b in "$BASE" "$NEW"; do
	[ -x "$b/bench_engine" ] || { echo "paired.sh: $b/bench_engine not built" >&2; exit 1; }
done
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$PAIRS"); do
	for name in base new; do
		b=$BASE; [ $name = new ] && b=$NEW
		flag=--full; [ "$MEASURE" = engine ] && flag=
		# best of 2 in fresh processes; the row of the measure: name records
		# bytes seconds MB/s packets/s RSS unit ratio cpu
		line=$("$b/bench_engine" $flag --only "$MEASURE" --reps 2 "$CAP" 2>&1 | awk -v m="$MEASURE" '$1 == m')
		[ -n "$line" ] || { echo "paired.sh: $name: no '$MEASURE' row from bench_engine" >&2; exit 1; }
		set -- $line
		printf '%s run %d: %s %.3f s wall, %.3f CPU s, %sx the bare loop\n' "$name" "$r" "$MEASURE" "$4" "${10}" "$9"
		echo "$4" >> "$D/$name"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f", v[1], m }'; }
read -r bb bm <<< "$(stats "$D/base")"
read -r nb nm <<< "$(stats "$D/new")"
printf 'base: best %.3f s, median %.3f s\nnew:  best %.3f s, median %.3f s\nnew / base (medians): %.3f\n' \
	"$bb" "$bm" "$nb" "$nm" "$(echo "$nm / $bm" | bc -l)"
