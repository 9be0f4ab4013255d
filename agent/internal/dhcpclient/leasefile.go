package dhcpclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
)

// saveLease writes l to the lease file (JSON, replaced atomically), if
// there is one.
func (c *Client[L]) saveLease(l L) error {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	data, err := json.MarshalIndent(c.proto.EncodeFile(l, c.cfg.HWAddr.String(), c.cfg.Link), "", "  ")
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
func (c *Client[L]) loadStored() *L {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	data, err := os.ReadFile(c.cfg.LeaseFile)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("reading the "+c.cfg.Name+" lease file failed", zap.Error(err))
		}
		return nil
	}
	l, hwaddr, ok, err := c.proto.DecodeFile(data)
	if err != nil {
		c.log.Warn("ignoring an unreadable "+c.cfg.Name+" lease file", zap.String("file", c.cfg.LeaseFile), zap.Error(err))
		return nil
	}
	hw, err := net.ParseMAC(hwaddr)
	if err != nil || hw.String() != c.cfg.HWAddr.String() || !ok {
		c.log.Warn("ignoring a "+c.cfg.Name+" lease file for another client", zap.String("file", c.cfg.LeaseFile),
			zap.String("hwaddr", hwaddr))
		return nil
	}
	t := c.proto.Times(l)
	c.log.Info("remembered "+c.cfg.Name+" lease", zap.Stringer("address", t.Address), zap.Time("expiry", t.Expiry()))
	c.mu.Lock()
	c.stored = &l
	c.mu.Unlock()
	return &l
}

// removeLeaseFile deletes the lease file, if there is one.
func (c *Client[L]) removeLeaseFile() error {
	if c.cfg.LeaseFile == "" {
		return nil
	}
	if err := os.Remove(c.cfg.LeaseFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the %s lease file: %w", c.cfg.Name, err)
	}
	return nil
}
