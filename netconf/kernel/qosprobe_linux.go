package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Whether the kernel can shape as host network QoS needs is asked without
// changing anything: a request to create a qdisc of a kind the kernel does
// not know fails with ENOENT ("Specified qdisc kind is unknown") after it
// tried to load its module, and one of a known kind with options its init
// refuses fails otherwise, creating nothing. A filter cannot be asked that
// way (it needs a classful qdisc), but asking for one on a shared block
// that does not exist loads its module, if the kernel has one, before the
// block is not found; the filter modules are then looked for: loaded
// (/sys/module), built in or loadable (/lib/modules). Where the module
// lists cannot be read (systemd's ProtectKernelModules hides them) and the
// module is not loaded (em_meta loads with its first filter), the kernel
// cannot tell before a write: the first write that needs it does.

// qosModules are the filter modules host network QoS uses.
var qosModules = []string{"cls_u32", "cls_basic", "em_meta"}

// QoSSupported reports, with the reason, whether the kernel of ns has what
// host network QoS needs: the HFSC and fq_codel schedulers and the u32 and
// basic filters with the meta ematch.
func QoSSupported(ns *Namespace) error {
	lo, err := ns.Handle.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("finding lo to ask the kernel: %w", err)
	}
	// hfsc refuses to start without options; fq_codel refuses a 1-byte
	// target.
	for _, q := range []struct {
		kind string
		opts []byte
	}{
		{"hfsc", nil},
		{"fq_codel", nl.NewRtAttr(unix.TCA_OPTIONS, nl.NewRtAttr(nl.TCA_FQ_CODEL_TARGET, []byte{1}).Serialize()).Serialize()},
	} {
		body := tcMsg(lo.Attrs().Index, 0, 0xffffffff, 0)
		body = append(body, nl.NewRtAttr(unix.TCA_KIND, nl.ZeroTerminated(q.kind)).Serialize()...)
		body = append(body, q.opts...)
		err := tcRequest(ns, unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
		switch {
		case err == nil:
			return fmt.Errorf("asking the kernel about the %s scheduler created one on lo", q.kind)
		case errors.Is(err, unix.ENOENT):
			return fmt.Errorf("the kernel has no %s scheduler (sch_%s)", q.kind, q.kind)
		}
	}
	for _, kind := range []string{"u32", "basic"} {
		loadFilterModule(ns, kind)
	}
	release := kernelRelease()
	for _, m := range qosModules {
		if !moduleAvailable(release, m) {
			return fmt.Errorf("the kernel has no %s module, neither loaded, built in nor in /lib/modules/%s", m, release)
		}
	}
	return nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// magicBlock is TCM_IFINDEX_MAGIC_BLOCK: a filter request for a shared
// block, whose index is then in tcm_parent; noBlock is an index no block
// has.
const (
	magicBlock = 0xffffffff
	noBlock    = 0xffffffff
)

// loadFilterModule asks for a filter of the kind on a block that does not
// exist: the kernel loads the kind's module, then finds no block and
// creates nothing.
func loadFilterModule(ns *Namespace, kind string) {
	body := tcMsg(magicBlock, 0, noBlock, filterInfo(1))
	body = append(body, nl.NewRtAttr(unix.TCA_KIND, nl.ZeroTerminated(kind)).Serialize()...)
	_ = tcRequest(ns, unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// moduleAvailable reports whether a module is loaded, built in, or can be
// loaded, or whether that cannot be told (the module lists are unreadable).
func moduleAvailable(release, name string) bool {
	if _, err := os.Stat(filepath.Join("/sys/module", name)); err == nil {
		return true
	}
	dir := filepath.Join("/lib/modules", release)
	readable := false
	for _, list := range []string{"modules.builtin", "modules.dep"} {
		found, ok := listsModule(filepath.Join(dir, list), name)
		if found {
			return true
		}
		readable = readable || ok
	}
	return !readable
}

// listsModule reports whether a modules.builtin or modules.dep file names
// the module (a path ending in NAME.ko, compressed or not), and whether
// the file could be read.
func listsModule(path, name string) (found, readable bool) {
	f, err := os.Open(path)
	if err != nil {
		return false, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		file, _, _ := strings.Cut(sc.Text(), ":")
		base := filepath.Base(file)
		if base == name+".ko" || strings.HasPrefix(base, name+".ko.") {
			return true, true
		}
	}
	return false, sc.Err() == nil
}
