package netconf

import "slices"

// The QoS catalogue's changes, as the network catalogue's (catalogue.go):
// pure functions from the entries to the next entries, with the rules the
// engine applies to them.

// FindQoS is the entry of that id, or nil.
func FindQoS(qs []*HostNetworkQoS, id string) *HostNetworkQoS {
	if i := slices.IndexFunc(qs, func(q *HostNetworkQoS) bool { return q.ID == id }); i >= 0 {
		return qs[i]
	}
	return nil
}

// checkQoSName refuses a name another entry has.
func checkQoSName(qs []*HostNetworkQoS, q *HostNetworkQoS) error {
	for _, o := range qs {
		if o.ID != q.ID && o.Name == q.Name {
			return bareConflict(CodeQoSNameInUse, "a QoS named %q exists", q.Name)
		}
	}
	return nil
}

// AddQoS is the catalogue with a new entry made of ch.
func AddQoS(qs []*HostNetworkQoS, id string, ch QoSChange) ([]*HostNetworkQoS, *HostNetworkQoS, error) {
	if FindQoS(qs, id) != nil {
		return nil, nil, bareConflict(CodeQoSNameInUse, "a QoS with id %s exists", id)
	}
	q, err := ApplyQoSChange(nil, id, ch)
	if err == nil {
		err = checkQoSName(qs, q)
	}
	if err != nil {
		return nil, nil, err
	}
	return append(slices.Clone(qs), q), q, nil
}

// UpdateQoS is the catalogue with the entry id changed by ch, and the
// network catalogue with every network naming it given the new values.
func UpdateQoS(qs []*HostNetworkQoS, nets []*Network, id string, ch QoSChange) ([]*HostNetworkQoS, []*Network, *HostNetworkQoS, error) {
	cur := FindQoS(qs, id)
	if cur == nil {
		return nil, nil, nil, &NotFoundError{What: "QoS", ID: id}
	}
	if ch.ID != "" && ch.ID != id {
		return nil, nil, nil, ruleErr(CodeQoSMissingValues, "the body names QoS %s, the path %s", ch.ID, id)
	}
	q, err := ApplyQoSChange(cur, id, ch)
	if err == nil {
		err = checkQoSName(qs, q)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	nextQs := slices.Clone(qs)
	nextQs[slices.Index(qs, cur)] = q
	nextNets := slices.Clone(nets)
	for i, n := range nets {
		if n.QoS != nil && n.QoS.ID == id {
			c := *n
			c.QoS = q.Clone()
			nextNets[i] = &c
		}
	}
	return nextQs, nextNets, q, nil
}

// RemoveQoS is the catalogue without the entry id, which no network may
// name.
func RemoveQoS(qs []*HostNetworkQoS, nets []*Network, id string) ([]*HostNetworkQoS, error) {
	cur := FindQoS(qs, id)
	if cur == nil {
		return nil, &NotFoundError{What: "QoS", ID: id}
	}
	for _, n := range nets {
		if n.QoS != nil && n.QoS.ID == id {
			return nil, bareConflict(CodeQoSInUse, "QoS %s is the QoS of network %s; give the network another QoS or none first", cur.Name, n.Name)
		}
	}
	return slices.DeleteFunc(slices.Clone(qs), func(q *HostNetworkQoS) bool { return q == cur }), nil
}
