package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
)

// hostnetd's name servers stand in a marked block at the top of
// resolv.conf, so the host's own resolvers follow them and a later change
// replaces exactly what hostnetd wrote.
const (
	dnsBlockBegin = "# hostnetd: name servers of the default-route network"
	dnsBlockEnd   = "# hostnetd: end"
)

// updateDNS writes the name servers of the default-route network at the top
// of resolv.conf: its static ones, or those of its DHCP lease. Without any,
// the host's resolvers are left as they are. It runs after a transaction
// commits and when a lease changes, never inside a transaction.
func (e *Engine) updateDNS() {
	if e.opts.ResolvConf == "" {
		return
	}
	e.dnsWrite.Lock()
	defer e.dnsWrite.Unlock()
	servers := e.wantedNameservers()
	data, err := os.ReadFile(e.opts.ResolvConf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.log.Error("reading resolv.conf", zap.String("path", e.opts.ResolvConf), zap.Error(err))
		return
	}
	next := withNameservers(string(data), servers)
	if next == string(data) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(e.opts.ResolvConf), 0o755); err != nil {
		e.log.Error("creating the directory of resolv.conf", zap.Error(err))
		return
	}
	if err := writeResolvConf(e.opts.ResolvConf, []byte(next)); err != nil {
		e.log.Error("writing resolv.conf", zap.Error(err))
		return
	}
	e.log.Debug("resolv.conf updated", zap.Strings("nameservers", servers))
}

func (e *Engine) wantedNameservers() []string {
	nets, running := e.snapshot()
	for _, at := range running.Attachments {
		i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == at.NetworkID })
		if i < 0 || !nets[i].HasUsage(netconf.UsageDefaultRoute) {
			continue
		}
		if len(at.DNS) > 0 {
			return at.DNS // static name servers win over DHCP's
		}
		var out []string
		for _, s := range e.dhcp.leaseDNS(at.ID) {
			out = append(out, s.String())
		}
		return out
	}
	return nil
}

// writeResolvConf replaces resolv.conf atomically (temporary file and
// rename). Under the systemd unit only the file itself is writable
// (ProtectSystem=strict with ReadWritePaths=/etc/resolv.conf, a bind
// mount): no temporary file can be made in /etc and nothing can be renamed
// over a mount point. Then it is rewritten in place, as Debian's
// dhclient-script does: the new text first, then the old tail cut, so that
// a reader sees the new name servers at the top at every moment.
func writeResolvConf(path string, data []byte) error {
	err := atomicfile.Write(path, data, 0o644)
	if err == nil || !(errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EBUSY)) {
		return err
	}
	f, ferr := os.OpenFile(path, os.O_WRONLY, 0)
	if ferr != nil {
		return errors.Join(err, ferr)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("rewriting %s in place: %w", path, err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("rewriting %s in place: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("rewriting %s in place: %w", path, err)
	}
	return nil
}

// withNameservers replaces hostnetd's block in a resolv.conf text.
func withNameservers(text string, servers []string) string {
	var rest []string
	inBlock := false
	for _, line := range strings.SplitAfter(text, "\n") {
		switch strings.TrimSpace(line) {
		case dnsBlockBegin:
			inBlock = true
			continue
		case dnsBlockEnd:
			inBlock = false
			continue
		}
		if !inBlock && line != "" {
			rest = append(rest, line)
		}
	}
	var b strings.Builder
	if len(servers) > 0 {
		b.WriteString(dnsBlockBegin + "\n")
		for _, s := range servers {
			b.WriteString("nameserver " + s + "\n")
		}
		b.WriteString(dnsBlockEnd + "\n")
	}
	for _, l := range rest {
		b.WriteString(l)
	}
	return b.String()
}
