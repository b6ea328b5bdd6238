#!/bin/sh
# deb-docs.sh SOURCE_DIR VERSION REVISION MAINTAINER OUT_DIR - writes the
# two files Debian wants in /usr/share/doc/PACKAGE (run by deb-prebuild.cmake
# on CPack's staging tree):
#
#   copyright            machine-readable (DEP-5). The project's owners have
#                        not chosen a licence yet: until a LICENSE (or
#                        COPYING) file exists at the top of the source tree,
#                        it says honestly that none is granted, all rights
#                        reserved by the smtpsleuth developers. Adding that
#                        file is the one change needed: its text becomes the
#                        License paragraph, named by its SPDX-License-
#                        Identifier line if it has one.
#   changelog.Debian.gz  one entry for VERSION-REVISION, listing the git
#                        history (newest first), dated by the last commit so
#                        the package is reproducible; gzip -9n.
#
# Without git history (a source tarball), the entry says so.
set -eu
SRC=$1 VERSION=$2 REVISION=$3 MAINT=$4 OUT=$5
PKG=smtpsleuth
mkdir -p "$OUT"
git_ok() { git -C "$SRC" rev-parse --verify -q HEAD >/dev/null 2>&1; }

if git_ok; then
	EPOCH=$(git -C "$SRC" log -1 --format=%ct)
	FIRST_YEAR=$(git -C "$SRC" log --reverse --format=%cd --date=format:%Y | head -n 1)
	HEAD_ID=$(git -C "$SRC" rev-parse --short=12 HEAD)
else
	EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}
	FIRST_YEAR=""
	HEAD_ID=""
fi
YEAR=$(date -u -d "@$EPOCH" +%Y)
[ -n "$FIRST_YEAR" ] && [ "$FIRST_YEAR" != "$YEAR" ] && YEARS="$FIRST_YEAR-$YEAR" || YEARS=$YEAR

# ---- copyright ----
LICENSE_FILE=""
for f in LICENSE LICENSE.txt LICENSE.md COPYING; do
	if [ -f "$SRC/$f" ]; then LICENSE_FILE="$SRC/$f"; break; fi
done
{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: $PKG"
	echo "Upstream-Contact: $MAINT"
	if [ -z "$LICENSE_FILE" ]; then
		echo "Comment: The owners of smtpsleuth have not chosen a licence yet. Until they"
		echo " do, no licence is granted to anyone: all rights are reserved by the"
		echo " smtpsleuth developers."
	fi
	echo
	echo "Files: *"
	echo "Copyright: $YEARS the smtpsleuth developers"
	if [ -z "$LICENSE_FILE" ]; then
		echo "License: none"
		echo " No licence has been granted yet: all rights reserved by the smtpsleuth"
		echo " developers. No permission to copy, modify or distribute smtpsleuth is"
		echo " given until a licence is published with its source."
	else
		NAME=$(sed -n 's/.*SPDX-License-Identifier:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$LICENSE_FILE" | head -n 1)
		echo "License: ${NAME:-custom}"
		# DEP-5 continuation lines: one leading space, "." for a blank line
		sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /' "$LICENSE_FILE"
	fi
} > "$OUT/copyright"

# ---- changelog.Debian.gz ----
{
	echo "$PKG ($VERSION-$REVISION) unstable; urgency=medium"
	echo
	if [ -n "$HEAD_ID" ]; then
		echo "  * Package of smtpsleuth $VERSION, from git commit $HEAD_ID. Its history,"
		echo "    newest first:"
		# one item per commit subject, wrapped within Debian's 80 columns
		git -C "$SRC" log --no-merges --format=%s | while IFS= read -r s; do
			printf '%s\n' "$s" | fold -s -w 70 | sed -e 's/[[:space:]]*$//' -e '1s/^/    - /' -e '2,$s/^/      /'
		done
	else
		echo "  * Package of smtpsleuth $VERSION, from a source tree without git history."
	fi
	echo
	echo " -- $MAINT  $(date -u -R -d "@$EPOCH")"
} > "$OUT/changelog.Debian"
gzip -9nf "$OUT/changelog.Debian"
