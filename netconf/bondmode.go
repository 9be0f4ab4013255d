package netconf

import (
	"fmt"
	"strconv"
	"strings"
)

// BondMode is a Linux bonding mode, 0 to 6.
type BondMode int

// The seven bonding modes.
const (
	BondBalanceRR BondMode = iota
	BondActiveBackup
	BondBalanceXOR
	BondBroadcast
	Bond8023AD
	BondBalanceTLB
	BondBalanceALB
)

var bondModeNames = [...]string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// oVirt's BondMode descriptions, reported as the option's type.
var bondModeDescriptions = [...]string{
	"Round-robin",
	"Active-Backup",
	"Load balance (balance-xor)",
	"Broadcast",
	"Dynamic link aggregation (802.3ad)",
	"Adaptive transmit load balancing (balance-tlb)",
	"Adaptive load balancing (balance-alb)",
}

// ParseBondMode accepts a mode by number (0..6) or kernel name, in any case.
func ParseBondMode(s string) (BondMode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 0 && n < len(bondModeNames) {
			return BondMode(n), nil
		}
		return 0, fmt.Errorf("bond mode %q is not between 0 and 6", s)
	}
	for i, name := range bondModeNames {
		if s == name {
			return BondMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown bond mode %q", s)
}

// String returns the kernel name of the mode.
func (m BondMode) String() string {
	if m < 0 || int(m) >= len(bondModeNames) {
		return fmt.Sprintf("mode(%d)", int(m))
	}
	return bondModeNames[m]
}

// Description is oVirt's text for the mode, e.g. "Active-Backup".
func (m BondMode) Description() string {
	if m < 0 || int(m) >= len(bondModeDescriptions) {
		return ""
	}
	return bondModeDescriptions[m]
}

// ValidForVMNetwork reports whether a bridged (VM) network may sit on a bond
// of this mode: oVirt refuses balance-rr, balance-tlb and balance-alb.
func (m BondMode) ValidForVMNetwork() bool {
	return m != BondBalanceRR && m != BondBalanceTLB && m != BondBalanceALB
}
