package dhcp6

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
)

// leaseFile is the JSON form of a persisted lease. Durations are seconds.
// The server identifier is the DUID's bytes in hex.
type leaseFile struct {
	HWAddr    string       `json:"hwaddr"`
	Link      string       `json:"link"`
	Address   netip.Prefix `json:"address"`
	DNS       []netip.Addr `json:"dns,omitempty"`
	Preferred int64        `json:"preferred"`
	Valid     int64        `json:"valid"`
	T1        int64        `json:"t1"`
	T2        int64        `json:"t2"`
	Acquired  time.Time    `json:"acquired"`
	ServerID  string       `json:"server_id"`
}

// saveLease writes l to the lease file, if there is one.
func (c *Client) saveLease(l Lease) error {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	data, err := json.MarshalIndent(leaseFile{
		HWAddr:    c.cfg.HWAddr.String(),
		Link:      c.cfg.Link,
		Address:   l.Address,
		DNS:       l.DNS,
		Preferred: int64(l.Preferred / time.Second),
		Valid:     int64(l.Valid / time.Second),
		T1:        int64(l.T1 / time.Second),
		T2:        int64(l.T2 / time.Second),
		Acquired:  l.Acquired.Round(0).UTC(),
		ServerID:  hex.EncodeToString(l.ServerID),
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.cfg.LeaseFile), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", c.cfg.LeaseFile, err)
	}
	return atomicfile.Write(c.cfg.LeaseFile, append(data, '\n'), 0o644)
}

// loadStored reads the lease file at start. A missing, unreadable or
// foreign (other HWAddr) file is no lease. The result is also kept for
// Close(true).
func (c *Client) loadStored() *Lease {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	data, err := os.ReadFile(c.cfg.LeaseFile)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("reading the DHCPv6 lease file failed", zap.Error(err))
		}
		return nil
	}
	var f leaseFile
	if err := json.Unmarshal(data, &f); err != nil {
		c.log.Warn("ignoring an unreadable DHCPv6 lease file", zap.String("file", c.cfg.LeaseFile), zap.Error(err))
		return nil
	}
	hw, err := net.ParseMAC(f.HWAddr)
	sid, serr := hex.DecodeString(f.ServerID)
	if err != nil || serr != nil || hw.String() != c.cfg.HWAddr.String() || !f.Address.Addr().Is6() ||
		f.Address.Bits() != 128 || f.Valid <= 0 {
		c.log.Warn("ignoring a DHCPv6 lease file for another client", zap.String("file", c.cfg.LeaseFile),
			zap.String("hwaddr", f.HWAddr))
		return nil
	}
	l := &Lease{
		Bound:     true,
		Address:   f.Address,
		DNS:       f.DNS,
		Preferred: time.Duration(f.Preferred) * time.Second,
		Valid:     time.Duration(f.Valid) * time.Second,
		T1:        time.Duration(f.T1) * time.Second,
		T2:        time.Duration(f.T2) * time.Second,
		Acquired:  f.Acquired,
		ServerID:  sid,
	}
	c.log.Info("remembered DHCPv6 lease", zap.Stringer("address", l.Address), zap.Time("expiry", l.Expiry()))
	c.mu.Lock()
	c.stored = l
	c.mu.Unlock()
	return l
}

// removeLeaseFile deletes the lease file, if there is one.
func (c *Client) removeLeaseFile() error {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	if err := os.Remove(c.cfg.LeaseFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the DHCPv6 lease file: %w", err)
	}
	return nil
}
