#!/bin/bash
# kernel-vlan-growth.sh - what the kernel alone costs per write as VLANs
# accumulate on one bond (docs/performance.md, "The kernel's own curve").
#
# Runs in the test VM, never on this machine (it needs bonding and 802.1q,
# and it makes a namespace of its own):
#
#   HOSTNETD_VM_MEM=4G test/vm/vm.sh run -- $PWD/scripts/kernel-vlan-growth.sh one
#   HOSTNETD_VM_MEM=4G test/vm/vm.sh run -- $PWD/scripts/kernel-vlan-growth.sh spread
#
# It builds S(4000) with ip -batch in eight blocks of 500 networks (a VLAN
# on a bond, a bridge holding it, an address on the bridge, both up, IPv6
# off on both as hostnetd writes it) and prints each block's time per kind
# of write. "one" puts every VLAN on one bond, as S(N) does; "spread" gives
# each block a bond of its own, so that a block's writes meet as many
# devices in the namespace but only 500 VLANs on their bond.
set -euo pipefail

layout=${1:-one}
case $layout in one | spread) ;; *) echo "usage: $0 one|spread" >&2; exit 2 ;; esac

ns=vlangrowth$$
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f /run/vlangrowth.$$.*' EXIT
ip -n "$ns" link set lo up

bond() { if [[ $layout == one ]]; then echo bond1; else echo "bond$1"; fi; }
for k in 1 2 3 4 5 6 7 8; do
	[[ $layout == one && $k -gt 1 ]] && break
	ip -n "$ns" link add "bond$k" type bond mode 802.3ad miimon 100
	ip -n "$ns" link set "bond$k" up
done

ms() { echo $(( ($2 - $1) / 1000000 )); }
block=500
for k in 1 2 3 4 5 6 7 8; do
	b=$(bond "$k")
	create=/run/vlangrowth.$$.create port=/run/vlangrowth.$$.port
	addr=/run/vlangrowth.$$.addr up=/run/vlangrowth.$$.up
	: >"$create"; : >"$port"; : >"$addr"; : >"$up"
	sysctls=()
	for ((i = (k - 1) * block; i < k * block; i++)); do
		v=$((i + 10))
		echo "link add link $b name $b.$v type vlan id $v" >>"$create"
		echo "link add net$i type bridge stp_state 0" >>"$create"
		echo "link set $b.$v master net$i" >>"$port"
		echo "addr add 10.$((i / 250)).$((i % 250)).1/24 dev net$i" >>"$addr"
		echo "link set $b.$v up" >>"$up"
		echo "link set net$i up" >>"$up"
		sysctls+=("$b.$v" "net$i")
	done
	t0=$(date +%s%N)
	ip -n "$ns" -batch "$create"
	t1=$(date +%s%N)
	ip netns exec "$ns" sh -c 'for d in "$@"; do echo 1 >"/proc/sys/net/ipv6/conf/$d/disable_ipv6"; done' sh "${sysctls[@]}"
	t2=$(date +%s%N)
	ip -n "$ns" -batch "$port"
	t3=$(date +%s%N)
	ip -n "$ns" -batch "$addr"
	t4=$(date +%s%N)
	ip -n "$ns" -batch "$up"
	t5=$(date +%s%N)
	echo "$layout: networks $(( (k - 1) * block ))-$(( k * block )): create $(ms "$t0" "$t1") ms, disable_ipv6 $(ms "$t1" "$t2") ms, port $(ms "$t2" "$t3") ms, address $(ms "$t3" "$t4") ms, up $(ms "$t4" "$t5") ms (1000, 1000, 500, 500, 1000 writes)"
done
