package agent

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// serveHTTP runs every request through the same steps: negotiate the
// answer's encoding, find the resource, read the body within its limit, then
// call the handler. Every failure is an oVirt fault.
func (a *Agent) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer a.eng.ReleaseMemory() // after a large transaction, once its answer is out
	out, acceptable := negotiate(r.Header.Get("Accept"))
	if !acceptable {
		a.writeFault(w, r, formatXML, newFault(http.StatusNotAcceptable, CodeNotAcceptable, "Not acceptable",
			"cannot answer in %q; hostnetd speaks application/xml and application/json", r.Header.Get("Accept")))
		return
	}
	if r.ContentLength > a.opts.MaxBodyBytes {
		a.writeFault(w, r, out, tooLarge(a.opts.MaxBodyBytes))
		return
	}
	path, inAPI := stripPrefix(r.URL.Path)
	if !inAPI {
		a.writeFault(w, r, out, newFault(http.StatusNotFound, CodeNotFound, "Not found",
			"no resource at %q; the API is under %s", r.URL.Path, xmlapi.Prefix))
		return
	}
	h, params, fault := a.router.match(r.Method, path)
	if fault != nil {
		a.writeFault(w, r, out, fault)
		return
	}
	if a.refuseWhileRestoring(w, r, out) {
		return
	}
	if cost := a.bodyCost(r); cost > 0 { // bodybudget.go
		if !a.bodies.acquire(r.Context(), cost, bodyBudgetWait) {
			w.Header().Set("Retry-After", "5")
			a.writeFault(w, r, out, serverBusy())
			return
		}
		defer a.bodies.release(cost)
	}
	body, err := readBody(r, a.opts.MaxBodyBytes)
	if err != nil {
		a.writeFault(w, r, out, badRequest(CodeMalformed, "reading the request body: %v", err))
		return
	}
	if int64(len(body)) > a.opts.MaxBodyBytes {
		a.writeFault(w, r, out, tooLarge(a.opts.MaxBodyBytes))
		return
	}
	resp, err := h(&request{Request: r, params: params, body: body})
	if err != nil {
		if !errors.As(err, new(*Fault)) && !errors.As(err, new(*engine.Error)) {
			a.log.Error("[unexpected] request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		}
		a.writeFault(w, r, out, faultOf(err))
		return
	}
	if resp.location != "" {
		w.Header().Set("Location", resp.location)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && resp.status != http.StatusAccepted {
		// Idempotence is observable: a repeated request makes 0 writes. An
		// accepted (async) request has not written yet: it says nothing.
		w.Header().Set("X-Hostnetd-Kernel-Writes", strconv.Itoa(resp.writes))
	}
	switch {
	case resp.list != nil:
		a.writeList(w, r, out, resp.status, resp.list)
	case resp.doc != nil:
		a.write(w, r, out, resp.status, resp.doc)
	default:
		w.WriteHeader(resp.status)
	}
}

// readBody reads at most limit+1 bytes of the request body. A body of a
// known length is read into one buffer of that length: io.ReadAll grows
// its buffer as it reads, and copying and clearing it was a tenth of a
// setupnetworks that changes nothing.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > limit {
		return io.ReadAll(io.LimitReader(r.Body, limit+1))
	}
	// net/http ends such a body at its length, and fails a shorter one.
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, err
	}
	return body, nil
}

func tooLarge(limit int64) *Fault {
	return newFault(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "Request body too large",
		"the request body exceeds the limit of %d bytes", limit)
}

// write answers with doc. The XML is written as it is made: the answer is
// not held whole (13 MB for GET /nics of 4000 VLAN networks).
func (a *Agent) write(w http.ResponseWriter, r *http.Request, f format, status int, doc *xmlapi.Node) {
	a.writeAs(w, r, f, status, func(w io.Writer) error { return xmlapi.WriteXML(w, doc) },
		func(w io.Writer) error { _, err := w.Write(xmlapi.MarshalJSON(doc)); return err })
}

// writeList answers with a collection rendered as it is written.
func (a *Agent) writeList(w http.ResponseWriter, r *http.Request, f format, status int, list *xmlapi.Collection) {
	a.writeAs(w, r, f, status, list.WriteXML, list.WriteJSON)
}

// writeAs answers with a document in the negotiated format; HEAD gets its
// headers only.
func (a *Agent) writeAs(w http.ResponseWriter, r *http.Request, f format, status int, asXML, asJSON func(io.Writer) error) {
	w.Header().Set("Content-Type", f.contentType())
	w.WriteHeader(status)
	switch {
	case r.Method == http.MethodHead:
	case f == formatJSON:
		_ = asJSON(w)
	default:
		_ = asXML(w)
	}
	a.log.Debug("request", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Int("status", status))
}

func (a *Agent) writeFault(w http.ResponseWriter, r *http.Request, f format, fault *Fault) {
	if len(fault.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(fault.Allow, ", "))
	}
	if fault.Status >= 500 {
		a.log.Error("request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", fault.Status), zap.String("code", fault.Code), zap.String("detail", fault.Detail))
	}
	a.write(w, r, f, fault.Status, xmlapi.FaultNode(fault.Fault))
}
