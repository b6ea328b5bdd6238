#!/bin/sh
# run.sh - runs every libFuzzer target built in a build directory.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]   (default 60)
#
# Builds nothing: configure and build first, e.g.
#   CC=clang cmake -S . -B build-fuzz -DSLEUTH_FUZZ=ON -DSLEUTH_SANITIZE=ON
#   cmake --build build-fuzz -j2
# Each fuzz_NAME starts from tests/fuzz/seeds/fuzz_NAME/ (copied into a
# scratch corpus so the repository is not touched); targets whose name has
# "engine" or "pipeline" in it also start from the corpus captures (SLEUTH_CORPUS, default
# ../shared/corpus next to the source tree) up to 256 KB each.
# Crash inputs are left in BUILD_DIR/fuzz-artifacts/. Exits non-zero when any
# target fails. Prints a Markdown row per target (target, seconds, executions,
# executions per second, CPU seconds, executions per CPU second, the 1-minute
# load average at its start, the input size cap, coverage edges, features,
# result); with
# FUZZ_REPORT=FILE the rows are appended to FILE too (`make fuzz-long`).
# FUZZ_ONLY="fuzz_a fuzz_b" runs those targets only (to share the targets
# between runs on separate cores).
set -u
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${SLEUTH_CORPUS:-$src/../shared/corpus}
art="$build/fuzz-artifacts"
mkdir -p "$art"
status=0
found=0
for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=$(basename "$bin")
	case " ${FUZZ_ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	found=1
	work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
	if [ -d "$src/tests/fuzz/seeds/$name" ]; then
		cp "$src/tests/fuzz/seeds/$name"/* "$work"/ 2>/dev/null
	fi
	case $name in
	*engine*|*pipeline*)
		if [ -d "$corpus" ]; then
			find "$corpus" -maxdepth 1 \( -name '*.pcap' -o -name '*.pcapng' \) -size -256k \
				-exec cp {} "$work"/ \;
		fi
		;;
	esac
	# Input size caps: the pipeline's cost grows with its input (the whole
	# analysis and every reporter run per input), and 4 KB hold a dialog of
	# a few dozen packets (the corpus captures are read as their first 4 KB);
	# the rotation target reads no more than 8 KB. The others take whole
	# corpus captures.
	case $name in
	fuzz_pipeline) maxlen=4096 ;;
	fuzz_pcap_rotate) maxlen=8192 ;;
	*) maxlen=262144 ;;
	esac
	echo "== $name: $secs s, $(ls "$work" | wc -l) seeds, inputs up to $maxlen bytes"
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
	# CPU seconds too (GNU time when there is one): on a shared machine the
	# rate per CPU second is what the target does, the rate per second what
	# it got
	timer=
	[ -x /usr/bin/time ] && timer="/usr/bin/time -f %U+%S -o $art/$name.time"
	if ! $timer "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen \
		-print_final_stats=1 -artifact_prefix="$art/$name-" "$work" >"$art/$name.log" 2>&1; then
		echo "FAIL $name (see $art/$name.log)"
		tail -40 "$art/$name.log"
		status=1
		res=FAILED
	else
		grep -E '^stat::number_of_executed_units|^Done' "$art/$name.log" | head -2
		res=ok
	fi
	# one Markdown row per target for docs/fuzzing.md (FUZZ_REPORT=FILE appends them)
	execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$art/$name.log")
	rate=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$art/$name.log")
	cov=$(grep -E '(DONE|pulse|NEW|REDUCE) +cov:' "$art/$name.log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/')
	cpu=$( [ -n "$timer" ] && tail -1 "$art/$name.time" | awk -F+ '{printf "%.0f", $1 + $2}')
	percpu=$( [ -n "$cpu" ] && [ "$cpu" -gt 0 ] 2>/dev/null && echo $(( ${execs:-0} / cpu )))
	row="| $name | $secs | ${execs:-?} | ${rate:-?} | ${cpu:-?} | ${percpu:-?} | ${load:-?} | $maxlen | ${cov% *} | ${cov#* } | ${res:-FAILED} |"
	echo "$row"
	[ -n "${FUZZ_REPORT:-}" ] && echo "$row" >> "$FUZZ_REPORT"
	res=
	rm -rf "$work"
done
if [ $found = 0 ]; then
	echo "no fuzz_* binaries in $build" >&2
	exit 2
fi
exit $status
