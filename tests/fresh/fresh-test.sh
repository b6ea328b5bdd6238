#!/usr/bin/env bash
# fresh-test.sh - behind `make fresh-test`: the README's two set-up commands
# on a fresh Debian 12 (bookworm), to prove that `make deps` installs every
# package the build and the tests need (nothing installed by hand hides a gap).
#
#   bash tests/fresh/fresh-test.sh [BUILD_DIR [CORPUS_DIR]]
#
# 1. debootstrap a minimal bookworm root (variant minbase, plus `make`, the one
#    thing a user must install before typing `make`) from the Debian mirror
#    this machine's apt is configured with; the root is kept as a tarball in
#    BUILD_DIR (default build-fresh/) so later runs skip this step;
# 2. unpack it, clone the committed HEAD of this checkout into
#    /work/smtpsleuth and copy the corpus (read-only) to /work/shared/corpus,
#    where the Makefile looks for it (../shared/corpus), as CI lays it out;
# 3. mount the root on itself, /proc, /sys, /dev, /dev/pts, /dev/shm, /run; run
#    `make run` then `CI=true make test` as root in the root, with a clean
#    environment (no LANG: the C locale); the tests run in a network
#    namespace of their own (loopback only: no test may need the Internet,
#    and other traffic on this machine's loopback stays out of the captures);
#    `make run` keeps the machine's network for apt-get;
# 4. fail when a test skipped there (a skip on a fresh root is a package
#    missing from DEPS or something set up by hand); the full test log is
#    kept as BUILD_DIR/LastTest.log;
# 5. unmount (trap on every exit) and delete the root when all passed; on a
#    failure it is kept in BUILD_DIR/root for a look.
#
# Environment: FRESH_MIRROR (default: the machine's apt source for bookworm),
# FRESH_ALLOW_SKIP=1 (a skipped test is not a failure), FRESH_NETNS=0 (tests
# in the machine's network namespace), FRESH_KEEP=1 (keep the root after
# success), FRESH_REBUILD=1 (debootstrap again).
# Downloaded .deb files are kept in BUILD_DIR/apt-archives between runs; apt
# still installs every package on each run.
# Needs root, debootstrap, git, unshare (util-linux). Not part of CI (slow:
# 4-15 minutes with the caches, by the machine's load; most of it the ASan
# build and the tests).
# Exit status: 0 when everything passed, else non-zero (the failing step's).
set -euo pipefail

SUITE=bookworm
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$SRC/build-fresh}
CORPUS=${2:-}

say() { printf '== fresh-test %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'fresh-test: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts): run it with sudo"
for t in debootstrap git unshare chroot mount; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install debootstrap git util-linux)"
done

# Everything below runs in a private mount namespace: the chroot's mounts are
# invisible to the machine and vanish with the script even if it is killed.
if [ -z "${FRESH_IN_NS:-}" ]; then
	FRESH_IN_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$OUT/root
ARCH=$(dpkg --print-architecture)
START=$(date +%s)

