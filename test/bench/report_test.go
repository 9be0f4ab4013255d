//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// results is what results.json holds: the run's context, the figures of
// every size and the targets, evaluated.
type results struct {
	Kernel  string
	CPUs    int
	Version string
	Started time.Time
	Sizes   []sizeResult
	Targets []target
}

// sizeResult are the figures of one S(N). Times are wall-clock seconds:
// for hostnetd from sending the request to reading the whole answer, for
// ip the whole process run.
type sizeResult struct {
	N int
	// Apply: hostnetd's setupnetworks against ip -batch.
	ApplySeconds    float64
	ApplyWrites     int // X-Hostnetd-Kernel-Writes
	ApplyIPSeconds  float64
	ApplyIPCommands int
	// ApplyPhases, RemovePhases and RestorePhases are the daemon's own
	// account of the transaction (its log line): duration, and the plan
	// (with its read of the kernel), write and verify phases, in seconds.
	ApplyPhases, RemovePhases, RestorePhases map[string]float64
	// The same request again: the median time of a few, the most writes.
	ReapplySeconds float64
	ReapplyWrites  int
	// Removal of the N attachments and the bond.
	RemoveSeconds    float64
	RemoveWrites     int
	RemoveIPSeconds  float64
	RemoveIPCommands int
	// GET /nics (XML) with everything in place, against one run of
	// ip -j -d addr show (the median of a few runs).
	GetNicsMedianSeconds float64
	GetNicsP99Seconds    float64
	GetNicsSeconds       []float64 // every read, in order
	GetNicsBytes         int
	IPAddrShowSeconds    float64
	IPAddrShowBytes      int
	// Restore at boot: from starting the process until it sent READY=1
	// (restore finished; systemd would start what is ordered after it),
	// and the duration restore logged itself.
	RestoreSeconds       float64
	RestoreLoggedSeconds float64
	// Memory of the daemon (VmRSS and VmHWM) right after the apply, and
	// of the restored daemon.
	RSSBytes             int64
	HWMBytes             int64
	RSSAfterRestoreBytes int64
	// SettleSeconds is how long the size waited in all for the machine to
	// settle before its timed phases.
	SettleSeconds float64
	// Peers are the other daemons on the same S(N), in the same VM run.
	Peers []peerResult
}

// target is one of the targets: a ratio (or a figure) and its
// limit.
type target struct {
	Name  string
	Value float64
	Limit float64
	Met   bool
}

func (r *results) size(n int) (sizeResult, bool) {
	for _, s := range r.Sizes {
		if s.N == n {
			return s, true
		}
	}
	return sizeResult{}, false
}

// evaluate computes issue 18's targets that the measured sizes allow: at
// every size, apply against ip -batch, the no-op re-apply (no kernel write,
// a small share of the apply), GET /nics' p99 against ip -j -d addr show
// and restore at boot against the apply; from 1000 to 4000 networks,
// linear apply, removal and restore; and the memory after S(4000).
func (r *results) evaluate() {
	add := func(name string, value, limit float64) {
		r.Targets = append(r.Targets, target{Name: name, Value: value, Limit: limit, Met: value <= limit})
	}
	for _, s := range r.Sizes {
		add(fmt.Sprintf("apply(%d) / ip -batch", s.N), s.ApplySeconds/s.ApplyIPSeconds, 0.8)
		add(fmt.Sprintf("re-apply(%d) kernel writes", s.N), float64(s.ReapplyWrites), 0)
		add(fmt.Sprintf("re-apply(%d) / apply(%d)", s.N, s.N), s.ReapplySeconds/s.ApplySeconds, 0.02)
		add(fmt.Sprintf("GET /nics(%d) p99 / ip -j -d addr show", s.N), s.GetNicsP99Seconds/s.IPAddrShowSeconds, 0.25)
		add(fmt.Sprintf("restore(%d) / apply(%d)", s.N, s.N), s.RestoreSeconds/s.ApplySeconds, 0.6)
	}
	if small, ok := r.size(1000); ok {
		if large, ok := r.size(4000); ok {
			add("apply(4000) / apply(1000)", large.ApplySeconds/small.ApplySeconds, 4.5)
			add("removal(4000) / removal(1000)", large.RemoveSeconds/small.RemoveSeconds, 4.5)
			add("restore(4000) / restore(1000)", large.RestoreSeconds/small.RestoreSeconds, 4.5)
		}
	}
	if s, ok := r.size(4000); ok {
		add("RSS after apply(4000), MB", float64(s.RSSBytes)/1e6, 60)
		add("RSS after restore(4000), MB", float64(s.RSSAfterRestoreBytes)/1e6, 60)
	}
}

