// Package kernel is hostnetd's real-kernel test suite: bonds, VLANs and
// bridges created through netlink in throwaway namespaces. Its tests are
// built only with the vmtest tag and need a kernel with bonding, 802.1q and
// dummy support, so they run in the VM of test/vm (make test-vm); on a kernel
// without them they fail rather than skip. See test/vm/README.md.
package kernel
