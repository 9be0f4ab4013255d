#!/usr/bin/env bash
# vm.sh - run commands on a real Debian kernel inside a throwaway qemu VM.
#
# The development kernel has no bonding, 802.1q or dummy support and no
# loadable modules, so tests that need them run in a VM: qemu (TCG only)
# boots Debian's linux-image-amd64 with a busybox initramfs that insmods the
# needed modules, shares this machine's root filesystem read-only over 9p and
# chroots into it, so binaries built here run unchanged in the guest.
#
#   vm.sh prepare                          install host packages, fetch the kernel, build the initramfs
#   vm.sh run [--timeout S] -- CMD [ARG..] run CMD in the VM (cwd kept), print its output, exit with its code
#   vm.sh shell                            interactive root shell in the VM (exit or Ctrl-D powers off; Ctrl-A x kills)
#
# See test/vm/README.md for the environment variables and the cache layout.
set -euo pipefail

readonly CACHE=${HOSTNETD_VM_CACHE:-/var/cache/hostnetd-vm}
readonly MEM=${HOSTNETD_VM_MEM:-1G}
readonly SMP=${HOSTNETD_VM_SMP:-2}
readonly DEFAULT_TIMEOUT=${HOSTNETD_VM_TIMEOUT:-900}
readonly HOST_PACKAGES=(qemu-system-x86 busybox-static cpio dnsmasq-base xz-utils zstd kmod iproute2)
# Modules the guest needs, by name; their dependencies are added and ordered
# automatically from each module's "depends=" field. Built-in ones are skipped.
read -r -a extra_modules <<<"${HOSTNETD_VM_EXTRA_MODULES:-}"
# sch_hfsc, sch_fq_codel, cls_u32, cls_basic and em_meta are host network
# QoS: VDSM's HFSC classes, their fair queues and the filters that steer a
# VLAN's traffic to its class.
readonly MODULE_ROOTS=(virtio_pci 9pnet_virtio 9p 8021q bridge bonding dummy veth tun
	sch_hfsc sch_fq_codel cls_u32 cls_basic em_meta "${extra_modules[@]}")
declare -A MODULE_PARAMS=([bonding]="max_bonds=0")
# Bump when the initramfs layout changes in a way the init hash does not show.
readonly INITRD_FORMAT=1

log() { printf 'vm.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# ---------------------------------------------------------------- init script
# The guest's /init. It reads hostnetd.mode=run|shell from the kernel command
# line. In run mode it writes the command's combined output to
# /run/out/stdout and its exit code to /run/out/rc in the rw share.
init_script() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
fail() {
	echo "hostnetd-vm: FATAL: $*"
	sync
	poweroff -f
	sleep 10
}
mode=run
for word in $(cat /proc/cmdline); do
	case $word in hostnetd.mode=*) mode=${word#hostnetd.mode=} ;; esac
done
while read -r mod params; do
	[ -n "$mod" ] || continue
	insmod "/lib/modules/$mod.ko" $params || fail "insmod $mod $params failed"
done </etc/modules.order
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /host || fail "mounting the host root over 9p failed"
mount -t proc proc /host/proc || fail "mounting /host/proc failed"
mount -t sysfs sysfs /host/sys || fail "mounting /host/sys failed"
mount -t devtmpfs dev /host/dev || fail "mounting /host/dev failed"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t tmpfs -o mode=755 tmpfs /host/run || fail "mounting /host/run failed"
mkdir -p /host/run/out /host/run/tmp
chmod 1777 /host/run/tmp
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 out /host/run/out || fail "mounting the out share failed"
ip link set lo up
hostname hostnetd-vm
echo "hostnetd-vm: booted, running $mode"
if [ "$mode" = shell ]; then
	: >/host/run/out/ready
	setsid cttyhack chroot /host /bin/bash /run/out/cmd.sh
else
	chroot /host /bin/bash /run/out/cmd.sh >/host/run/out/stdout 2>&1 </dev/null
	echo $? >/host/run/out/rc
fi
sync
umount /host/run/out
poweroff -f
sleep 10
EOF
}

init_hash() {
	{
		init_script
		printf '%s\n' "${MODULE_ROOTS[@]}" "format=$INITRD_FORMAT"
		for m in "${!MODULE_PARAMS[@]}"; do printf '%s=%s\n' "$m" "${MODULE_PARAMS[$m]}"; done | sort
	} | sha256sum | cut -d' ' -f1
}

# ----------------------------------------------------------------- prepare
APT_UPDATED=
apt_update_once() {
	[[ -z $APT_UPDATED ]] || return 0
	log "apt-get update"
	apt-get update -qq >&2
	APT_UPDATED=1
}

need_root() {
	[[ $(id -u) -eq 0 ]] || die "$1 needs root"
}

