// Package bench is hostnetd's scale benchmark (issue 9): scenario S(N), two
// NICs, one 802.3ad bond over them and N VM networks, each a VLAN on the
// bond with a bridge named after the network and a static IPv4 address,
// created by one setupnetworks request to the real hostnetd binary, and
// measured side by side with iproute2 (`ip -batch`) making the same end
// state on the same kernel: apply, no-op re-apply, removal, GET /nics,
// restore at boot and resident memory. The peers, Debian's systemd-networkd
// and NetworkManager, run on the same S(N) in the same VM run, each alone
// in a namespace of its own with its own configuration and state
// directories and a private D-Bus (peers_test.go): create, no-op reload and
// removal, timed from their reload to the kernel holding the baseline's end
// state (waited for on the kernel's notifications), whose canonical dump is
// then compared with the baseline's.
//
// Its tests carry the build tag bench and need a kernel with bonding and
// 802.1q, so they run in the VM of test/vm, never in `make test`:
//
//	make bench                       # N = 100, 300, 1000, 4000; results in .bench/
//	make bench BENCH_N=100,300       # other sizes (up to 4085: VLANs 10 to 4094)
//	make bench BENCH_PEERS=none      # without the peers (networkd,networkmanager)
//	make bench BENCH_PROFILE=1       # also a CPU profile of each daemon
//
// The results (results.json, table.txt, profiles) go to the directory
// $HOSTNETD_VM_OUT_DIR, which test/vm/vmexec copies back to the host. See
// docs/performance.md for the figures and their analysis.
package bench
