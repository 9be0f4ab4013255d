package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// Per-device IPv6 settings live in /proc/sys/net/ipv6/conf/<dev>/, which
// shows the network namespace of the calling thread: every access goes
// through Namespace.Do.

func sysctlPath(dev, key string) string { return filepath.Join("/proc/sys/net/ipv6/conf", dev, key) }

// ReadIPv6Sysctls reads the IPv6 settings hostnetd manages for the named
// devices; devices that do not exist are left out. A device with an MTU
// below 1280 has no IPv6 at all (the kernel removes its settings): it is
// reported as disabled.
func ReadIPv6Sysctls(ns *Namespace, names []string) (map[string]map[string]string, error) {
	out := make(map[string]map[string]string, len(names))
	err := ns.Do(func() error {
		for _, dev := range names {
			vals := make(map[string]string, len(netconf.IPv6SysctlKeys))
			for _, key := range netconf.IPv6SysctlKeys {
				data, err := os.ReadFile(sysctlPath(dev, key))
				if errors.Is(err, os.ErrNotExist) {
					if _, ierr := os.Stat(filepath.Join("/proc/sys/net/ipv4/conf", dev)); ierr == nil {
						out[dev] = map[string]string{"disable_ipv6": "1"}
					}
					break
				}
				if err != nil {
					return fmt.Errorf("reading %s of %s: %w", key, dev, err)
				}
				vals[key] = strings.TrimSpace(string(data))
			}
			if len(vals) == len(netconf.IPv6SysctlKeys) {
				out[dev] = vals
			}
		}
		return nil
	})
	return out, err
}
