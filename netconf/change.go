package netconf

import (
	"slices"
	"strconv"
	"time"
)

// A change is decided in two calls, both pure: MergeChange turns a request
// into the configuration to run (or the first rule it breaks), and
// PlanChange turns the running and the new configuration into the kernel
// writes between them. The engine then applies, verifies (VerifyChange)
// and, on a failure, rolls back to the snapshot the plan carries.

// ChangeInput is what a request is merged with.
type ChangeInput struct {
	// MergeInput is the request, the running configuration and its
	// catalogue, and what validation reads. Its Kernel may be a
	// monitor's view (links and addresses are enough).
	MergeInput
	// NewNetworks is the catalogue the change brings (nil: unchanged).
	NewNetworks []*Network
}

// MergedChange is a request merged into the running configuration and
// validated.
type MergedChange struct {
	Config *Config
	// Synced are the attachments re-applied although their configuration
	// does not change: those the request synchronises, and those it
	// modifies while they drifted.
	Synced []string
	// Await is how long the change waits for its connectivity to be
	// confirmed: connectivity_timeout, or the maximum when the request
	// asks for a check without one; 0 without a check.
	Await time.Duration
}

// MergeChange expands the request's labels, merges it into the running
// configuration and validates the result, carrying pending attachments
// (PendingOf) over untouched unless the request names them.
func MergeChange(in ChangeInput) (MergedChange, error) {
	nets := in.Networks
	if in.NewNetworks != nil {
		nets = in.NewNetworks
	}
	request, labels, err := ExpandLabels(LabelInput{
		Request: in.Request, Running: in.Running, Networks: nets, NicName: in.NicName,
		NicExists: func(name string) bool { return labelableNic(in.Kernel, in.Request, name) },
	})
	if err != nil {
		return MergedChange{}, err
	}
	req, base, kept := SplitPending(request, in.Running, nets, in.Kernel)
	merge := in.MergeInput
	merge.Request, merge.Running, merge.Networks = req, base, nets
	cfg, resynced, err := MergeAndSync(merge)
	if err != nil {
		return MergedChange{}, err
	}
	if err := CheckLabels(labels, cfg, nets, in.Kernel); err != nil {
		return MergedChange{}, err
	}
	cfg = WithPending(cfg, kept, in.Running)
	cfg.Labels = labels
	out := MergedChange{Config: cfg, Synced: append(req.SyncedAttachments, resynced...)}
	if in.Request.CheckConnectivity {
		// Merge validated it: a whole number of seconds within the bound.
		out.Await = time.Duration(in.MaxConnectivityTimeout) * time.Second
		if n, err := strconv.Atoi(in.Request.ConnectivityTimeout); err == nil && n > 0 {
			out.Await = time.Duration(n) * time.Second
		}
	}
	return out, nil
}

// labelableNic tells whether a label may name the interface: a NIC or bond
// of the kernel (not loopback, a bridge or a VLAN device), or a bond the
// request creates.
func labelableNic(view *State, request ChangeSet, name string) bool {
	if l, ok := view.Link(name); ok && name != Loopback && l.Kind != KindBridge && l.Kind != KindVLAN {
		return true
	}
	return slices.ContainsFunc(request.ModifiedBonds, func(b BondChange) bool { return b.Ref.Name == name })
}

// PlanInput is what a change is planned from.
type PlanInput struct {
	// Running (with its catalogue OldNetworks) is what the kernel runs;
	// Desired (with NewNetworks, or OldNetworks when nil) what it is to run.
	Running     *Config
	OldNetworks []*Network
	Desired     *Config
	NewNetworks []*Network
	// View is the kernel as last seen, to tell pending attachments.
	View *State
	// Synced are attachments re-applied although unchanged (MergedChange).
	Synced []string
	// Full plans for every managed device (restore at boot); otherwise a
	// change is a delta and only the devices it changes are touched.
	Full bool
	// OldTarget gives Running's target, which the caller may remember (it
	// costs as much to build as merging a request for the whole host);
	// nil builds it.
	OldTarget func() *Target
	// Read reads the kernel to plan from, with the ethtool settings the
	// targets manage; it is called only when some device is in scope.
	Read func(oldT, newT *Target) (*State, error)
}

