#!/usr/bin/env bash
# Stages `make install` in a temporary root and runs systemd-analyze verify
# on the installed unit there (--root makes it look for ExecStart='s binary
# in that root). verify exits 0 on warnings, so any line of its output that
# concerns hostnetd is a failure.
set -euo pipefail
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory -s install DESTDIR="$root" PREFIX=/usr/local >/dev/null
# ExecReload= runs the host's /bin/kill (procps, on every Debian host and in
# make deps), which verify looks for in the root too.
install -D -m 0755 /bin/kill "$root/bin/kill"
unit="$root/usr/local/lib/systemd/system/hostnetd.service"
out=$(systemd-analyze verify --root="$root" "$unit" 2>&1) || { echo "$out"; echo "verify-unit: systemd-analyze verify failed"; exit 1; }
if grep -i hostnetd <<<"$out"; then
  echo "verify-unit: systemd-analyze verify warned about the unit"
  exit 1
fi
echo "verify-unit: systemd-analyze verify accepts hostnetd.service as installed"
