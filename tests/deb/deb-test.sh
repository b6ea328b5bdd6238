#!/usr/bin/env bash
# deb-test.sh DEB [ROOT_TARBALL] [APT_CACHE] - installs the package made by
# `make deb` in a fresh Debian 12 root, runs it there, removes it, and checks
# that nothing of it is left. Not part of ctest (needs root and the Debian
# mirror for the dependencies; about a minute).
#
# The root: ROOT_TARBALL, a minbase bookworm root as `make fresh-test` keeps
# it (tests/fresh/, BUILD/bookworm-minbase-ARCH-*.tar.gz), unpacked into a
# temporary directory; without one, debootstrap makes a minimal root in
# /tmp. APT_CACHE, a directory of .deb files (fresh-test's apt-archives),
# saves downloads; apt still resolves the Depends from the mirror's index.
# In the root: apt-get install ./DEB (so Depends must be right), then
# `smtpsleuth --version`, `smtpsleuth analyze` on a bundled capture (verdict
# checked), `man -w` style checks of the man page and the completion file,
# `bash -n` on the completion, then apt-get purge and a look for leftovers.
set -euo pipefail
DEB=$(readlink -f "${1:?usage: deb-test.sh DEB [ROOT_TARBALL] [APT_CACHE]}")
TARBALL=${2:-}
CACHE=${3:-}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
say() { printf '== deb-test %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
[ "$(id -u)" = 0 ] || { echo "deb-test: needs root" >&2; exit 77; }

if [ -z "${DEB_TEST_IN_NS:-}" ]; then
	DEB_TEST_IN_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi
ROOT=$(mktemp -d /tmp/smtpsleuth-deb-root.XXXXXX)
cleanup() {
	for m in dev/pts dev proc sys; do umount -l "$ROOT/$m" 2>/dev/null || true; done
	rm -rf "$ROOT"
}
trap cleanup EXIT

if [ -n "$TARBALL" ]; then
	say "unpacking $TARBALL"
	tar -xzf "$TARBALL" -C "$ROOT"
else
	say "debootstrap bookworm (minbase) into $ROOT"
	debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/dev/null
fi
if [ -n "$CACHE" ]; then
	mkdir -p "$ROOT/var/cache/apt/archives"
	cp "$CACHE"/*.deb "$ROOT/var/cache/apt/archives/" 2>/dev/null || true
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
cp "$DEB" "$ROOT/tmp/"
cp "$SRC/captures/size_limit.pcap" "$ROOT/tmp/"
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

say "apt-get install ./$(basename "$DEB")"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$DEB")" >/dev/null
in_root dpkg -s smtpsleuth | sed -n 's/^\(Status\|Version\|Depends\): /  \1: /p'

say "run"
in_root smtpsleuth --version
out=$(in_root smtpsleuth analyze --json /tmp/size_limit.pcap)
echo "$out" | grep -q '"cause":"size_limit"' || { echo "deb-test: wrong or no verdict: $out" >&2; exit 1; }
echo "  analyze /tmp/size_limit.pcap: $(echo "$out" | grep -o '"cause":"size_limit"' | head -1)"
in_root test -s /usr/share/man/man1/smtpsleuth.1.gz
in_root zcat /usr/share/man/man1/smtpsleuth.1.gz | head -1 | grep -q '^\.TH SMTPSLEUTH'
in_root bash -n /usr/share/bash-completion/completions/smtpsleuth
in_root bash -c 'source /usr/share/bash-completion/completions/smtpsleuth; COMP_WORDS=(smtpsleuth analyze --js); COMP_CWORD=2; _smtpsleuth; echo "  completion of \"analyze --js\": ${COMPREPLY[*]}"'
in_root test -s /usr/share/doc/smtpsleuth/README.md
in_root grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' /usr/share/doc/smtpsleuth/copyright
in_root zcat /usr/share/doc/smtpsleuth/changelog.Debian.gz | head -1 | grep -q '^smtpsleuth (.*-[0-9]*) '
echo "  copyright: $(in_root sed -n 's/^License: //p' /usr/share/doc/smtpsleuth/copyright | head -1); changelog: $(in_root zcat /usr/share/doc/smtpsleuth/changelog.Debian.gz | head -1)"
files=$(in_root dpkg -L smtpsleuth | grep -v '^/\.$' | grep -E '\.|smtpsleuth$' || true)

say "apt-get purge smtpsleuth"
in_root apt-get purge -y -qq smtpsleuth >/dev/null
left=""
for f in $files; do
	[ -f "$ROOT$f" ] && left="$left $f"
done
in_root dpkg -s smtpsleuth >/dev/null 2>&1 && { echo "deb-test: still installed" >&2; exit 1; }
[ -z "$left" ] || { echo "deb-test: left behind:$left" >&2; exit 1; }
in_root apt-get autoremove -y -qq --purge >/dev/null
say "ok: installed, ran, removed cleanly"
