#!/usr/bin/env bash
# Installs the peers make bench measures hostnetd against, when missing:
# NetworkManager (systemd-networkd comes with systemd, which
# install-deps.sh installs) and dbus-daemon for NetworkManager's private
# bus. They run only inside the VM, in a namespace of their own; nothing
# may start them on this machine, so a policy-rc.d refuses every service
# start while the packages install, and goes afterwards. Run as root.
set -euo pipefail

packages=(network-manager dbus-daemon)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing for the benchmark: ${missing[*]}"
policy=/usr/sbin/policy-rc.d
ours=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  ours=1
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
# Without systemd as PID 1 a package's init script could still have
# started the daemon despite the policy; none may run outside the VM.
if pgrep -x NetworkManager >/dev/null; then
  echo "install-bench-deps: NetworkManager is running on this machine; stop it (it must run only in the VM)" >&2
  exit 1
fi