// table renders the figures and the targets as text.
func (r *results) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hostnetd benchmark, kernel %s, %d CPUs, %s\n\n", r.Kernel, r.CPUs, r.Version)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "N\tmeasure\thostnetd\tbaseline\tratio\t")
	for _, s := range r.Sizes {
		row := func(measure, h, base string, ratio float64) {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%.2f\t\n", s.N, measure, h, base, ratio)
		}
		row("apply", fmt.Sprintf("%s (%d writes)", secs(s.ApplySeconds), s.ApplyWrites),
			fmt.Sprintf("%s (ip -batch, %d cmds)", secs(s.ApplyIPSeconds), s.ApplyIPCommands), s.ApplySeconds/s.ApplyIPSeconds)
		row("no-op re-apply", fmt.Sprintf("%s (%d writes)", secs(s.ReapplySeconds), s.ReapplyWrites),
			secs(s.ApplySeconds)+" (apply)", s.ReapplySeconds/s.ApplySeconds)
		row("removal", fmt.Sprintf("%s (%d writes)", secs(s.RemoveSeconds), s.RemoveWrites),
			fmt.Sprintf("%s (ip -batch, %d cmds)", secs(s.RemoveIPSeconds), s.RemoveIPCommands), s.RemoveSeconds/s.RemoveIPSeconds)
		row("GET /nics median", secs(s.GetNicsMedianSeconds), secs(s.IPAddrShowSeconds)+" (ip -j -d addr show)", s.GetNicsMedianSeconds/s.IPAddrShowSeconds)
		row("GET /nics p99", secs(s.GetNicsP99Seconds), secs(s.IPAddrShowSeconds)+" (ip -j -d addr show)", s.GetNicsP99Seconds/s.IPAddrShowSeconds)
		row("restore at boot", fmt.Sprintf("%s (logged %s)", secs(s.RestoreSeconds), secs(s.RestoreLoggedSeconds)),
			secs(s.ApplySeconds)+" (apply)", s.RestoreSeconds/s.ApplySeconds)
		row("restore at boot vs ip", secs(s.RestoreSeconds), secs(s.ApplyIPSeconds)+" (ip -batch)", s.RestoreSeconds/s.ApplyIPSeconds)
		for _, p := range []struct {
			what   string
			phases map[string]float64
		}{{"apply", s.ApplyPhases}, {"removal", s.RemovePhases}, {"restore", s.RestorePhases}} {
			fmt.Fprintf(w, "%d\t%s, in the daemon\t%s: plan %s, write %s, verify %s\t\t\t\n", s.N, p.what,
				secs(p.phases["duration"]), secs(p.phases["plan"]), secs(p.phases["write"]), secs(p.phases["verify"]))
		}
		for _, p := range s.Peers {
			peerRows(w, s, p)
		}
		fmt.Fprintf(w, "%d\tRSS after apply\t%.1f MB (peak %.1f)\t\t\t\n", s.N, float64(s.RSSBytes)/1e6, float64(s.HWMBytes)/1e6)
		fmt.Fprintf(w, "%d\tRSS after restore\t%.1f MB\t\t\t\n", s.N, float64(s.RSSAfterRestoreBytes)/1e6)
	}
	w.Flush()
	b.WriteString("\ntargets\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range r.Targets {
		verdict := "met"
		if !c.Met {
			verdict = "NOT MET"
		}
		fmt.Fprintf(w, "%s\t%.3g\t≤ %g\t%s\n", c.Name, c.Value, c.Limit, verdict)
	}
	w.Flush()
	return b.String()
}

func secs(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1f ms", s*1000)
	}
	return fmt.Sprintf("%.2f s", s)
}

func (r *results) json(t *testing.T) string {
	t.Helper()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "\n"
}

// peerRows are a peer's rows: hostnetd's figure against the peer's, the
// ratio hostnetd / peer, and whether the peer reached the baseline's end
// state.
func peerRows(w io.Writer, s sizeResult, p peerResult) {
	row := func(measure string, h, peer float64, note string) {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s (%s)%s\t%.3f\t\n", s.N, measure, secs(h), secs(peer), p.Peer, note, h/peer)
	}
	same := func(diff string) string {
		if diff == "" {
			return ", same end state"
		}
		return ", end state differs: " + strings.ReplaceAll(diff, "\n", " ")
	}
	switch p.Unfinished {
	case "", "removal":
	case "create":
		fmt.Fprintf(w, "%d\tvs %s\tnot finished within %s\t\t\t\n", s.N, p.Peer, peerLimit)
		return
	default:
		fmt.Fprintf(w, "%d\tvs %s\t%s\t\t\t\n", s.N, p.Peer, p.Unfinished)
		return
	}
	row("create vs peer", s.ApplySeconds, p.ApplySeconds, same(p.ApplyDiff))
	row("no-op vs peer", s.ReapplySeconds, p.ReapplySecs, fmt.Sprintf(", %d view changes", p.ReapplyChanges))
	if p.Unfinished == "removal" {
		fmt.Fprintf(w, "%d\tremoval vs %s\tnot finished within %s\t\t\t\n", s.N, p.Peer, peerLimit)
		return
	}
	row("removal vs peer", s.RemoveSeconds, p.RemoveSeconds, same(p.RemoveDiff))
}
