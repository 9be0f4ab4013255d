#!/usr/bin/env bash
# Builds oVirt's own clients, the Python SDK (ovirtsdk4) and the Ansible
# collection ovirt.ovirt, from their upstream source tarballs, with Debian's
# packages, for make test-clients. Run as root on Debian 12.
#
# Usage: install-clients.sh SOURCE-DIR BUILD-DIR
#
# SOURCE-DIR holds python-ovirt-engine-sdk4-*.tar.xz and
# ovirt-ansible-collection-*.tar.xz (see its README). BUILD-DIR gets
#   sdk/lib                          on PYTHONPATH (ovirtsdk4 with its C reader)
#   collections/ansible_collections/ovirt/ovirt
#                                    ANSIBLE_COLLECTIONS_PATH=BUILD-DIR/collections
#   env                              those two, to source
# It is a no-op once done for the same tarballs.
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)

# Debian's ansible-core, not its full ansible package: that one bundles an
# old ovirt.ovirt (2.4.1) that shadows nothing here but crashes on Python
# 3.11. python3-pycurl must match /usr/bin/python3, hence Debian's Python.
packages=(python3-dev libxml2-dev python3-pycurl gcc ansible-core python3-yaml)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

shopt -s nullglob
sdk_tars=("$src"/python-ovirt-engine-sdk4-*.tar.xz)
col_tars=("$src"/ovirt-ansible-collection-*.tar.xz)
if [ ${#sdk_tars[@]} -ne 1 ] || [ ${#col_tars[@]} -ne 1 ]; then
  echo "install-clients: want exactly one SDK and one collection tarball in $src" >&2
  exit 1
fi
stamp="$(sha256sum "${sdk_tars[0]}" "${col_tars[0]}" "$0" | sha256sum | cut -c1-16)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
  exit 0
fi
rm -rf "$out/sdk" "$out/collections" "$out/stamp"

# ovirtsdk4: the generated modules are committed upstream; only setup.py
# and version.py come from templates, and the C XML reader is compiled.
sdk_version=$(basename "${sdk_tars[0]}" .tar.xz)
sdk_version=${sdk_version#python-ovirt-engine-sdk4-}
mkdir -p "$out/sdk"
tar -xJf "${sdk_tars[0]}" -C "$out/sdk" --strip-components=1
(
  cd "$out/sdk"
  for f in setup.py lib/ovirtsdk4/version.py; do
    sed -e "s/@RPM_VERSION@/$sdk_version/g" -e "s/@PACKAGE_VERSION@/$sdk_version/g" \
        -e "s/@RPM_RELEASE@/1/g" -e "s/@PACKAGE_NAME@/python-ovirt-engine-sdk4/g" "$f.in" > "$f"
  done
  /usr/bin/python3 setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log >&2; exit 1; }
  # Compiled now, once: Ansible's module runs write no bytecode, and the
  # test VM sees this directory read-only, so each module call would
  # otherwise compile the SDK's 100,000 generated lines again (minutes
  # under the VM's emulation).
  /usr/bin/python3 -m compileall -q lib
)

col=$out/collections/ansible_collections/ovirt/ovirt
mkdir -p "$col"
tar -xJf "${col_tars[0]}" -C "$col" --strip-components=1

cat >"$out/env" <<ENV
export PYTHONPATH=$out/sdk/lib\${PYTHONPATH:+:\$PYTHONPATH}
export ANSIBLE_COLLECTIONS_PATH=$out/collections
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
ENV
PYTHONPATH=$out/sdk/lib /usr/bin/python3 -c 'import ovirtsdk4.xml, ovirtsdk4.version as v; print("ovirtsdk4", v.VERSION)'
echo "$stamp" >"$out/stamp"
