#!/usr/bin/env bash
# The build enforces the layout's arrows: each probe in this folder is
# compiled against one folder's library alone. bad_LIB_HEADER.c includes a
# header LIB may not use and must fail with that header not found; the ok_
# probe includes what a dissector may use and must build, so a failure of
# the bad ones cannot come from a broken set-up.
set -u
build=${SLEUTH_BUILD_DIR:?}
pass=0 fail=0
if ! out=$(cmake --build "$build" --target arrow_ok_dissector_common 2>&1); then
  echo "FAIL: the allowed include did not build:"; echo "$out" | tail -20; exit 1
fi
pass=$((pass + 1))
for src in "$(dirname "$0")"/bad_*.c; do
  name=$(basename "$src" .c)
  hdr=$(sed -n 's/^#include "\(.*\)"/\1/p' "$src")
  if out=$(cmake --build "$build" --target "arrow_$name" 2>&1); then
    echo "FAIL: $name built: $hdr is reachable where the layout forbids it"
    fail=$((fail + 1))
  elif grep -q "$hdr: No such file or directory" <<<"$out"; then
    echo "ok: $name: $hdr is out of reach"
    pass=$((pass + 1))
  else
    echo "FAIL: $name failed for another reason:"; echo "$out" | tail -10
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
