package netconf

// The types below are requests as clients send them: deltas to merge into
// the running configuration. Values that validation must judge (addresses,
// VLAN ids, MTUs, bond options) stay raw text here, so that a bad one is
// refused by Merge with the rule code that names it, not by the decoder.

// Ref names an entity by id, by name, or by both (which must then agree).
type Ref struct {
	ID   string
	Name string
}

// IsZero reports whether the reference names nothing.
func (r Ref) IsZero() bool { return r.ID == "" && r.Name == "" }

// ChangeSet is one setupnetworks request: every per-resource write is
// translated into one too, so all writes go through the same engine.
type ChangeSet struct {
	ModifiedBonds       []BondChange
	RemovedBonds        []Ref
	ModifiedAttachments []AttachmentChange
	RemovedAttachments  []AttachmentRef
	SyncedAttachments   []string // attachment ids
	ModifiedLabels      []LabelChange
	RemovedLabels       []string

	CheckConnectivity   bool
	ConnectivityTimeout string // raw; empty when not given
	CommitOnSuccess     bool
	Async               bool
}

// BondChange creates or updates a bond.
type BondChange struct {
	Ref Ref
	// Options, when set, is the complete option set, mode included, as
	// name/value text; nil leaves the options unchanged.
	Options *[]RawOption
	// Slaves, when set, is the complete slave list; nil leaves it.
	Slaves *[]Ref
}

// RawOption is a name=value option as sent.
type RawOption struct {
	Name  string
	Value string
}

// AttachmentChange creates or modifies a network attachment. Nil fields
// leave the stored value unchanged (merge on modify).
type AttachmentChange struct {
	ID      string
	Network *Ref
	Nic     *Ref
	// IP, when set, replaces both the IPv4 and the IPv6 configuration.
	IP         *[]RawIPAssignment
	Properties *map[string]string
	DNS        *[]string
	// QoS, when set, is the attachment's host network QoS override; one
	// without values removes the override.
	QoS *RawQoS
	// Override asks to synchronise the attachment (override_configuration).
	Override bool
	// Create marks a POST: the network must not be attached yet.
	Create bool
}

// RawIPAssignment is one ip_address_assignment as sent.
type RawIPAssignment struct {
	Method  string // lower-cased
	Version string // "v4", "v6" or empty (inferred from the address)
	Address string
	Netmask string // dotted mask or prefix length
	Gateway string
}

// AttachmentRef names an attachment to remove: by id, or by its network.
type AttachmentRef struct {
	ID      string
	Network Ref
}

// NetworkChange creates or updates a network of the catalogue.
type NetworkChange struct {
	ID          string
	Name        *string
	Description *string
	Comment     *string
	VLAN        *string // raw VLAN id; "" removes the tag
	MTU         *string
	STP         *string
	Usages      *[]string
	DNS         *[]string
	// QoSID is the id of the QoS catalogue entry the network names; ""
	// names none. QoS is that entry, which the caller resolves (nil: no
	// such entry).
	QoSID *string
	QoS   *HostNetworkQoS
}
