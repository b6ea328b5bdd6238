#!/usr/bin/env bash
# The generated bash completion (cmake/gen-completion.sh, built as
# BUILD/smtpsleuth.bash-completion) offers every command, and for each command
# every long option its --help prints (read here with grep, independently of
# the generator's awk), the listed values of an option (serve --size-action),
# and files after an option that takes a file. Skips (77) when not built.
set -u
COMP=${SLEUTH_BUILD_DIR:-}/smtpsleuth.bash-completion
BIN=${SMTPSLEUTH:-}
if [ -z "$BIN" ] || [ ! -s "$COMP" ]; then echo "skip: no completion file in SLEUTH_BUILD_DIR"; exit 77; fi
bash -n "$COMP" || { echo "FAIL: syntax"; exit 1; }
# shellcheck disable=SC1090
source "$COMP"
fail=0
complete_words() {      # complete_words WORD... -> COMPREPLY for the last word
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _smtpsleuth
	printf '%s\n' "${COMPREPLY[@]}"
}
cmds=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')
got=$(complete_words smtpsleuth "")
for c in $cmds; do
	grep -qx "$c" <<<"$got" || { echo "FAIL: command $c not offered"; fail=1; }
done
n=0
for c in $cmds; do
	want=$("$BIN" "$c" --help 2>&1 | grep -E '^[[:space:]]+-' | grep -oE -- '--[a-z][-a-z0-9]*' | sort -u)
	got=$(complete_words smtpsleuth "$c" -- | sort -u)
	for o in $want; do
		n=$((n + 1))
		grep -qx -- "$o" <<<"$got" || { echo "FAIL: $c $o not offered"; fail=1; }
	done
done
got=$(complete_words smtpsleuth serve --size-action "" | sort | tr '\n' ' ')
[ "$got" = "close reply reset " ] || { echo "FAIL: serve --size-action offers '$got'"; fail=1; }
got=$(complete_words smtpsleuth analyze --json-format "" | sort | tr '\n' ' ')
[ "$got" = "ecs native " ] || { echo "FAIL: analyze --json-format offers '$got'"; fail=1; }
tmp=$(mktemp -d); touch "$tmp/cap.pcap"
got=$(complete_words smtpsleuth live -w "$tmp/ca")
[ "$got" = "$tmp/cap.pcap" ] || { echo "FAIL: live -w does not complete files: '$got'"; fail=1; }
rm -rf "$tmp"
[ $fail = 0 ] && echo "ok: $(wc -w <<<"$cmds") commands, $n options offered, values and files completed"
exit $fail
