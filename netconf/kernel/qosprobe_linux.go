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
// refuses fails otherwise, creating nothing. The filters cannot be asked
// that way (a filter needs a classful qdisc), so their modules are looked
// for: loaded (/sys/module), built in or loadable (/lib/modules).

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

// moduleAvailable reports whether a module is loaded, built in, or can be
// loaded.
func moduleAvailable(release, name string) bool {
	if _, err := os.Stat(filepath.Join("/sys/module", name)); err == nil {
		return true
	}
	dir := filepath.Join("/lib/modules", release)
	for _, list := range []string{"modules.builtin", "modules.dep"} {
		if listsModule(filepath.Join(dir, list), name) {
			return true
		}
	}
	return false
}

// listsModule reports whether a modules.builtin or modules.dep file names
// the module (a path ending in NAME.ko, compressed or not).
func listsModule(path, name string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		file, _, _ := strings.Cut(sc.Text(), ":")
		base := filepath.Base(file)
		if base == name+".ko" || strings.HasPrefix(base, name+".ko.") {
			return true
		}
	}
	return false
}