install_host_packages() {
	local missing=() p
	for p in "${HOST_PACKAGES[@]}"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	need_root "installing ${missing[*]}"
	apt_update_once
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# Prints the versioned kernel package linux-image-amd64 depends on.
resolve_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

candidate_version() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

# Sets KPKG and DEB (path of the downloaded .deb). Runs apt-get update only
# when the local package lists cannot resolve or download the kernel.
fetch_kernel() {
	local try ver file
	mkdir -p "$CACHE/debs"
	for try in 1 2; do
		KPKG=$(resolve_kernel_pkg)
		ver=
		[[ -n $KPKG ]] && ver=$(candidate_version "$KPKG")
		if [[ -n $KPKG && -n $ver && $ver != "(none)" ]]; then
			file="${KPKG}_${ver//:/%3a}_amd64.deb"
			if [[ -s $CACHE/debs/$file ]]; then
				DEB=$CACHE/debs/$file
				return 0
			fi
			log "downloading $KPKG $ver"
			if (cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$KPKG=$ver" >&2) && [[ -s $CACHE/debs/$file ]]; then
				DEB=$CACHE/debs/$file
				find "$CACHE/debs" -name 'linux-image-*.deb' ! -name "$file" -delete
				return 0
			fi
		fi
		[[ -z $APT_UPDATED && $try == 1 ]] || break
		need_root "apt-get update"
		apt_update_once
	done
	# Offline fallback: keep using the kernel we already have.
	if DEB=$(find "$CACHE/debs" -name 'linux-image-*.deb' -print -quit 2>/dev/null) && [[ -n $DEB ]]; then
		log "warning: cannot resolve or download linux-image-amd64; using cached $(basename "$DEB")"
		KPKG=$(basename "$DEB" | cut -d_ -f1)
		return 0
	fi
	die "cannot resolve or download the kernel package (apt-cache depends linux-image-amd64 gave '${KPKG:-nothing}')"
}

# Prints the module's dependencies, one per line.
module_depends() {
	local deps
	if command -v modinfo >/dev/null; then
		deps=$(modinfo -F depends "$1")
	else
		deps=$(tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1)
	fi
	tr ',' '\n' <<<"$deps" | sed '/^$/d'
}

decompress_module() { # src dst
	case $1 in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) die "unknown module format: $1" ;;
	esac
}

build_initrd() { # kroot kver dest
	local kroot=$1 kver=$2 dest=$3 stage mdir f name
	local -A path=() builtin=() seen=()
	local order=()
	stage=$(mktemp -d "$CACHE/stage.XXXXXX")
	mdir=$kroot/lib/modules/$kver
	while IFS= read -r f; do
		name=${f##*/}
		name=${name%%.ko*}
		path[${name//-/_}]=$f
	done < <(find "$mdir/kernel" -name '*.ko*')
	if [[ -f $mdir/modules.builtin ]]; then
		while IFS= read -r f; do
			name=${f##*/}
			name=${name%%.ko*}
			builtin[${name//-/_}]=1
		done <"$mdir/modules.builtin"
	fi
	mkdir -p "$stage"/{bin,dev,proc,sys,host,etc,lib/modules}
	visit() {
		local m=${1//-/_} d
		[[ -n ${seen[$m]:-} ]] && return 0
		seen[$m]=1
		if [[ -z ${path[$m]:-} ]]; then
			[[ -n ${builtin[$m]:-} ]] || die "module $m is neither a .ko nor built into $kver"
			return 0
		fi
		decompress_module "${path[$m]}" "$stage/lib/modules/$m.ko"
		for d in $(module_depends "$stage/lib/modules/$m.ko"); do visit "$d"; done
		order+=("$m")
	}
	for name in "${MODULE_ROOTS[@]}"; do visit "$name"; done
	for name in "${order[@]}"; do
		printf '%s %s\n' "$name" "${MODULE_PARAMS[$name]:-}"
	done >"$stage/etc/modules.order"
	log "modules ($kver): ${order[*]}"

	local bb
	bb=$(command -v busybox || true)
	[[ -n $bb ]] || bb=/bin/busybox
	[[ -x $bb ]] || die "busybox not found (package busybox-static)"
	if ldd "$bb" >/dev/null 2>&1; then
		die "$bb is dynamically linked; install busybox-static"
	fi
	cp "$bb" "$stage/bin/busybox"
	# busybox --install -s, as relative links so they work from any root.
	for name in $("$bb" --list); do
		[[ $name == busybox ]] || ln -sf busybox "$stage/bin/$name"
	done
	init_script >"$stage/init"
	chmod 755 "$stage/init"
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -1) >"$dest.tmp"
	mv -f "$dest.tmp" "$dest"
	rm -rf "$stage"
}

stamp_value() { printf 'deb=%s\ninit=%s\n' "$1" "$(init_hash)"; }

# prepare [--if-needed]: with --if-needed (used by run and shell) nothing is
# resolved or downloaded when the cache holds a kernel and an initramfs built
# from the current init script.
prepare() {
	local if_needed=${1:-}
	mkdir -p "$CACHE" 2>/dev/null || die "cannot create the cache $CACHE (set HOSTNETD_VM_CACHE)"
	exec 9>"$CACHE/.lock"
	flock 9
	if [[ $if_needed == --if-needed && -s $CACHE/vmlinuz && -s $CACHE/initrd.img && -f $CACHE/stamp ]]; then
		local deb
		deb=$(sed -n 's/^deb=//p' "$CACHE/stamp")
		if [[ $(stamp_value "$deb") == "$(cat "$CACHE/stamp")" ]]; then
			exec 9>&-
			return 0
		fi
	fi
	install_host_packages
	local KPKG DEB kver kroot=$CACHE/kroot
	fetch_kernel
	local stamp
	stamp=$(stamp_value "$(basename "$DEB")")
	if [[ -f $CACHE/stamp && $stamp == "$(cat "$CACHE/stamp")" && -s $CACHE/vmlinuz && -s $CACHE/initrd.img ]]; then
		log "up to date: $(basename "$DEB")"
		exec 9>&-
		return 0
	fi
	if [[ ! -f $CACHE/stamp ]] || [[ $(sed -n 's/^deb=//p' "$CACHE/stamp") != "$(basename "$DEB")" ]] || [[ ! -d $kroot/lib/modules ]]; then
		log "extracting $(basename "$DEB")"
		rm -rf "$kroot" "$kroot.tmp"
		dpkg-deb -x "$DEB" "$kroot.tmp"
		mv "$kroot.tmp" "$kroot"
	fi
	kver=$(find "$kroot/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -n1)
	[[ -n $kver && -f $kroot/boot/vmlinuz-$kver ]] || die "$(basename "$DEB") has no /boot/vmlinuz-$kver"
	rm -f "$CACHE/stamp"
	build_initrd "$kroot" "$kver" "$CACHE/initrd.img"
	cp "$kroot/boot/vmlinuz-$kver" "$CACHE/vmlinuz.tmp"
	mv -f "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
	echo "$kver" >"$CACHE/kver"
	printf '%s\n' "$stamp" >"$CACHE/stamp"
	log "ready: kernel $kver, initramfs $(du -h "$CACHE/initrd.img" | cut -f1) in $CACHE"
	exec 9>&-
}

# ------------------------------------------------------------------ run/shell
# Writes the environment part of the guest's cmd.sh.
write_env() {
	local name
	printf 'export PATH=%q\n' "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	printf 'export TMPDIR=/run/tmp HOME=/run/tmp HOSTNETD_VM_GUEST=1\n'
	for name in $(compgen -e); do
		case $name in
		HOSTNETD_VM_GUEST) ;;
		HOSTNETD_* | GO* | CI) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done
	# Tests that run the go command: the host's module cache and go env
	# file are readable in the guest, its build cache is not, and the guest
	# has no network.
	if command -v go >/dev/null; then
		local goenv=() v
		while IFS= read -r v; do goenv+=("$v"); done < <(go env GOMODCACHE GOENV 2>/dev/null)
		[[ -z ${GOMODCACHE:-} && -n ${goenv[0]:-} ]] && printf 'export GOMODCACHE=%q\n' "${goenv[0]}"
		[[ -z ${GOENV:-} && -n ${goenv[1]:-} ]] && printf 'export GOENV=%q\n' "${goenv[1]}"
	fi
	printf 'export GOCACHE=/run/tmp/go-build GOPROXY=off\n'
	[[ -n ${EXTRA_ENV+x} ]] && printf '%s\n' "${EXTRA_ENV[@]}"
	return 0
}

QEMU_PID=
OUT=
cleanup() {
	if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [[ -n $OUT && -z ${HOSTNETD_VM_KEEP_OUT:-} ]]; then
		rm -rf "$OUT"
	elif [[ -n $OUT ]]; then
		log "kept $OUT"
	fi
}

qemu_cmd() { # mode
	# shellcheck disable=SC2054 # commas belong to qemu's option syntax
	QEMU=(qemu-system-x86_64 -accel tcg -cpu max -smp "$SMP" -m "$MEM"
		-nodefaults -nographic -display none -no-reboot
		-kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img"
		-append "console=ttyS0 panic=-1 quiet hostnetd.mode=$1 ${HOSTNETD_VM_APPEND:-}"
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
		-virtfs "local,path=$OUT,mount_tag=out,security_model=none,multidevs=remap")
}

run() {
	local timeout=$DEFAULT_TIMEOUT
	local -a share_dirs=() share_files=()
	EXTRA_ENV=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		--timeout) timeout=$2; shift 2 ;;
		--timeout=*) timeout=${1#*=}; shift ;;
		# --share-dir NAME=HOSTDIR: copy HOSTDIR into /run/out/share/NAME before
		# the run and back afterwards (used by vmexec for -test.gocoverdir).
		--share-dir) share_dirs+=("$2"); shift 2 ;;
		# --share-file NAME=HOSTFILE: copy /run/out/share/NAME to HOSTFILE after the run.
		--share-file) share_files+=("$2"); shift 2 ;;
		# --env NAME=VALUE: extra variable for the guest command.
		--env) EXTRA_ENV+=("export ${2%%=*}=$(printf %q "${2#*=}")"); shift 2 ;;
		--) shift; break ;;
		-*) usage ;;
		*) break ;;
		esac
	done
	[[ $# -gt 0 ]] || usage
	[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$timeout'"
	prepare --if-needed

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 131' QUIT
	trap 'exit 129' HUP
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/hostnetd-vm.XXXXXX")
	mkdir -p "$OUT/share"
	local spec
	for spec in "${share_dirs[@]+"${share_dirs[@]}"}"; do
		mkdir -p "$OUT/share/${spec%%=*}"
		if [[ -d ${spec#*=} ]]; then cp -a "${spec#*=}/." "$OUT/share/${spec%%=*}/"; fi
	done
	{
		echo 'set -u'
		write_env
		printf 'cd %q || exit 125\n' "$PWD"
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$OUT/cmd.sh"

	qemu_cmd run
	local start=$SECONDS qrc=0
	timeout -k 10 "$timeout" "${QEMU[@]}" -serial "file:$OUT/console.log" </dev/null >"$OUT/qemu.log" 2>&1 &
	QEMU_PID=$!
	wait "$QEMU_PID" || qrc=$?
	QEMU_PID=

	[[ -f $OUT/stdout ]] && cat "$OUT/stdout"
	for spec in "${share_dirs[@]+"${share_dirs[@]}"}"; do
		mkdir -p "${spec#*=}"
		cp -a "$OUT/share/${spec%%=*}/." "${spec#*=}/"
	done
	for spec in "${share_files[@]+"${share_files[@]}"}"; do
		if [[ -e $OUT/share/${spec%%=*} ]]; then cp "$OUT/share/${spec%%=*}" "${spec#*=}"; fi
	done
	local rc
	rc=$(cat "$OUT/rc" 2>/dev/null || true)
	if [[ $rc =~ ^[0-9]+$ ]]; then
		[[ -n ${HOSTNETD_VM_VERBOSE:-} ]] && log "VM run took $((SECONDS - start)) s, exit code $rc"
		exit "$rc"
	fi
	if [[ $qrc == 124 || $qrc == 137 ]]; then
		log "error: the VM timed out after $timeout s (HOSTNETD_VM_TIMEOUT / --timeout)"
	else
		log "error: the VM returned no exit code (qemu exit status $qrc)"
	fi
	if [[ -s $OUT/qemu.log ]]; then
		log "qemu said:"
		tail -n 20 "$OUT/qemu.log" >&2
	fi
	log "last console lines:"
	tail -n 40 "$OUT/console.log" >&2 2>/dev/null || true
	if [[ $qrc == 124 || $qrc == 137 ]]; then exit 124; fi
	exit 1
}

shell() {
	prepare --if-needed
	trap cleanup EXIT
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/hostnetd-vm.XXXXXX")
	EXTRA_ENV=()
	local rows cols
	{
		write_env
		printf 'export TERM=%q\n' "${TERM:-vt100}"
		if [[ -t 0 ]] && read -r rows cols < <(stty size 2>/dev/null); then
			printf 'stty rows %d cols %d 2>/dev/null\n' "$rows" "$cols"
		fi
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		# shellcheck disable=SC2016 # expanded in the guest
		printf 'echo "hostnetd VM shell (kernel $(uname -r)); exit or Ctrl-D powers off, Ctrl-A x kills qemu"\n'
		printf 'exec /bin/bash -i\n'
	} >"$OUT/cmd.sh"
	qemu_cmd shell
	local qrc=0
	if [[ -t 0 ]]; then
		"${QEMU[@]}" -serial mon:stdio || qrc=$?
	else
		# Piped input: hold it back until the guest is about to start the
		# shell, or the UART drops what arrives before the console opens.
		{
			while [[ ! -e $OUT/ready ]]; do sleep 0.2; done
			cat
		} | "${QEMU[@]}" -serial mon:stdio || qrc=$?
	fi
	exit "$qrc"
}

case ${1:-} in
prepare)
	shift
	[[ $# -eq 0 ]] || usage
	prepare
	;;
run)
	shift
	run "$@"
	;;
shell)
	shift
	[[ $# -eq 0 ]] || usage
	shell
	;;
*) usage ;;
esac
