#!/bin/bash
# Memory-cap benchmark (issue 13): 1 M one-packet flows and a 1 M-flow SYN
# flood, each analysed under the default cap (1 GiB) and under
# --memory-cap 64M. Passes when every run exits 0, reports every flow (each
# one-packet flow carries a greeting, each SYN aims at port 25), prints a
# summary that adds up, and stays under the peak RSS bound: 1.2 GiB for the
# default cap, 80 MB for 64M. Peak RSS from /usr/bin/time -v (GNU time).
#
#   tests/bench/memcap_bench.sh [BUILD_DIR] [FLOWS]
# BUILD_DIR defaults to build (a Release build: sanitizers change memory).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
flows=${2:-1000000}
bin=$build/smtpsleuth
[ -x "$bin" ] || { echo "no $bin: build first (make build)"; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for kind in payload syn; do
	python3 "$here/gen_flood.py" "$kind" "$flows" "$tmp/$kind.pcap" || exit 2
	for cap in default 64M; do
		if [ "$cap" = default ]; then args=(); limit_kb=$((1229 * 1024)); limit="1.2 GiB"; else args=(--memory-cap "$cap"); limit_kb=$((80 * 1000)); limit="80 MB"; fi
		start=$(date +%s.%N)
		/usr/bin/time -v -o "$tmp/time" "$bin" analyze --json "${args[@]}" "$tmp/$kind.pcap" 2>"$tmp/err" |
			python3 -c '
import json, sys
n = 0; last = None
for line in sys.stdin:
    if line.startswith("{\"type\":\"session\""):
        n += 1
    else:
        last = line
s = json.loads(last)
d = s["flows_dropped"]
ok = s["flows"] == s["smtp_sessions"] + s["other_flows"] + d["evicted"] + d["untracked"]
print(n, s["flows"], s["smtp_sessions"], s["evicted"]["memory_cap"], s["evicted"]["flow_table"], int(ok))
' > "$tmp/count"
		end=$(date +%s.%N)
		rc=${PIPESTATUS[0]}
		read -r sessions nflows smtp ev_mem ev_tab adds < "$tmp/count" || { sessions=0; nflows=0; smtp=0; ev_mem=0; ev_tab=0; adds=0; }
		rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
		status=ok
		if [ "$rc" != 0 ] || [ "$sessions" != "$flows" ] || [ "$nflows" != "$flows" ] || [ "$adds" != 1 ] || [ "${rss:-0}" -ge "$limit_kb" ]; then
			status=FAILED; fail=1
		fi
		printf '%-8s cap %-8s flows %8s reported %8s evicted(memory) %8s peak RSS %7.1f MiB = %7d KB (limit %s) %6.1f s  %s\n' \
			"$kind" "$cap" "$nflows" "$sessions" "$ev_mem" "$(echo "${rss:-0} / 1024" | bc -l)" "${rss:-0}" "$limit" \
			"$(echo "$end - $start" | bc -l)" "$status"
		[ "$status" = ok ] || { echo "  exit $rc; stderr:"; head -5 "$tmp/err"; }
	done
done
exit $fail
