package agent

import "github.com/hostnetd/hostnetd/xmlapi"

// listNicLabels answers GET …/nics/{nic}/networklabels. hostnetd has no
// network labels yet (a request that sets one is refused with
// LABELS_NOT_SUPPORTED), so every NIC carries none, and the list is empty,
// as an engine answers for an unlabelled NIC. The ovirt_host_network
// module reads it before it detaches anything.
func (a *Agent) listNicLabels(r *request) (response, error) {
	if _, _, err := a.findNic(r); err != nil {
		return response{}, err
	}
	return ok(xmlapi.List("network_labels")), nil
}
