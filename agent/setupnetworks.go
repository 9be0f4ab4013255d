package agent

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/engine"
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
	if err := a.eng.CheckSynced(cs.SyncedAttachments); err != nil {
		return response{}, err
	}
	if dry {
		dp, err := a.eng.DryRun(r.Context(), engine.Change{Request: cs})
		if err != nil {
			return response{}, err
		}
		return response{status: http.StatusOK, doc: xmlapi.ActionPlan(body, planView(dp))}, nil
	}
	if cs.Async {
		act := newAsyncAction(body, len(r.body))
		err := a.eng.TransactAsync(r.Context(), engine.Change{Request: cs}, func(_ engine.Result, err error) { a.asyncActions.finish(act, err) })
		if err != nil {
			return response{}, err
		}
		a.asyncActions.add(act)
		return response{status: http.StatusAccepted, doc: xmlapi.ActionAccepted(a.ctx(), body, act.id),
			location: a.ctx().SetupNetworksHref(act.id)}, nil
	}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: cs})
	if err != nil {
		return response{}, err
	}
	a.log.Debug("setupnetworks complete", zap.Int("kernel_writes", res.Writes))
	return response{status: http.StatusOK, doc: xmlapi.ActionComplete(body), writes: res.Writes}, nil
}

// syncAllNetworks is POST /hosts/{id}/syncallnetworks: one transaction that
// re-applies every attachment that drifted from its configuration.
func (a *Agent) syncAllNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	res, err := a.eng.SyncAll(r.Context())
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.ActionStatus(a.ctx(), "complete"), writes: res.Writes}, nil
}

// planView is a dry run's plan as the API shows it.
func planView(dp engine.DryRunPlan) xmlapi.PlanView {
	view := xmlapi.PlanView{Steps: dp.Steps, LinksDown: dp.LinksDown}
	for _, l := range dp.ReleasedLeases {
		lv := xmlapi.LeaseView{Device: l.Device}
		if l.Address.IsValid() {
			lv.Address = l.Address.String()
		}
		view.ReleasedLeases = append(view.ReleasedLeases, lv)
	}
	return view
}
