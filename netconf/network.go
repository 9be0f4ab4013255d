package netconf

import (
	"slices"
	"strconv"
	"strings"
)

var knownUsages = []string{UsageVM, UsageManagement, "display", "migration", "gluster", UsageDefaultRoute}

// MaxMTU is the largest MTU hostnetd accepts.
const MaxMTU = 65535

// ApplyNetworkChange validates a catalogue change and returns the network it
// describes: a new one when cur is nil (with the given id), else cur updated
// with the fields the change sets. Names must be usable as device names:
// hostnetd refuses other names rather than mapping them.
func ApplyNetworkChange(cur *Network, id string, ch NetworkChange) (*Network, error) {
	n := &Network{ID: id}
	if cur != nil {
		c := *cur
		c.Usages, c.DNS = slices.Clone(cur.Usages), slices.Clone(cur.DNS)
		n = &c
	}
	if ch.Name != nil {
		n.Name = *ch.Name
	}
	if err := CheckBridgeName(n.Name); err != nil {
		return nil, err
	}
	if ch.Description != nil {
		n.Description = *ch.Description
	}
	if ch.Comment != nil {
		n.Comment = *ch.Comment
	}
	if ch.VLAN != nil {
		vlan, err := parseVLAN(n.Name, *ch.VLAN)
		if err != nil {
			return nil, err
		}
		n.VLAN = vlan
	}
	if ch.MTU != nil {
		mtu, err := strconv.Atoi(*ch.MTU)
		if err != nil || mtu < 0 || (mtu > 0 && mtu < 68) || mtu > MaxMTU {
			return nil, ruleErr(CodeMTUInvalid, "network %s: MTU %q must be 0 (the default) or from 68 to %d", n.Name, *ch.MTU, MaxMTU)
		}
		n.MTU = mtu
	}
	if ch.STP != nil {
		switch strings.ToLower(*ch.STP) {
		case "true":
			n.STP = true
		case "false":
			n.STP = false
		default:
			return nil, ruleErr(CodeBadSTP, "network %s: stp %q is not true or false", n.Name, *ch.STP)
		}
	}
	if ch.Usages != nil {
		var usages []string
		for _, u := range *ch.Usages {
			u = strings.ToLower(u)
			if !slices.Contains(knownUsages, u) {
				return nil, ruleErr(CodeBadNetworkUsage, "network %s: unknown usage %q", n.Name, u)
			}
			if !slices.Contains(usages, u) {
				usages = append(usages, u)
			}
		}
		n.Usages = usages
	}
	if ch.DNS != nil {
		if err := checkNameservers(n.Name, *ch.DNS); err != nil {
			return nil, err
		}
		n.DNS = slices.Clone(*ch.DNS)
	}
	if ch.QoSID != nil {
		if *ch.QoSID != "" && ch.QoS == nil {
			return nil, ruleErr(CodeQoSNotFound, "network %s: QoS %s does not exist", n.Name, *ch.QoSID)
		}
		n.QoS = ch.QoS.Clone()
	}
	return n, nil
}

func parseVLAN(network, s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	vid, err := strconv.Atoi(s)
	if err != nil || vid < 0 || vid > 4094 {
		return nil, ruleErr(CodeVLANOutOfRange, "network %s: VLAN id %q is not a whole number from 0 to 4094", network, s)
	}
	return &vid, nil
}
