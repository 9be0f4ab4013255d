package netconf

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// MergeInput is everything Merge needs: the request, what hostnetd runs now,
// the network catalogue and the kernel as it is.
type MergeInput struct {
	Request  ChangeSet
	Running  *Config
	Networks []*Network
	Kernel   *State
	// NicName resolves a NIC or bond id to its device name.
	NicName func(id string) (string, bool)
	// NewAttachmentID gives the id of an attachment the request creates.
	NewAttachmentID func(networkID string) string
	// MaxConnectivityTimeout bounds connectivity_timeout, in seconds.
	MaxConnectivityTimeout int
	// OutOfSync lists, by attachment id, how running attachments differ
	// from the kernel (Drift); such an attachment may be modified only
	// together with its synchronisation.
	OutOfSync map[string][]string
	// Ethtool reads a device's ethtool settings and what its driver
	// supports, to validate ethtool_opts; nil looks in Kernel.Ethtool.
	Ethtool func(dev string) (*EthtoolState, error)
	// QoSSupported says whether the kernel can shape with HFSC, to
	// validate host network QoS before the first write; nil: it can.
	QoSSupported func() error
	// QoS reads a device's traffic control, to refuse QoS on a device
	// whose root qdisc is someone else's; nil looks in Kernel.QoS.
	QoS func(dev string) (*QoSState, error)
}

// Merge applies the request to the running configuration and validates the
// result completely. It never touches the kernel: the configuration it
// returns is the desired state, or the error is the first rule broken.
func Merge(in MergeInput) (*Config, error) {
	cfg, _, err := MergeAndSync(in)
	return cfg, err
}

