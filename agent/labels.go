package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// Network labels are not supported: no NIC and no network has one. The
// label collections answer as an engine's with no labels, so that clients
// that read them before anything else (Ansible's ovirt_host_network lists
// a NIC's labels on every state: absent) go on; adding one is refused with
// LABELS_NOT_SUPPORTED, as modified_labels in a setupnetworks is.

func labelsNotSupported() *Fault {
	return newFault(http.StatusBadRequest, netconf.CodeLabelsNotSupported, "Operation Failed",
		"network labels are not supported by hostnetd")
}

// labelsOf answers the label collection of a NIC or a network once the
// owner exists: an empty list to GET, LABELS_NOT_SUPPORTED to POST, and
// 404 for any one label.
func labelsOf(owner func(*request) error) (list, add, one handler) {
	list = func(r *request) (response, error) {
		if err := owner(r); err != nil {
			return response{}, err
		}
		return ok(xmlapi.Elem("network_labels")), nil
	}
	add = func(r *request) (response, error) {
		if err := owner(r); err != nil {
			return response{}, err
		}
		return response{}, labelsNotSupported()
	}
	one = func(r *request) (response, error) {
		if err := owner(r); err != nil {
			return response{}, err
		}
		return response{}, notFound("network_label", r.param("label"))
	}
	return list, add, one
}

func (a *Agent) nicExists(r *request) error {
	_, _, err := a.findNic(r)
	return err
}

func (a *Agent) networkExists(r *request) error {
	_, err := a.findNetwork(r)
	return err
}
