#!/usr/bin/env bash
# gen-completion.sh SMTPSLEUTH OUT - writes the bash completion of smtpsleuth
# to OUT, generated from the command's own help: `SMTPSLEUTH --help` gives
# the commands, `SMTPSLEUTH CMD --help` each command's options. An option
# line is one that starts with blanks then '-'; its first column (up to two
# blanks) holds the option names, aliases joined by ", ", each followed by
# its argument's name when it takes one (`a|b|c` lists the values). So the
# completion follows whatever options the command prints, with nothing to
# keep in step by hand. Run by the build (cmake/packaging.cmake).
set -euo pipefail
BIN=${1:?usage: gen-completion.sh SMTPSLEUTH OUT}
OUT=${2:?usage: gen-completion.sh SMTPSLEUTH OUT}

commands=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] || { echo "gen-completion: no command found in '$BIN --help'" >&2; exit 1; }

# One line per option: COMMAND OPTION [ARG]
options() {
	"$BIN" "$1" --help 2>&1 | awk -v cmd="$1" '
	/^[ \t]+-/ {
		part = $0
		sub(/^[ \t]+/, "", part)
		i = match(part, /   *[^ ]/)          # the description column starts after 2+ blanks
		if (i > 0) part = substr(part, 1, i - 1)
		gsub(/[][]/, "", part)
		n = split(part, t, / +/)
		ng = 0
		for (k = 1; k <= n; k++) {
			tok = t[k]
			comma = sub(/,$/, "", tok)
			if (tok ~ /^--?[A-Za-z0-9]/) {
				if (!cont) ng = 0
				group[++ng] = tok
				seen[tok] = 1
				if (!(tok in arg)) arg[tok] = ""
				order[++no] = tok
				cont = comma
			} else if (tok != "" && ng > 0) {
				for (g = 1; g <= ng; g++) arg[group[g]] = tok
				ng = 0
				cont = 0
			}
		}
		cont = 0
	}
	END {
		for (k = 1; k <= no; k++) {
			o = order[k]
			if (done[o]++) continue
			print cmd, o, arg[o]
		}
	}'
}

{
	echo "# bash completion for smtpsleuth: generated at build time by cmake/gen-completion.sh"
	echo "# from the output of 'smtpsleuth --help' and 'smtpsleuth COMMAND --help'."
	echo
	echo "_smtpsleuth_interfaces() { ls /sys/class/net 2>/dev/null; echo any; }"
	echo
	echo "_smtpsleuth() {"
	echo '	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}'
	echo '	local opts="" argopts="" values=""'
	echo '	if [ "$COMP_CWORD" -eq 1 ]; then'
	echo "		COMPREPLY=(\$(compgen -W \"$(echo $commands) --help --version\" -- \"\$cur\"))"
	echo '		return'
	echo '	fi'
	echo '	case "${COMP_WORDS[1]}" in'
	for c in $commands; do
		opts=$(options "$c")
		all=$(echo "$opts" | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//')
		witharg=$(echo "$opts" | awk 'NF == 3 { print $2 }' | tr '\n' ' ' | sed 's/ $//')
		echo "	$c)"
		echo "		opts=\"$all\""
		echo "		argopts=\"$witharg\""
		# the value of an option: a listed choice, an interface, or a file
		echo '		case "$prev" in'
		echo "$opts" | awk 'NF == 3 && $3 ~ /\|/ { v = $3; gsub(/\|/, " ", v); printf "\t\t%s) values=\"%s\" ;;\n", $2, v }'
		echo "$opts" | awk 'NF == 3 && $3 == "IFACE" { printf "\t\t%s) values=\"$(_smtpsleuth_interfaces)\" ;;\n", $2 }'
		echo '		esac'
		echo '		;;'
	done
	echo '	esac'
	echo '	if [ -n "$values" ]; then'
	echo '		COMPREPLY=($(compgen -W "$values" -- "$cur"))'
	echo '	elif [[ " $argopts " == *" $prev "* ]]; then'
	echo '		COMPREPLY=($(compgen -f -- "$cur"))'
	echo '	elif [[ $cur == -* ]]; then'
	echo '		COMPREPLY=($(compgen -W "$opts" -- "$cur"))'
	echo '	else'
	echo '		COMPREPLY=($(compgen -f -- "$cur"))'
	echo '	fi'
	echo "}"
	echo "complete -o filenames -o bashdefault -F _smtpsleuth smtpsleuth"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