// MergeAndSync is Merge that also returns the drifted attachments the
// request names without changing them: re-sending an attachment as it is
// configured re-applies it, as a synchronisation does.
func MergeAndSync(in MergeInput) (*Config, []string, error) {
	m := &merger{in: in, cfg: in.Running.Clone(),
		netByID: make(map[string]*Network, len(in.Networks)), netByName: make(map[string]*Network, len(in.Networks))}
	for _, n := range in.Networks {
		m.netByID[n.ID] = n
		m.netByName[n.Name] = n // the last of a name, as a search would find
	}
	steps := []func() error{
		m.checkActionOptions,
		m.removeAttachments,
		m.removeBonds,
		m.modifyBonds,
		m.modifyAttachments,
		m.adoptBonds,
		m.checkBonds,
		m.checkDevices,
		m.checkAddressing,
		m.checkQoS,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	m.cfg.sort()
	return m.cfg, m.resynced, nil
}

type merger struct {
	in  MergeInput
	cfg *Config
	// touched are the attachments (by network id) and bonds the request
	// names, for the rules that only apply to what changes.
	touchedNets  map[string]bool
	newSlaves    map[string]string // slave → bond, for slaves this request adds
	removedBonds map[string]bool
	namedBonds   map[string]bool // bonds the request modifies
	resynced     []string        // drifted attachments named unchanged
	// netByID and netByName index the catalogue; attByID and attByNet
	// index cfg.Attachments (the first per network), rebuilt on use after
	// a removal. A request names every attachment of a host, so no lookup
	// may scan them all.
	netByID, netByName map[string]*Network
	attByID, attByNet  map[string]int
	// managed is the running configuration's target, built on use.
	managed *Target
}

func (m *merger) network(id string) *Network { return m.netByID[id] }

func (m *merger) checkActionOptions() error {
	t := m.in.Request.ConnectivityTimeout
	if t == "" {
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > m.in.MaxConnectivityTimeout {
		return ruleErr(CodeConnectivityTimeoutInvalid, "connectivity_timeout %q must be a whole number of seconds from 1 to %d", t, m.in.MaxConnectivityTimeout)
	}
	return nil
}

func (m *merger) attachmentIndex(id string) int {
	m.indexAttachments()
	if i, ok := m.attByID[id]; ok {
		return i
	}
	return -1
}

func (m *merger) attachmentOfNetwork(netID string) int {
	m.indexAttachments()
	if i, ok := m.attByNet[netID]; ok {
		return i
	}
	return -1
}

func (m *merger) indexAttachments() {
	if m.attByID != nil {
		return
	}
	m.attByID, m.attByNet = make(map[string]int, len(m.cfg.Attachments)), make(map[string]int, len(m.cfg.Attachments))
	for i := range m.cfg.Attachments {
		m.noteAttachment(i)
	}
}

// noteAttachment indexes the attachment at i.
func (m *merger) noteAttachment(i int) {
	a := &m.cfg.Attachments[i]
	if _, ok := m.attByID[a.ID]; !ok {
		m.attByID[a.ID] = i
	}
	if _, ok := m.attByNet[a.NetworkID]; !ok {
		m.attByNet[a.NetworkID] = i
	}
}

// resolveNetwork finds a network by id and/or name.
func (m *merger) resolveNetwork(ref Ref) (*Network, error) {
	var byID, byName *Network
	if ref.ID != "" {
		if byID = m.network(ref.ID); byID == nil {
			return nil, ruleErr(CodeNetworkIDNotExists, "network with id %s does not exist", ref.ID)
		}
	}
	if ref.Name != "" {
		if byName = m.netByName[ref.Name]; byName == nil {
			return nil, ruleErr(CodeNetworkNameNotExists, "network %q does not exist", ref.Name)
		}
	}
	switch {
	case byID != nil && byName != nil && byID != byName:
		return nil, ruleErr(CodeAttachmentNetworkIncoherent, "network id %s and name %q name different networks", ref.ID, ref.Name)
	case byID != nil:
		return byID, nil
	case byName != nil:
		return byName, nil
	}
	return nil, ruleErr(CodeAttachmentNetworkNotSet, "the attachment names no network")
}

func (m *merger) removeAttachments() error {
	modified := map[string]bool{}
	for _, mod := range m.in.Request.ModifiedAttachments {
		if mod.ID != "" {
			modified[mod.ID] = true
		}
	}
	removed := map[int]bool{}
	for _, r := range m.in.Request.RemovedAttachments {
		i := -1
		if r.ID != "" {
			i = m.attachmentIndex(r.ID)
		} else if !r.Network.IsZero() {
			if n, err := m.resolveNetwork(r.Network); err == nil {
				i = m.attachmentOfNetwork(n.ID)
			}
		}
		if i < 0 || removed[i] {
			return ruleErr(CodeRemovedAttachmentNotExists, "cannot remove attachment %s: it does not exist", firstNonEmpty(r.ID, r.Network.Name, r.Network.ID))
		}
		if n := m.network(m.cfg.Attachments[i].NetworkID); n != nil && n.HasUsage(UsageManagement) {
			return ruleErr(CodeCannotRemoveManagement, "network %s is the management network and cannot be detached", n.Name)
		}
		if id := m.cfg.Attachments[i].ID; modified[id] {
			return ruleErr(CodeAttachmentInBothLists, "attachment %s is both modified and removed", id)
		}
		removed[i] = true
	}
	if len(removed) > 0 {
		kept := m.cfg.Attachments[:0]
		for i, a := range m.cfg.Attachments {
			if !removed[i] {
				kept = append(kept, a)
			}
		}
		m.cfg.Attachments = kept
		m.attByID, m.attByNet = nil, nil // the indexes moved
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// resolveNic turns a NIC reference (id and/or name) into a device name.
func (m *merger) resolveNic(ref Ref, code string) (string, error) {
	name := ref.Name
	if ref.ID != "" {
		byID, ok := m.in.NicName(ref.ID)
		if !ok {
			return "", ruleErr(code, "no interface has id %s", ref.ID)
		}
		if name != "" && name != byID {
			return "", ruleErr(CodeAttachmentNicsIncoherent, "interface id %s is %s, not %s", ref.ID, byID, name)
		}
		name = byID
	}
	return name, nil
}

func (m *merger) bondIndex(name string) int {
	return slices.IndexFunc(m.cfg.Bonds, func(b BondConfig) bool { return b.Name == name })
}

func (m *merger) removeBonds() error {
	m.removedBonds = map[string]bool{}
	for _, r := range m.in.Request.RemovedBonds {
		if r.IsZero() {
			return ruleErr(CodeBondNoIDNorName, "a removed bond has neither id nor name")
		}
		name, err := m.resolveNic(r, CodeBondNotExists)
		if err != nil {
			return err
		}
		i := m.bondIndex(name)
		if i < 0 {
			return ruleErr(CodeBondNotExists, "cannot remove %s: hostnetd manages no bond of that name", name)
		}
		m.cfg.Bonds = slices.Delete(m.cfg.Bonds, i, i+1)
		m.removedBonds[name] = true
	}
	return nil
}

func (m *merger) modifyBonds() error {
	m.newSlaves = map[string]string{}
	m.namedBonds = map[string]bool{}
	for _, bc := range m.in.Request.ModifiedBonds {
		if err := m.modifyBond(bc); err != nil {
			return err
		}
	}
	return nil
}

func (m *merger) modifyBond(bc BondChange) error {
	if bc.Ref.IsZero() {
		return ruleErr(CodeBondNoIDNorName, "a bond has neither id nor name")
	}
	name := bc.Ref.Name
	if bc.Ref.ID != "" {
		byID, ok := m.in.NicName(bc.Ref.ID)
		if !ok {
			return ruleErr(CodeNicIDNotExists, "no interface has id %s", bc.Ref.ID)
		}
		if name != "" && name != byID {
			return ruleErr(CodeBondIncoherent, "bond id %s is %s, not %s", bc.Ref.ID, byID, name)
		}
		name = byID
	}
	if err := CheckBondName(name); err != nil {
		return err
	}
	m.namedBonds[name] = true
	if m.removedBonds[name] {
		return ruleErr(CodeBondUpdatedAndRemoved, "bond %s is both modified and removed", name)
	}
	if l, ok := m.in.Kernel.Link(name); ok && l.Kind != KindBond {
		return conflictErr(CodeNotABond, "%s exists and is not a bond", name)
	}
	i := m.bondIndex(name)
	if i < 0 {
		m.cfg.Bonds = append(m.cfg.Bonds, m.adoptOrNewBond(name))
		i = len(m.cfg.Bonds) - 1
	}
	b := &m.cfg.Bonds[i]
	raw := bc.Options
	if raw == nil && i == len(m.cfg.Bonds)-1 && len(b.Options) == 0 && b.Mode == 0 && !m.existsInKernel(name) {
		raw = &defaultBondOptions
	}
	if raw != nil {
		mode, opts, err := parseBondOptions(name, *raw)
		if err != nil {
			return err
		}
		b.Mode, b.Options = mode, opts
	}
	if bc.Slaves != nil {
		slaves, err := m.resolveSlaves(name, *bc.Slaves)
		if err != nil {
			return err
		}
		for _, s := range slaves {
			if !slices.Contains(b.Slaves, s) {
				m.newSlaves[s] = name
			}
		}
		b.Slaves = slaves
	}
	return nil
}

// Loopback is the loopback device, which is not a NIC: the API does not
// list it, and no network or bond may use it.
const Loopback = "lo"

// nic is the kernel link a request may name as a NIC, slave or bond:
// any but loopback.
func (m *merger) nic(name string) (*Link, bool) {
	if name == Loopback {
		return nil, false
	}
	return m.in.Kernel.Link(name)
}

func (m *merger) existsInKernel(name string) bool {
	_, ok := m.in.Kernel.Link(name)
	return ok
}

// adoptOrNewBond starts the configuration of a bond the request names for
// the first time: an existing kernel bond is adopted with its mode, options
// and slaves, so that a request changing only its slaves keeps the rest.
func (m *merger) adoptOrNewBond(name string) BondConfig {
	l, ok := m.in.Kernel.Link(name)
	if !ok || l.Bond == nil {
		return BondConfig{Name: name}
	}
	return BondConfig{Name: name, Mode: l.Bond.Mode, Options: modeOptions(l.Bond), Slaves: slices.Clone(l.Bond.Slaves)}
}

func (m *merger) resolveSlaves(bond string, refs []Ref) ([]string, error) {
	var slaves []string
	for _, r := range refs {
		name := r.Name
		if r.ID != "" {
			byID, ok := m.in.NicName(r.ID)
			if !ok {
				return nil, ruleErr(CodeNicIDNotExists, "bond %s: no interface has id %s", bond, r.ID)
			}
			name = byID
		}
		l, ok := m.nic(name)
		if !ok {
			return nil, ruleErr(CodeSlaveNotExists, "bond %s: slave %q does not exist", bond, name)
		}
		if l.Kind != KindDevice && l.Kind != KindVeth && l.Kind != KindDummy {
			return nil, conflictErr(CodeSlaveIsBondOrVLAN, "bond %s: %s is a %s and cannot be a slave", bond, name, l.Kind)
		}
		if slices.Contains(slaves, name) {
			return nil, conflictErr(CodeSlaveReferencedTwice, "bond %s: %s is listed twice", bond, name)
		}
		slaves = append(slaves, name)
	}
	slices.Sort(slaves)
	return slaves, nil
}

func (m *merger) modifyAttachments() error {
	m.touchedNets = map[string]bool{}
	for _, ac := range m.in.Request.ModifiedAttachments {
		if err := m.modifyAttachment(ac); err != nil {
			return err
		}
	}
	return nil
}

func (m *merger) modifyAttachment(ac AttachmentChange) error {
	if ac.ID == "" && ac.Network == nil && ac.Nic == nil && ac.IP == nil && ac.Properties == nil && ac.DNS == nil && ac.QoS == nil && !ac.Override {
		return ruleErr(CodeNullAttachment, "an attachment element is empty")
	}
	i := -1
	if ac.ID != "" {
		if i = m.attachmentIndex(ac.ID); i < 0 {
			return ruleErr(CodeAttachmentNotExists, "attachment %s does not exist", ac.ID)
		}
	}
	var net *Network
	if ac.Network != nil && !ac.Network.IsZero() {
		n, err := m.resolveNetwork(*ac.Network)
		if err != nil {
			return err
		}
		net = n
		if i >= 0 && m.cfg.Attachments[i].NetworkID != n.ID {
			return ruleErr(CodeCannotChangeNetwork, "attachment %s carries network %s; it cannot be changed to %s", ac.ID, m.network(m.cfg.Attachments[i].NetworkID).Name, n.Name)
		}
		if i < 0 {
			i = m.attachmentOfNetwork(n.ID)
			if i >= 0 && ac.Create {
				return ruleErr(CodeAttachmentNotReused, "network %s is already attached to %s; modify attachment %s instead", n.Name, m.cfg.Attachments[i].Nic, m.cfg.Attachments[i].ID)
			}
		}
	} else if i < 0 {
		return ruleErr(CodeAttachmentNetworkNotSet, "a new attachment names no network")
	}
	if net == nil {
		net = m.network(m.cfg.Attachments[i].NetworkID)
	}
	var before *Attachment
	if i >= 0 {
		b := m.cfg.Attachments[i].clone()
		before = &b
	}
	if m.touchedNets[net.ID] {
		return ruleErr(CodeSameNetworkTwice, "network %s is attached twice in one request", net.Name)
	}
	m.touchedNets[net.ID] = true
	if i < 0 {
		m.cfg.Attachments = append(m.cfg.Attachments, Attachment{
			ID: m.in.NewAttachmentID(net.ID), NetworkID: net.ID,
			IPv4: IPConfig{Method: BootNone}, IPv6: IPConfig{Method: BootNone},
		})
		i = len(m.cfg.Attachments) - 1
		m.indexAttachments()
		m.noteAttachment(i)
	}
	if err := m.mergeAttachment(&m.cfg.Attachments[i], net, ac); err != nil {
		return err
	}
	if before != nil {
		return m.checkInSync(*before, m.cfg.Attachments[i], net, ac)
	}
	return nil
}

// checkInSync refuses to modify an attachment that drifted from its
// configuration unless the request synchronises it (the engine's rule). An
// attachment sent back unchanged is re-applied, as a sync.
func (m *merger) checkInSync(before, after Attachment, net *Network, ac AttachmentChange) error {
	id := before.ID
	diffs := m.in.OutOfSync[id]
	if len(diffs) == 0 || ac.Override || slices.Contains(m.in.Request.SyncedAttachments, id) {
		return nil
	}
	if before.equal(after) {
		m.resynced = append(m.resynced, id)
		return nil
	}
	return conflictErr(CodeNetworkNotInSync, "network %s is out of sync (%s); synchronise it with override_configuration or synchronized_network_attachments",
		net.Name, strings.Join(diffs, "; "))
}

func (m *merger) mergeAttachment(a *Attachment, net *Network, ac AttachmentChange) error {
	if ac.Nic != nil {
		name, err := m.resolveNic(*ac.Nic, CodeNicNotExists)
		if err != nil {
			return err
		}
		a.Nic = name
	}
	if a.Nic == "" {
		if net.VLAN != nil {
			return ruleErr(CodeVLANNoSouthbound, "VLAN network %s needs a NIC or bond", net.Name)
		}
		return ruleErr(CodeNicNameNotSet, "the attachment of network %s names no NIC", net.Name)
	}
	if ac.IP != nil {
		v4, v6, err := parseIPAssignments(net.Name, *ac.IP)
		if err != nil {
			return err
		}
		a.IPv4, a.IPv6 = v4, v6
	}
	if ac.Properties != nil {
		a.Properties = *ac.Properties
	}
	if ac.DNS != nil {
		a.DNS = *ac.DNS
	}
	if ac.QoS != nil {
		a.QoS = nil
		if !ac.QoS.Empty() {
			q, err := ParseQoS("network "+net.Name, *ac.QoS, CodeQoSSetupNetworksMissingValues)
			if err != nil {
				return err
			}
			a.QoS = q
		}
	}
	return nil
}

// adoptBonds makes hostnetd's the existing bonds that networks of the
// configuration sit on, as the engine and VDSM treat them: from then on
// such a bond is validated, planned and verified with its slaves (which
// lose any address they had), can be edited, and can be removed.
func (m *merger) adoptBonds() error {
	for _, a := range m.cfg.Attachments {
		if m.bondIndex(a.Nic) >= 0 || m.removedBonds[a.Nic] {
			continue
		}
		if l, ok := m.in.Kernel.Link(a.Nic); ok && l.Kind == KindBond && l.Bond != nil {
			m.cfg.Bonds = append(m.cfg.Bonds, m.adoptOrNewBond(a.Nic))
		}
	}
	return nil
}

// checkBonds applies the rules on bonds to the merged configuration. The
// slave count is the request's to get right: a bond hostnetd adopted
// keeps the slaves it had.
func (m *merger) checkBonds() error {
	owner := map[string]string{}
	for _, b := range m.cfg.Bonds {
		if len(b.Slaves) < 2 && m.namedBonds[b.Name] {
			return ruleErr(CodeBondSlaveCount, "bond %s has %d slaves; a bond needs at least two", b.Name, len(b.Slaves))
		}
		for _, s := range b.Slaves {
			if other, ok := owner[s]; ok {
				if m.namedBonds[other] && m.namedBonds[b.Name] {
					return conflictErr(CodeSlaveReferencedTwice, "%s is a slave of both %s and %s", s, other, b.Name)
				}
				existing := other // the bond the request did not name
				if m.namedBonds[other] {
					existing = b.Name
				}
				return conflictErr(CodeSlaveInOtherBond, "%s is a slave of bond %s, which this request neither removes nor shrinks", s, existing)
			}
			owner[s] = b.Name
			if err := m.checkSlaveFree(b.Name, s); err != nil {
				return err
			}
		}
		if primary, ok := BondOptionValue(b.Options, "primary"); ok && !slices.Contains(b.Slaves, primary) {
			return ruleErr(CodeBadBondingOptionForMode, "bond %s: primary %s is not one of its slaves", b.Name, primary)
		}
	}
	return nil
}

// checkSlaveFree refuses a slave that the kernel or the configuration uses
// for something else.
func (m *merger) checkSlaveFree(bond, slave string) error {
	l, _ := m.in.Kernel.Link(slave)
	if l.Master != "" && l.Master != bond && !m.removedBonds[l.Master] && m.bondIndex(l.Master) < 0 {
		if master, ok := m.in.Kernel.Link(l.Master); ok && master.Kind == KindBond {
			return conflictErr(CodeSlaveInOtherBond, "%s is a slave of bond %s, which this request neither removes nor shrinks", slave, l.Master)
		}
	}
	for _, a := range m.cfg.Attachments {
		if a.Nic != slave {
			continue
		}
		if m.newSlaves[slave] != "" && m.touchedNets[a.NetworkID] {
			return conflictErr(CodeSlaveAndNetworkAtOnce, "%s gets network %s and becomes a slave of %s in the same request", slave, m.network(a.NetworkID).Name, bond)
		}
		return conflictErr(CodeSlaveHasNetwork, "%s carries network %s and cannot be a slave of %s", slave, m.network(a.NetworkID).Name, bond)
	}
	for _, k := range m.in.Kernel.Links {
		if k.VLAN == nil || k.VLAN.Base != slave {
			continue
		}
		// Built only for a slave that carries VLANs: every request that
		// names a bond checks its slaves, and building the running
		// configuration's devices for it was a tenth of a no-op.
		if m.managed == nil {
			m.managed = BuildTarget(m.in.Running, m.in.Networks)
		}
		if m.managed.Device(k.Name) == nil {
			return ruleErr(CodeSlaveHasUnmanagedNetwork, "%s carries VLAN device %s and cannot be a slave of %s", slave, k.Name, bond)
		}
	}
	return nil
}

// checkDevices applies the rules on where networks sit: NICs that exist,
// one untagged network per device, distinct VLANs, matching MTUs.
func (m *merger) checkDevices() error {
	// Flat maps, not a record per device: a record with its own map was
	// a tenth of a no-op setupnetworks' allocations on a host of many
	// NICs.
	type deviceVLAN struct {
		nic  string
		vlan int
	}
	untagged := map[string]*Network{}
	vlans := make(map[deviceVLAN]*Network, len(m.cfg.Attachments))
	for _, a := range m.cfg.Attachments {
		net := m.network(a.NetworkID)
		if err := m.checkSouthbound(a, net); err != nil {
			return err
		}
		if err := m.checkDeviceNames(a, net); err != nil {
			return err
		}
		if net.VLAN == nil {
			if u := untagged[a.Nic]; u != nil {
				return conflictErr(CodeTwoUntagged, "%s would carry two untagged networks, %s and %s", a.Nic, u.Name, net.Name)
			}
			untagged[a.Nic] = net
			continue
		}
		key := deviceVLAN{a.Nic, *net.VLAN}
		if other := vlans[key]; other != nil {
			return conflictErr(CodeVLANInUse, "%s would carry VLAN %d twice, for %s and %s", a.Nic, *net.VLAN, other.Name, net.Name)
		}
		vlans[key] = net
		if len(a.Nic)+1+decimalDigits(*net.VLAN) > MaxDeviceName {
			return ruleErr(CodeBadBridgeName, "VLAN device %s would be longer than 15 bytes", VLANDeviceName(a.Nic, *net.VLAN))
		}
	}
	if len(untagged) == 0 {
		return nil
	}
	for _, a := range m.cfg.Attachments {
		u := untagged[a.Nic]
		if u == nil {
			continue
		}
		if n := m.network(a.NetworkID); n.EffectiveMTU() != u.EffectiveMTU() {
			return conflictErr(CodeMTUDifferences, "networks on %s must share the MTU of its untagged network %s (%d); %s has %d", a.Nic, u.Name, u.EffectiveMTU(), n.Name, n.EffectiveMTU())
		}
	}
	return nil
}

// decimalDigits is the length of n written in decimal.
func decimalDigits(n int) int {
	d := 1
	for ; n >= 10 || n <= -10; n /= 10 {
		d++
	}
	if n < 0 {
		d++
	}
	return d
}

func (m *merger) checkSouthbound(a Attachment, net *Network) error {
	if m.removedBonds[a.Nic] {
		return conflictErr(CodeBondUsedByAttachments, "bond %s cannot be removed: network %s still uses it", a.Nic, net.Name)
	}
	if i := m.bondIndex(a.Nic); i >= 0 {
		if net.Bridged() && !m.cfg.Bonds[i].Mode.ValidForVMNetwork() {
			return ruleErr(CodeBondModeInvalidForVMNetwork, "VM network %s cannot sit on bond %s in mode %s", net.Name, a.Nic, m.cfg.Bonds[i].Mode)
		}
		return nil
	}
	if strings.HasPrefix(a.Nic, "bond") && !m.existsInKernel(a.Nic) {
		return ruleErr(CodeNicNotExists, "network %s: bond %s neither exists nor is created by this request", net.Name, a.Nic)
	}
	l, ok := m.nic(a.Nic)
	if !ok {
		return ruleErr(CodeNicNotExists, "network %s: interface %s does not exist", net.Name, a.Nic)
	}
	switch l.Kind {
	case KindVLAN:
		return ruleErr(CodeAttachmentReferencesVLAN, "network %s names VLAN device %s; attach it to %s and give the network the VLAN", net.Name, a.Nic, l.VLAN.Base)
	case KindBridge:
		return ruleErr(CodeNicNotExists, "network %s: %s is a bridge, not a NIC or bond", net.Name, a.Nic)
	}
	if owner, ok := m.slaveOf(a.Nic); ok {
		if m.touchedNets[net.ID] && m.newSlaves[a.Nic] != "" {
			return conflictErr(CodeSlaveAndNetworkAtOnce, "%s gets network %s and becomes a slave of %s in the same request", a.Nic, net.Name, owner)
		}
		return conflictErr(CodeSlaveHasNetwork, "network %s cannot sit on %s, a slave of %s", net.Name, a.Nic, owner)
	}
	if net.Bridged() && l.Kind == KindBond && !l.Bond.Mode.ValidForVMNetwork() {
		return ruleErr(CodeBondModeInvalidForVMNetwork, "VM network %s cannot sit on bond %s in mode %s", net.Name, a.Nic, l.Bond.Mode)
	}
	return nil
}

// checkDeviceNames refuses a network whose bridge or VLAN device would
// take the name of an existing device of another kind: the kernel would
// refuse to create it, or hostnetd would reconfigure a device it does not
// own (a VM network named like a NIC would enslave its port to that NIC).
// An existing bridge or VLAN device of the right kind is adopted.
func (m *merger) checkDeviceNames(a Attachment, net *Network) error {
	if net.VLAN != nil {
		name := VLANDeviceName(a.Nic, *net.VLAN)
		if l, ok := m.in.Kernel.Link(name); ok && (l.VLAN == nil || l.VLAN.ID != *net.VLAN || l.VLAN.Base != a.Nic) {
			return ruleErr(CodeBadBridgeName, "network %s: its VLAN device %s exists and is a %s, not VLAN %d of %s", net.Name, name, l.Kind, *net.VLAN, a.Nic)
		}
	}
	if !net.Bridged() {
		return nil
	}
	if l, ok := m.in.Kernel.Link(net.Name); ok && l.Kind != KindBridge {
		return ruleErr(CodeBadBridgeName, "VM network %s needs a bridge named %s, and %s is a %s", net.Name, net.Name, net.Name, l.Kind)
	}
	if m.bondIndex(net.Name) >= 0 {
		return ruleErr(CodeBadBridgeName, "VM network %s needs a bridge named %s, and the configuration has a bond of that name", net.Name, net.Name)
	}
	return nil
}

// slaveOf reports the bond a NIC is a slave of in the merged configuration,
// or in the kernel for bonds hostnetd does not manage.
func (m *merger) slaveOf(nic string) (string, bool) {
	for _, b := range m.cfg.Bonds {
		if slices.Contains(b.Slaves, nic) {
			return b.Name, true
		}
	}
	if l, ok := m.in.Kernel.Link(nic); ok && l.Master != "" && !m.removedBonds[l.Master] {
		if master, ok := m.in.Kernel.Link(l.Master); ok && master.Kind == KindBond {
			return l.Master, true
		}
	}
	return "", false
}

// checkAddressing applies the IP rules across the whole configuration.
func (m *merger) checkAddressing() error {
	var defaultRoute *Network
	for _, a := range m.cfg.Attachments {
		net := m.network(a.NetworkID)
		isDefault := net.HasUsage(UsageDefaultRoute)
		if isDefault {
			if defaultRoute != nil {
				return ruleErr(CodeMultipleDefaultRoute, "networks %s and %s both claim the default route", defaultRoute.Name, net.Name)
			}
			defaultRoute = net
			if a.IPv4.Method == BootNone && a.IPv6.Method == BootNone {
				return conflictErr(CodeRoleNetworkNoBootProtocol, "default-route network %s needs an address assignment", net.Name)
			}
		}
		if a.IPv6.Gateway.IsValid() && !isDefault {
			return ruleErr(CodeIPv6GatewayNotDefaultRoute, "network %s: an IPv6 gateway is allowed only on the default-route network", net.Name)
		}
		if len(a.DNS) > 0 && !isDefault {
			return ruleErr(CodeNameserversNotDefaultRoute, "network %s: name servers are allowed only on the default-route network", net.Name)
		}
		if err := checkNameservers(net.Name, a.DNS); err != nil {
			return err
		}
		if a.IPv6.Method != BootNone && net.EffectiveMTU() < 1280 {
			return ruleErr(CodeMTUInvalid, "network %s: MTU %d is below 1280, the minimum with IPv6", net.Name, net.EffectiveMTU())
		}
		if err := checkBridgeOpts(net, a.Properties); err != nil {
			return err
		}
	}
	return m.checkEthtool()
}

// bridgeOptionRanges are the bridge_opts keys hostnetd applies, with the
// values the kernel takes (times in centiseconds; net/bridge/br_stp.c and
// br_netlink.c): a value outside its range would be refused, or stored
// truncated, only after the transaction had begun.
var bridgeOptionRanges = map[string][2]uint64{
	"forward_delay":      {0, math.MaxUint32}, // 200..3000 with STP on
	"hello_time":         {100, 1000},
	"max_age":            {600, 4000},
	"ageing_time":        {0, math.MaxUint32},
	"priority":           {0, math.MaxUint16},
	"group_fwd_mask":     {0, math.MaxUint16}, // without the restricted bits 0-2
	"vlan_filtering":     {0, 1},
	"multicast_snooping": {0, 1},
	"multicast_router":   {0, 2},
}

func checkBridgeOpts(net *Network, props map[string]string) error {
	for k, v := range props {
		if k == EthtoolOptsProperty {
			continue // checkEthtool
		}
		if k != "bridge_opts" {
			return ruleErr(CodeBadCustomProperties, "network %s: unknown property %q", net.Name, k)
		}
		if !net.Bridged() {
			return ruleErr(CodeBadCustomProperties, "network %s: bridge_opts apply only to VM networks", net.Name)
		}
		for _, kv := range strings.Fields(v) {
			key, val, ok := strings.Cut(kv, "=")
			r, known := bridgeOptionRanges[key]
			n, err := strconv.ParseUint(val, 0, 32)
			if !ok || !known || err != nil {
				return ruleErr(CodeBadCustomProperties, "network %s: bad bridge option %q", net.Name, kv)
			}
			if net.STP && key == "forward_delay" {
				r = [2]uint64{200, 3000}
			}
			if n < r[0] || n > r[1] || key == "group_fwd_mask" && n&7 != 0 {
				return ruleErr(CodeBadCustomProperties, "network %s: bridge option %s=%s is outside the kernel's range %d..%d", net.Name, key, val, r[0], r[1])
			}
		}
	}
	return nil
}

func (c *Config) sort() {
	slices.SortFunc(c.Bonds, func(a, b BondConfig) int { return strings.Compare(a.Name, b.Name) })
}
