#!/usr/bin/env bash
# Installs the Debian packages the build and the test suites need, when they
# are missing. Run as root on a Debian machine; it is a no-op once done.
set -euo pipefail

packages=(iproute2 qemu-system-x86 busybox-static cpio dnsmasq-base xz-utils zstd kmod systemd procps lldpd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The LLDP tests run their own lldpd in throwaway namespaces; the Debian
# package also enables one on the host's own interfaces, which the tests do
# not want, so a freshly installed one is stopped.
if [[ " ${missing[*]:-} " == *" lldpd "* ]]; then
  if command -v systemctl >/dev/null; then
    systemctl disable --now lldpd.service 2>/dev/null || true
  fi
  # Without systemd, the package's init script may have started it.
  pkill -x lldpd 2>/dev/null || true
fi