// PlannedChange is a change planned against the kernel.
type PlannedChange struct {
	// Old and New are the targets before and after; New is Old itself
	// when the configuration did not change.
	Old, New *Target
	// Scope are the devices the plan may touch (nil: all).
	Scope []string
	Plan  Plan
	// Kernel is the state the plan was made from (nil when nothing was in
	// scope and the kernel was not read).
	Kernel *State
	// Pending says Desired has pending attachments, left out of New.
	Pending bool
	// Snapshot is every device the plan can touch as it was in Kernel
	// (with their ethtool settings), and Touchable their names: what a
	// rollback restores. Both are nil when the plan is empty.
	Snapshot  *Target
	Touchable []string
}

// PlanChange builds both targets (pending attachments left out), the
// devices in scope and the plan. A request that changes no device has
// none in scope and an empty plan, without a read of the kernel.
func PlanChange(in PlanInput) (PlannedChange, error) {
	newNets := in.NewNetworks
	if newNets == nil {
		newNets = in.OldNetworks
	}
	effRunning, effCfg := Effective(in.Running, in.View), Effective(in.Desired, in.View)
	var oldT *Target
	if in.OldTarget != nil && effRunning == in.Running {
		oldT = in.OldTarget()
	} else {
		oldT = BuildTarget(effRunning, in.OldNetworks)
	}
	// A target follows from its configuration and catalogue alone: a
	// request that changes neither (a re-sent one) has the same target,
	// and no device that changed.
	unchanged := SameCatalogue(newNets, in.OldNetworks) && effCfg.Equal(effRunning)
	newT := oldT
	if !unchanged {
		newT = BuildTarget(effCfg, newNets)
	}
	var scope []string // nil: every device
	if !in.Full {
		scope = syncedDevices(in.Desired, newNets, in.Synced)
		if !unchanged {
			scope = append(ChangedDevices(oldT, newT), scope...)
		}
		scope = append([]string{}, scope...) // empty, not nil: no device
	}
	out := PlannedChange{Old: oldT, New: newT, Scope: scope, Pending: effCfg != in.Desired}
	if scope != nil && len(scope) == 0 {
		return out, nil
	}
	st, err := in.Read(oldT, newT)
	if err != nil {
		return PlannedChange{}, err
	}
	out.Kernel = st
	out.Plan = MakeScopedPlan(st, oldT, newT, scope)
	if len(out.Plan) > 0 {
		out.Touchable = TouchableNames(st, oldT, newT)
		out.Snapshot = SnapshotTarget(st, out.Touchable)
		SnapshotEthtool(out.Snapshot, st, oldT, newT)
	}
	return out, nil
}

// syncedDevices names the devices of the attachments a request
// synchronises, which are re-applied even though their configuration does
// not change.
func syncedDevices(cfg *Config, nets []*Network, ids []string) []string {
	var names []string
	for _, at := range cfg.Attachments {
		if !slices.Contains(ids, at.ID) {
			continue
		}
		if i := slices.IndexFunc(nets, func(n *Network) bool { return n.ID == at.NetworkID }); i >= 0 {
			names = append(names, AttachmentDevices(at, nets[i])...)
		}
	}
	return names
}

// VerifyChange checks the kernel read back against a planned change: the
// devices in scope hold the new target, with their link states.
func VerifyChange(p PlannedChange, st *State) error {
	if err := VerifyScoped(p.Old, p.New, st, p.Scope); err != nil {
		return err
	}
	return VerifyLinkStates(p.Old, p.New, st, p.Scope)
}
