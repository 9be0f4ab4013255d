package agent

import (
	"net/http"
	"slices"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// setupNetworks is POST /hosts/{id}/setupnetworks: one request, one
// transaction. Success echoes the request with <status>complete</status>.
// With dry_run=true it answers the plan instead and applies nothing.
func (a *Agent) setupNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	dry, err := dryRunParam(r)
	if err != nil {
		return response{}, err
	}
	body, err := parseBody(r, "action")
	if err != nil {
		return response{}, err
	}
	cs, err := xmlapi.DecodeSetupNetworks(body)
	if err != nil {
		return response{}, decodeFault(err)
	}
	cs = withSync(cs)
	if err := a.checkSynced(cs.SyncedAttachments); err != nil {
		return response{}, err
	}
	if dry {
		view, err := a.dryRun(r.Context(), change{request: cs})
		if err != nil {
			return response{}, err
		}
		return response{status: http.StatusOK, doc: xmlapi.ActionPlan(body, view)}, nil
	}
	if cs.Async {
		act, err := a.transactAsync(r.Context(), change{request: cs}, body, len(r.body))
		if err != nil {
			return response{}, err
		}
		return response{status: http.StatusAccepted, doc: xmlapi.ActionAccepted(a.ctx(), body, act.id),
			location: a.ctx().SetupNetworksHref(act.id)}, nil
	}
	res, err := a.transact(r.Context(), change{request: cs})
	if err != nil {
		return response{}, err
	}
	a.log.Debug("setupnetworks complete", zap.Int("kernel_writes", res.Writes))
	return response{status: http.StatusOK, doc: xmlapi.ActionComplete(body), writes: res.Writes}, nil
}

// checkSynced answers 404 for an unknown attachment in
// synchronized_network_attachments.
func (a *Agent) checkSynced(ids []string) error {
	_, running := a.snapshot()
	for _, id := range ids {
		if !slices.ContainsFunc(running.Attachments, func(at netconf.Attachment) bool { return at.ID == id }) {
			return notFound("network_attachment", id)
		}
	}
	return nil
}

// syncAllNetworks is POST /hosts/{id}/syncallnetworks: one transaction that
// re-applies every attachment that drifted from its configuration.
func (a *Agent) syncAllNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	st, err := a.readState()
	if err != nil {
		return response{}, err
	}
	st = a.withRunningEthtool(st)
	nets, running := a.snapshot()
	var ids []string
	for id := range a.driftedAttachments(running, nets, st) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	res, err := a.transact(r.Context(), change{request: netconf.ChangeSet{SyncedAttachments: ids}})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.ActionStatus(a.ctx(), "complete"), writes: res.Writes}, nil
}