# ---- the mirror: from this machine's apt sources (one-line and deb822) ----
# Prints "URI SUITE" for every enabled `deb` entry.
apt_entries() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# stanzas are separated by blank lines; fields are case-insensitive
		sed -e '/^[[:space:]]*#/d' -e 's/#.*//' "$f" | awk '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				types = ""; enabled = ""; nu = 0; ns = 0
			}
			/^[ \t]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key)
				if (key == "types") { $1 = ""; types = $0 " " }
				else if (key == "enabled") enabled = tolower($2)
				else if (key == "uris") for (i = 2; i <= NF; i++) u[++nu] = $i
				else if (key == "suites") for (i = 2; i <= NF; i++) s[++ns] = $i
			}
			END { flush() }'
	done
}
MIRROR=${FRESH_MIRROR:-$(apt_entries | awk -v s="$SUITE" '$2 == s { print $1; exit }')}
SECURITY=$(apt_entries | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')
[ -n "$MIRROR" ] || die "no '$SUITE' entry in /etc/apt/sources.list{,.d/}: set FRESH_MIRROR"
MIRROR=${MIRROR%/}

# ---- the base root, cached as a tarball ----
INCLUDE="make"
TARBALL=$OUT/$SUITE-minbase-$ARCH-$(printf '%s %s' "$MIRROR" "$INCLUDE" | sha256sum | cut -c1-8).tar.gz

# mounted_under DIR: is anything mounted at or below DIR?
mounted_under() { awk -v d="$1" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; }
# safe_rm DIR: remove a root, never through a mount point.
safe_rm() {
	[ -e "$1" ] || return 0
	if mounted_under "$1"; then die "something is still mounted under $1: not removing it"; fi
	rm -rf --one-file-system "$1"
}

if [ ! -s "$TARBALL" ] || [ "${FRESH_REBUILD:-0}" = 1 ]; then
	say "debootstrap $SUITE (minbase + $INCLUDE) from $MIRROR"
	safe_rm "$OUT/base.tmp"
	debootstrap --variant=minbase --include="$INCLUDE" --arch="$ARCH" "$SUITE" "$OUT/base.tmp" "$MIRROR" \
		>"$OUT/debootstrap.log" 2>&1 || { tail -20 "$OUT/debootstrap.log"; die "debootstrap failed (log: $OUT/debootstrap.log)"; }
	rm -f "$OUT/base.tmp"/var/cache/apt/archives/*.deb
	tar -C "$OUT/base.tmp" --numeric-owner -czf "$TARBALL.tmp" .
	mv "$TARBALL.tmp" "$TARBALL"
	safe_rm "$OUT/base.tmp"
else
	say "using the cached base root $TARBALL"
fi

# ---- this run's root ----
safe_rm "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner -xzf "$TARBALL"

# apt sources as a fresh install has them: the release, its updates, security
{
	echo "deb $MIRROR $SUITE main"
	echo "deb $MIRROR $SUITE-updates main"
	[ -z "$SECURITY" ] || echo "deb ${SECURITY%/} $SUITE-security main"
} >"$ROOT/etc/apt/sources.list"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
HOST=$(hostname)
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$HOST" >"$ROOT/etc/hosts"
# No service started by a package's install script may outlive the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

# the project: the committed HEAD of this checkout, as a user would clone it
HEAD=$(git -C "$SRC" rev-parse HEAD)
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
	say "note: uncommitted changes in $SRC are not tested (testing $HEAD)"
fi
mkdir -p "$ROOT/work"
git clone -q "$SRC" "$ROOT/work/smtpsleuth"
git -C "$ROOT/work/smtpsleuth" checkout -q --detach "$HEAD"
say "cloned $(git -C "$SRC" log -1 --format='%h %s' "$HEAD" | cut -c1-70)"

# the corpus beside it, read-only, as CI lays out shared/
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS" ]; then
	CORPUS=$SRC/../shared/corpus
	# a git worktree: the main checkout's shared/ folder
	[ -d "$CORPUS" ] || CORPUS=$(cd "$SRC" && cd "$(git rev-parse --git-common-dir)/.." && pwd)/../shared/corpus
fi
if [ -d "$CORPUS" ]; then
	mkdir -p "$ROOT/work/shared"
	cp -a "$CORPUS" "$ROOT/work/shared/corpus"
	chmod -R a-w "$ROOT/work/shared"
	say "corpus: $(find "$ROOT/work/shared/corpus" -type f | wc -l) files from $(cd "$CORPUS" && pwd)"
else
	say "note: no corpus found; the tests that need it will skip"
fi

# ---- mounts, undone on every exit ----
MOUNTS=()
mnt() { # mnt TARGET mount-args...
	local target=$ROOT$1; shift
	mkdir -p "$target"
	mount "$@" "$target"
	MOUNTS+=("$target")
}
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# processes a test left running in the root hold its mounts
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true
	done
	if mounted_under "$ROOT"; then
		echo "fresh-test: mounts left under $ROOT" >&2
	elif [ "$rc" = 0 ] && [ "${FRESH_KEEP:-0}" != 1 ]; then
		safe_rm "$ROOT"
	else
		echo "fresh-test: the root is kept in $ROOT" >&2
	fi
	say "finished in $(( ($(date +%s) - START) / 60 )) min, exit $rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The root is a mount point of its own, as / is on a machine: `ip netns exec`
# (mount --make-rslave /) and anything else that remounts / needs it.
mnt / --bind "$ROOT"
mnt /proc -t proc proc
mnt /sys -t sysfs sysfs
mnt /dev --bind /dev
mnt /dev/pts --bind /dev/pts
mnt /dev/shm -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mnt /run -t tmpfs -o mode=755,nosuid,nodev tmpfs
mkdir -p "$OUT/apt-archives/partial"
mnt /var/cache/apt/archives --bind "$OUT/apt-archives"

# in_root CMD: a login-like clean environment, as root, in the project.
in_root() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb ${CI:+CI=$CI} \
		/bin/bash -c "cd /work/smtpsleuth && $1"
}

# step CMD...: runs CMD in the background and waits, so that a signal to this
# script is handled at once (bash defers traps while a foreground child runs);
# the cleanup then ends whatever runs in the root.
step() { "$@" & wait $!; }

say "make run (in the fresh root)"
CI="" step in_root "make run"

# Nested network namespaces (tests that build their own network): can a
# test make one here? Said for the record; such a test skips (77) or fails
# on its own.
NETNS_PROBE='ip netns add fresh-probe && ip netns exec fresh-probe ip link set lo up &&
	ip netns exec fresh-probe nft list ruleset >/dev/null && ip netns del fresh-probe'

say "CI=true make test (in the fresh root$([ "${FRESH_NETNS:-1}" = 1 ] && echo ', own network namespace'))"
if [ "${FRESH_NETNS:-1}" = 1 ] && command -v ip >/dev/null; then
	# a new network namespace has only lo, and down
	export -f in_root say
	export ROOT NETNS_PROBE
	# shellcheck disable=SC2016 # expanded by the inner shell
	CI=true step unshare --net -- bash -c 'ip link set lo up &&
		{ in_root "$NETNS_PROBE" && say "network namespaces: a test can make its own" ||
			say "network namespaces: cannot be made here (tests needing them must skip)"; } &&
		in_root "make test"'
else
	CI=true step in_root "make test"
fi

# A skipped test on a fresh root is a gap: a package missing from DEPS or a
# test that needs something set up by hand (every test runs as root here,
# with the corpus). Its output says "skip"/"skipped" (ctest's 77 included).
LOG=$ROOT/work/smtpsleuth/build-san/Testing/Temporary/LastTest.log
cp "$LOG" "$OUT/LastTest.log" 2>/dev/null || true
if grep -i -n -E '(^|[^a-z_])skip(ped|s)?([^a-z_]|$)' "$LOG" >"$OUT/skips.txt"; then
	say "tests that skipped (see $OUT/LastTest.log):"
	cut -c1-200 "$OUT/skips.txt"
	[ "${FRESH_ALLOW_SKIP:-0}" = 1 ] || die "tests skipped on a fresh root (FRESH_ALLOW_SKIP=1 to accept)"
fi
say "all passed on a fresh $SUITE root, none skipped"
