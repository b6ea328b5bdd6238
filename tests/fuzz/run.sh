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
# executions per second, coverage edges, features, result); with
# FUZZ_REPORT=FILE the rows are appended to FILE too (`make fuzz-long`).
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
	found=1
	name=$(basename "$bin")
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
	echo "== $name: $secs s, $(ls "$work" | wc -l) seeds"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
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
	row="| $name | $secs | ${execs:-?} | ${rate:-?} | ${cov% *} | ${cov#* } | ${res:-FAILED} |"
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
