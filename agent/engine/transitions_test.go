package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/netconftest"
)

// TestEngineTransitions drives the engine, with a simulated kernel and no
// root, through every transition of a transaction in a random order, as
// tailscale's TestRouterStates drives its router over a fakeOS: writes that
// succeed (bonds, bridged and bridgeless networks, VLANs, static IPs, their
// removal, catalogue edits), refused ones, dry runs, a step refused by the
// kernel, a verification that fails, a connectivity check confirmed and
// one that times out, commits, a crash in the middle of the kernel writes
// and on either side of the commit point (the next engine recovers), a
// state directory that fails, a restart and a reboot (restore from the
// persistent configuration). After every transition it checks the running
// and persistent configurations and the catalogue against its model, the
// kernel against the running configuration (and, after a failure, against
// its image before), the kernel lines written, and that the request sent
// again writes nothing. Fixed seeds run always, and one fresh one; a
// failure prints its seed, replayed by HOSTNETD_ENGINE_SEED=n.
func TestEngineTransitions(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4}
	if s, err := strconv.ParseUint(os.Getenv("HOSTNETD_ENGINE_SEED"), 10, 64); err == nil {
		seeds = []uint64{s}
	} else {
		seeds = append(seeds, uint64(time.Now().UnixNano()))
	}
	extra := 30 // random writes besides one of each transition
	if testing.Short() {
		extra = 10
	}
	// The seeds run side by side, all of them: most of their time is the
	// connectivity timeout and the verification's retries, waits that
	// t.Parallel would ration to one seed a core.
	var wg sync.WaitGroup
	for _, seed := range seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
				w := newEngineWorld(t, seed)
				seq := w.sequence(extra)
				for _, tr := range seq {
					w.run(tr)
				}
				t.Logf("seed %d: %d transitions, %d steps of the model", seed, len(seq), len(w.history))
			})
		}()
	}
	wg.Wait()
}

// transition is one kind of step of the random sequence.
type transition string

const (
	trWrite          transition = "write"           // a random request, through
	trDryRun         transition = "dry run"         // planned, not applied; then applied
	trFailStep       transition = "fail step"       // the kernel refuses step k
	trVerifyFail     transition = "verify fails"    // the kernel lies; verification fails
	trConfirm        transition = "confirm"         // a connectivity check, confirmed
	trLostConnection transition = "lost connection" // a connectivity check, timed out
	trCommit         transition = "commit"          // running becomes persistent
	trStateFail      transition = "state fails"     // the state directory refuses running.json
	trCrashApply     transition = "crash in apply"  // killed before step k; recovered
	trCrashBefore    transition = "crash before commit"
	trCrashAfter     transition = "crash after commit"
	trRestart        transition = "restart" // a clean restart in the same boot
	trReboot         transition = "reboot"  // the kernel loses everything; restore
	trRollbackFails  transition = "rollback fails"
)

var everyTransition = []transition{trWrite, trDryRun, trFailStep, trVerifyFail, trConfirm, trLostConnection,
	trCommit, trStateFail, trCrashApply, trCrashBefore, trCrashAfter, trRestart, trReboot, trRollbackFails}

// engineWorld is an engine over a fake kernel, with the model the checks
// compare it to.
type engineWorld struct {
	t       *testing.T
	seed    uint64
	rng     *rand.Rand
	fake    *fakeKernel
	nics    []string
	lock    *engine.StateLock
	state   string // the state directory, kept across restarts
	runDir  string // the run directory, new at each boot
	e       *engine.Engine
	history []string

	// The model: what the engine must hold.
	nets       []*netconf.Network
	running    *netconf.Config
	persistent *netconf.Config

	hookMu sync.Mutex
	hook   func(op, name string) error // the StateHook of the next write
}

func newEngineWorld(t *testing.T, seed uint64) *engineWorld {
	nics := []string{"eth0", "eth1", "eth2", "eth3", "eth4", "eth5"}
	w := &engineWorld{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 23)), fake: newFakeKernel(nics...), nics: nics,
		state: t.TempDir(), runDir: t.TempDir(), running: &netconf.Config{}, persistent: &netconf.Config{}}
	// The lock is the test's: an engine killed in a crash keeps running
	// (blocked), and the next one must use the directory all the same.
	lock, err := engine.LockStateDir(w.state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lock.Release)
	w.lock = lock
	w.start()
	nets := netconftest.Catalogue()
	if _, err := w.e.EditCatalogue(context.Background(), func([]*netconf.Network, *netconf.Config) ([]*netconf.Network, netconf.ChangeSet, error) {
		return nets, netconf.ChangeSet{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	w.nets = nets
	w.check("start")
	return w
}

// start makes an engine on the world's directories and brings it up as
// the daemon does: recover an interrupted transaction, then restore.
func (w *engineWorld) start() {
	w.t.Helper()
	e, err := engine.New(zaptest.NewLogger(w.t, zaptest.Level(zapcore.WarnLevel)), engine.Options{
		Kernel: w.fake, StateDir: w.state, RunDir: w.runDir, StateLock: w.lock,
		WriteWait: 100 * time.Millisecond, StateHook: w.stateHook,
	})
	if err != nil {
		w.fatalf("engine.New: %v", err)
	}
	ctx := context.Background()
	if err := e.Recover(ctx); err != nil {
		w.fatalf("Recover: %v", err)
	}
	if err := e.Writable(); engine.KindOf(err) != engine.Restoring {
		w.fatalf("before restore, Writable: %v; want restoring", err)
	}
	if err := e.Restore(ctx); err != nil {
		w.fatalf("Restore: %v", err)
	}
	if err := e.Writable(); err != nil {
		w.fatalf("after restore, Writable: %v", err)
	}
	w.e = e
}

func (w *engineWorld) stateHook(op, name string) error {
	w.hookMu.Lock()
	hook := w.hook
	w.hookMu.Unlock()
	if hook == nil {
		return nil
	}
	return hook(op, name)
}

func (w *engineWorld) setHook(h func(op, name string) error) {
	w.hookMu.Lock()
	defer w.hookMu.Unlock()
	w.hook = h
}

func (w *engineWorld) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d (replay: HOSTNETD_ENGINE_SEED=%d), after:\n  %s\n%s", w.seed, w.seed,
		strings.Join(w.history, "\n  "), fmt.Sprintf(format, args...))
}

func (w *engineWorld) note(format string, args ...any) {
	w.history = append(w.history, fmt.Sprintf(format, args...))
}

// sequence is every transition once and extra random writes, shuffled.
func (w *engineWorld) sequence(extra int) []transition {
	seq := slices.Clone(everyTransition)
	cheap := []transition{trWrite, trWrite, trWrite, trWrite, trDryRun, trFailStep, trCommit, trStateFail, trCrashApply,
		trCrashBefore, trCrashAfter, trRestart, trReboot, trConfirm}
	for range extra {
		seq = append(seq, cheap[w.rng.IntN(len(cheap))])
	}
	w.rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
	return seq
}

func (w *engineWorld) run(tr transition) {
	w.t.Helper()
	switch tr {
	case trWrite:
		w.write(w.request(false))
	case trDryRun:
		w.dryRun()
	case trFailStep:
		w.failStep()
	case trVerifyFail:
		w.verifyFail()
	case trConfirm:
		w.confirmed()
	case trLostConnection:
		w.lostConnection()
	case trCommit:
		w.commit()
	case trStateFail:
		w.stateFail()
	case trCrashApply:
		w.crashInApply()
	case trCrashBefore, trCrashAfter:
		w.crashAtCommit(tr == trCrashAfter)
	case trRestart:
		w.restart()
	case trReboot:
		w.reboot()
	case trRollbackFails:
		w.rollbackFails()
	}
}

// change is a request the world sends: a setupnetworks, or a catalogue
// edit with the request that goes with it.
type change struct {
	desc  string
	cs    netconf.ChangeSet
	nets  []*netconf.Network // nil: the catalogue is unchanged
	async bool               // a setupnetworks sent async (TransactAsync)
}

// request is a random change, as the model test makes them: attach a
// network (with or without a static IP and gateway) to a NIC or a bond,
// detach one, make or change a bond, remove one, or edit a network
// (tag, bridge, MTU). Some are refused: a bond that does not exist, a NIC
// taken twice. commitOnSuccess asks a setupnetworks to make its change
// persistent too.
func (w *engineWorld) request(commitOnSuccess bool) change {
	var c change
	switch r := w.rng.IntN(100); {
	case r < 40:
		c = w.attach()
	case r < 55 && len(w.running.Attachments) > 0:
		a := w.running.Attachments[w.rng.IntN(len(w.running.Attachments))]
		c = change{desc: "detach " + a.NetworkID, cs: netconf.ChangeSet{RemovedAttachments: []netconf.AttachmentRef{{ID: a.ID}}}}
	case r < 72:
		c = w.bond()
	case r < 80 && len(w.running.Bonds) > 0:
		b := w.running.Bonds[w.rng.IntN(len(w.running.Bonds))]
		c = change{desc: "remove bond " + b.Name, cs: netconf.ChangeSet{RemovedBonds: []netconf.Ref{{Name: b.Name}}}}
		for _, a := range w.running.Attachments {
			if a.Nic == b.Name {
				c.cs.RemovedAttachments = append(c.cs.RemovedAttachments, netconf.AttachmentRef{ID: a.ID})
			}
		}
	case r < 92:
		c = w.editNetwork()
	default:
		c = w.attach()
	}
	// commit_on_success is setupnetworks': a catalogue edit has none
	// (EditCatalogue stores an edit that moves no attachment without a
	// transaction, and without making it persistent).
	c.cs.CommitOnSuccess = commitOnSuccess && c.nets == nil
	c.async = c.nets == nil && w.rng.IntN(4) == 0
	if c.async {
		c.desc += " (async)"
	}
	return c
}

func (w *engineWorld) attach() change {
	i := w.rng.IntN(len(w.nets))
	net := w.nets[i]
	devs := slices.Clone(w.nics)
	for _, b := range w.running.Bonds {
		devs = append(devs, b.Name)
	}
	devs = append(devs, "bond9") // no such bond: refused
	dev := devs[w.rng.IntN(len(devs))]
	ac := netconf.AttachmentChange{Network: &netconf.Ref{ID: net.ID}, Nic: &netconf.Ref{Name: dev}}
	ip := ""
	switch w.rng.IntN(3) {
	case 1:
		ip = fmt.Sprintf("10.%d.0.10/24", i)
		ac.IP = &[]netconf.RawIPAssignment{{Method: "static", Version: "v4", Address: fmt.Sprintf("10.%d.0.10", i), Netmask: "24"}}
	case 2:
		ip = fmt.Sprintf("10.%d.0.10/24 via 10.%d.0.1", i, i)
		ac.IP = &[]netconf.RawIPAssignment{{Method: "static", Version: "v4", Address: fmt.Sprintf("10.%d.0.10", i), Netmask: "24", Gateway: fmt.Sprintf("10.%d.0.1", i)}}
	}
	return change{desc: fmt.Sprintf("attach %s to %s %s", net.Name, dev, ip), cs: netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{ac}}}
}

func (w *engineWorld) bond() change {
	bc, desc := netconftest.RandomBond(w.rng, w.nics)
	return change{desc: desc, cs: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{bc}}}
}

// editNetwork edits the catalogue; half the time with an attachment in
// the same request (as a label moves one), so that the edit changes the
// running configuration too.
func (w *engineWorld) editNetwork() change {
	nets, desc := netconftest.RandomNetworkEdit(w.rng, w.nets)
	c := change{desc: desc, nets: nets}
	if w.rng.IntN(2) == 0 {
		a := w.attach()
		c.desc += ", " + a.desc
		c.cs = a.cs
	}
	return c
}

// send makes the change through the engine's API: a catalogue edit, or a
// setupnetworks.
func (w *engineWorld) send(c change) (engine.Result, error) {
	ctx := context.Background()
	if c.nets != nil {
		return w.e.EditCatalogue(ctx, func([]*netconf.Network, *netconf.Config) ([]*netconf.Network, netconf.ChangeSet, error) {
			return c.nets, c.cs, nil
		})
	}
	if !c.async {
		return w.e.Transact(ctx, engine.Change{Request: c.cs})
	}
	type outcome struct {
		res engine.Result
		err error
	}
	done := make(chan outcome, 1)
	if err := w.e.TransactAsync(ctx, engine.Change{Request: c.cs}, func(res engine.Result, err error) { done <- outcome{res, err} }); err != nil {
		return engine.Result{}, err // refused before it went to the background
	}
	o := <-done
	// done is called just before the writer slot is let go: the next
	// write would wait for it (WriteWait), the checks must.
	for w.e.Busy() {
		time.Sleep(time.Millisecond)
	}
	return o.res, o.err
}

// planned finds a change that the engine accepts and that writes the
// kernel, by dry runs; false when none turned up.
func (w *engineWorld) planned() (change, netconf.Plan, bool) {
	return w.plannedSuch(func(netconf.Plan) bool { return true })
}

// plannedSuch is planned for a plan that ok accepts.
func (w *engineWorld) plannedSuch(ok func(netconf.Plan) bool) (change, netconf.Plan, bool) {
	w.t.Helper()
	for range 20 {
		c := w.request(false)
		dr, err := w.e.DryRun(context.Background(), engine.Change{Request: c.cs, Networks: c.nets})
		if err == nil && len(dr.Steps) > 0 && ok(dr.Steps) {
			return c, dr.Steps, true
		}
		if lines, _ := w.fake.take(); len(lines) > 0 {
			w.fatalf("a dry run wrote the kernel:\n%s", strings.Join(lines, "\n"))
		}
	}
	return change{}, nil, false
}

// write sends c and checks the outcome: applied, and then sent again
// without a write; or refused with nothing written.
func (w *engineWorld) write(c change) {
	w.t.Helper()
	before := w.fake.image()
	res, err := w.send(c)
	lines, _ := w.fake.take()
	if err != nil {
		w.refused(c.desc, err, lines, before)
		return
	}
	w.note("%s: %d steps", c.desc, len(res.Plan))
	w.applied(c, res, lines)
}

// applied checks a successful write and takes its outcome into the model.
func (w *engineWorld) applied(c change, res engine.Result, lines []string) {
	w.t.Helper()
	if want := planLines(res.Plan); !slices.Equal(lines, want) {
		w.fatalf("the kernel got other lines than the plan:\n--- kernel\n%s\n--- plan\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if res.Writes != len(res.Plan) {
		w.fatalf("%d writes of a plan of %d", res.Writes, len(res.Plan))
	}
	if res.Running == nil {
		w.fatalf("a successful write returned no running configuration")
	}
	w.running = res.Running
	if c.nets != nil {
		w.nets = c.nets
	}
	if c.cs.CommitOnSuccess {
		w.persistent = res.Running
	}
	w.check(c.desc)
	w.resend(c)
}

// resend sends a change that was just applied once more: nothing to do.
func (w *engineWorld) resend(c change) {
	w.t.Helper()
	res, err := w.send(c)
	lines, _ := w.fake.take()
	removes := len(c.cs.RemovedAttachments) > 0 || len(c.cs.RemovedBonds) > 0
	switch {
	case removes && engine.KindOf(err).Rejected() && len(lines) == 0:
		// What it removed is gone: it cannot be removed again.
	case err != nil:
		w.fatalf("%s sent again: %v", c.desc, err)
	case res.Writes != 0 || len(res.Plan) != 0 || len(lines) != 0:
		w.fatalf("%s sent again wrote %d steps:\n%s", c.desc, res.Writes, strings.Join(lines, "\n"))
	case !res.Running.Equal(w.running):
		w.fatalf("%s sent again changed the running configuration", c.desc)
	}
	w.check(c.desc + " (again)")
}

// refused checks a write that the engine turned down before any write.
func (w *engineWorld) refused(desc string, err error, lines []string, before string) {
	w.t.Helper()
	w.note("%s: refused (%s)", desc, engine.KindOf(err))
	if !engine.KindOf(err).Rejected() {
		w.fatalf("%s failed, not refused: %v\nkernel lines:\n%s", desc, err, strings.Join(lines, "\n"))
	}
	if len(lines) > 0 {
		w.fatalf("%s was refused (%v) but wrote:\n%s", desc, err, strings.Join(lines, "\n"))
	}
	w.unchanged(desc, before)
}

// rolledBack checks a write that failed after writing the kernel: the
// kind of its error, and everything as it was.
func (w *engineWorld) rolledBack(desc string, err error, want engine.Kind, before string) {
	w.t.Helper()
	if got := engine.KindOf(err); got != want {
		w.fatalf("%s: %v (%s); want %s", desc, err, got, want)
	}
	w.fake.take()
	w.unchanged(desc, before)
}

// unchanged checks that the kernel is what it was and the model holds.
func (w *engineWorld) unchanged(desc, before string) {
	w.t.Helper()
	if got := w.fake.image(); got != before {
		w.fatalf("%s: the kernel changed:\n--- before\n%s--- after\n%s", desc, before, got)
	}
	w.check(desc)
}

// check compares the engine to the model: the catalogue, the running and
// persistent configurations, the kernel against the running configuration
// with nothing out of sync, no journal left, and the writer slot free.
func (w *engineWorld) check(desc string) {
	w.t.Helper()
	nets, running := w.e.Snapshot()
	if !running.Equal(w.running) {
		w.fatalf("%s: the running configuration is\n%s\nwant\n%s", desc, jsonOf(running), jsonOf(w.running))
	}
	if got, want := jsonOf(nets), jsonOf(w.nets); got != want {
		w.fatalf("%s: the catalogue is\n%s\nwant\n%s", desc, got, want)
	}
	persistent := &netconf.Config{}
	if data, err := os.ReadFile(filepath.Join(w.state, "persistent.json")); err == nil {
		if err := json.Unmarshal(data, persistent); err != nil {
			w.fatalf("%s: persistent.json: %v", desc, err)
		}
	}
	if !persistent.Equal(w.persistent) {
		w.fatalf("%s: the persistent configuration is\n%s\nwant\n%s", desc, jsonOf(persistent), jsonOf(w.persistent))
	}
	if dirty := !w.running.Equal(w.persistent); w.e.Dirty() != dirty {
		w.fatalf("%s: Dirty() = %v; want %v", desc, !dirty, dirty)
	}
	st := w.fake.state()
	target := netconf.BuildTarget(running, nets)
	if err := netconf.Verify(target, target, st); err != nil {
		w.fatalf("%s: the kernel does not run the running configuration: %v\n%s", desc, err, st.Dump())
	}
	if drifted := w.e.Drifted(st); len(drifted) > 0 {
		w.fatalf("%s: attachments out of sync: %v", desc, drifted)
	}
	if w.e.Busy() {
		w.fatalf("%s: the writer slot is still held", desc)
	}
	left, _ := filepath.Glob(filepath.Join(w.state, "journal.json*"))
	if len(left) > 0 {
		w.fatalf("%s: journal files left: %v", desc, left)
	}
}

func jsonOf(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

func planLines(p netconf.Plan) []string {
	var out []string
	for _, s := range p {
		out = append(out, s.String())
	}
	return out
}

// dryRun plans a change without writing, then applies it: the plan must
// be the one the dry run showed.
func (w *engineWorld) dryRun() {
	w.t.Helper()
	c := w.request(false)
	before := w.fake.image()
	dr, derr := w.e.DryRun(context.Background(), engine.Change{Request: c.cs, Networks: c.nets})
	if lines, _ := w.fake.take(); len(lines) > 0 {
		w.fatalf("dry run of %s wrote:\n%s", c.desc, strings.Join(lines, "\n"))
	}
	w.unchanged("dry run of "+c.desc, before)
	res, err := w.send(c)
	lines, _ := w.fake.take()
	if (derr == nil) != (err == nil) || engine.KindOf(derr) != engine.KindOf(err) {
		w.fatalf("dry run of %s: %v; the write: %v", c.desc, derr, err)
	}
	if err != nil {
		w.refused("dry run, then "+c.desc, err, lines, before)
		return
	}
	if got, want := planLines(res.Plan), planLines(dr.Steps); !slices.Equal(got, want) {
		w.fatalf("%s: the plan differs from its dry run's:\n--- dry run\n%s\n--- plan\n%s", c.desc, strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	w.note("dry run, then %s: %d steps", c.desc, len(res.Plan))
	w.applied(c, res, lines)
}

// failStep has the kernel refuse a random step of a change's plan: the
// steps before it are undone, exactly.
func (w *engineWorld) failStep() {
	w.t.Helper()
	c, plan, ok := w.planned()
	if !ok {
		return
	}
	k := w.rng.IntN(len(plan))
	w.note("%s: the kernel refuses step %d of %d (%s)", c.desc, k, len(plan), plan[k])
	before := w.fake.image()
	w.fake.failAt(k)
	res, err := w.send(c)
	w.fake.disarm()
	lines, _ := w.fake.take()
	if res.Writes != k {
		w.fatalf("%d writes reported; the kernel made %d", res.Writes, k)
	}
	if len(lines) < k || !slices.Equal(lines[:k], planLines(plan[:k])) {
		w.fatalf("the kernel lines before the rollback are not the plan's first %d:\n%s", k, strings.Join(lines, "\n"))
	}
	w.rolledBack(c.desc, err, engine.ApplyFailed, before)
}

// verifyFail has the kernel lie: it misreports a device the change
// creates, or says yes to a step it does not make. Verification fails
// and the change is undone.
func (w *engineWorld) verifyFail() {
	w.t.Helper()
	c, plan, ok := w.plannedSuch(func(p netconf.Plan) bool { return droppable(p) >= 0 })
	if !ok {
		w.note("verify fails: no change to make fail")
		return
	}
	if slices.ContainsFunc(plan, func(s netconf.Step) bool { return s.Op == netconf.OpLinkAdd }) && w.rng.IntN(2) == 0 {
		w.note("%s: the read-back lies", c.desc)
		w.fake.lieOnReadBack()
	} else {
		i := droppable(plan)
		w.note("%s: the kernel drops step %d (%s)", c.desc, i, plan[i])
		w.fake.dropAt(i)
	}
	before := w.fake.image()
	_, err := w.send(c)
	w.fake.disarm()
	w.rolledBack(c.desc, err, engine.ApplyFailed, before)
}

// confirmed sends a change that waits for a connectivity confirmation,
// and confirms it.
func (w *engineWorld) confirmed() {
	w.t.Helper()
	c, _, ok := w.planned()
	if !ok {
		return
	}
	c.cs.CheckConnectivity, c.cs.ConnectivityTimeout = true, "30"
	if err := w.e.Confirm(); engine.KindOf(err) != engine.Conflict {
		w.fatalf("a confirmation with nothing waiting: %v; want conflict", err)
	}
	type outcome struct {
		res engine.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := w.send(c)
		done <- outcome{res, err}
	}()
	// While it runs, another write and a dry run wait their WriteWait for
	// the writer slot, and are told the host is busy.
	for !w.e.Busy() {
		time.Sleep(time.Millisecond)
	}
	other := w.request(false)
	if _, err := w.e.Transact(context.Background(), engine.Change{Request: other.cs, Networks: other.nets}); engine.KindOf(err) != engine.Busy {
		w.fatalf("%s while %s waits for its confirmation: %v; want busy", other.desc, c.desc, err)
	}
	if _, err := w.e.DryRun(context.Background(), engine.Change{Request: other.cs, Networks: other.nets}); engine.KindOf(err) != engine.Busy {
		w.fatalf("a dry run of %s while %s waits for its confirmation: %v; want busy", other.desc, c.desc, err)
	}
	// The manager polls until its confirmation lands, as the oVirt engine
	// does; the change waits for it up to its timeout.
	deadline := time.Now().Add(20 * time.Second)
	for w.e.Confirm() != nil {
		if time.Now().After(deadline) {
			w.fatalf("%s: no connectivity check to confirm", c.desc)
		}
		time.Sleep(time.Millisecond)
	}
	o := <-done
	lines, _ := w.fake.take()
	if o.err != nil {
		w.fatalf("%s, confirmed: %v", c.desc, o.err)
	}
	w.note("%s, connectivity confirmed: %d steps", c.desc, len(o.res.Plan))
	w.applied(c, o.res, lines)
}

// lostConnection sends a change that waits for a connectivity
// confirmation that never comes: it is undone after its timeout.
func (w *engineWorld) lostConnection() {
	w.t.Helper()
	c, _, ok := w.planned()
	if !ok {
		return
	}
	c.cs.CheckConnectivity, c.cs.ConnectivityTimeout = true, "1"
	w.note("%s: connectivity never confirmed", c.desc)
	before := w.fake.image()
	_, err := w.send(c)
	w.rolledBack(c.desc, err, engine.LostConnection, before)
}

// commit makes the running configuration persistent, by commitnetconfig
// or by a write's commit_on_success.
func (w *engineWorld) commit() {
	w.t.Helper()
	if w.rng.IntN(2) == 0 {
		w.write(w.request(true))
		return
	}
	if err := w.e.Commit(context.Background()); err != nil {
		w.fatalf("Commit: %v", err)
	}
	if lines, _ := w.fake.take(); len(lines) > 0 {
		w.fatalf("a commit wrote the kernel:\n%s", strings.Join(lines, "\n"))
	}
	w.persistent = w.running
	w.note("commit")
	w.check("commit")
}

// stateFail has the state directory refuse running.json (a full disk):
// the change is undone; or refuse persistent.json after running.json
// (commit_on_success): the change stands, not persistent.
func (w *engineWorld) stateFail() {
	w.t.Helper()
	c, _, ok := w.planned()
	if !ok {
		return
	}
	persistentFails := w.rng.IntN(2) == 0
	file := "running.json"
	if persistentFails {
		c.cs.CommitOnSuccess = true
		file = "persistent.json"
	}
	w.note("%s: %s cannot be stored", c.desc, file)
	full := errors.New("no space left on device (injected)")
	w.setHook(func(op, name string) error {
		if op == "rename" && name == file {
			return full
		}
		return nil
	})
	before := w.fake.image()
	res, err := w.send(c)
	w.setHook(nil)
	if !persistentFails {
		w.rolledBack(c.desc, err, engine.StateWriteFailed, before)
		return
	}
	lines, _ := w.fake.take()
	switch {
	case err == nil && res.Running.Equal(w.persistent):
		// The change went back to the persistent configuration: there
		// was nothing to store there.
	case engine.KindOf(err) != engine.StateWriteFailed || res.Running == nil:
		w.fatalf("%s with persistent.json failing: %v (running %v); want state write failed, applied", c.desc, err, res.Running != nil)
	default:
		c.cs.CommitOnSuccess = false // applied and running, not persistent
	}
	w.applied(c, res, lines)
}

// crashInApply kills the engine before a random step of a change's plan;
// the next engine rolls the kernel back before anything else.
func (w *engineWorld) crashInApply() {
	w.t.Helper()
	c, plan, ok := w.planned()
	if !ok {
		return
	}
	k := w.rng.IntN(len(plan))
	w.note("%s: killed before step %d of %d", c.desc, k, len(plan))
	before := w.fake.image()
	crashed := w.fake.crashAt(k)
	go func() { _, _ = w.send(c) }() // it never returns
	<-crashed
	w.fake.take()
	w.start()
	w.fake.take() // the rollback
	w.unchanged("recovery of "+c.desc, before)
}

// crashAtCommit kills the engine on either side of the commit point, the
// rename of running.json: before it, the next engine rolls the kernel
// back; after it, the change stands.
func (w *engineWorld) crashAtCommit(after bool) {
	w.t.Helper()
	c, _, ok := w.planned()
	if !ok {
		return
	}
	op := "rename"
	if after {
		op = "replace"
	}
	w.note("%s: killed at the %s of running.json", c.desc, op)
	crashed := make(chan struct{})
	w.setHook(func(o, name string) error {
		if o == op && name == "running.json" {
			close(crashed)
			select {} // killed
		}
		return nil
	})
	before, old := w.fake.image(), w.running
	go func() { _, _ = w.send(c) }()
	<-crashed
	w.setHook(nil)
	w.start()
	w.fake.take() // the plan, and the rollback
	nets, running := w.e.Snapshot()
	// Before the commit point the change is rolled back, unless running.json
	// had nothing new to store: a catalogue edit that leaves the running
	// configuration as it was has its commit point at the rename of
	// networks.json, earlier, and stands.
	if !after && w.fake.image() == before {
		w.unchanged("recovery of "+c.desc, before)
		return
	}
	if !after && !running.Equal(old) {
		w.fatalf("recovery before the commit point of %s kept a running configuration that was not stored", c.desc)
	}
	if running.Equal(old) && jsonOf(nets) == jsonOf(w.nets) {
		w.fatalf("recovery of %s: the kernel changed, the configuration did not", c.desc)
	}
	// The change stands, as the state directory says: the model takes it
	// from there, and sending it again writes nothing.
	w.running = running
	if c.nets != nil {
		w.nets = c.nets
	}
	w.check("recovery of " + c.desc)
	w.resend(c)
}

// restart stops the engine and starts another in the same boot: nothing
// changes, restore is skipped.
func (w *engineWorld) restart() {
	w.t.Helper()
	w.note("restart")
	before := w.fake.image()
	w.e.Close()
	w.start()
	if lines, _ := w.fake.take(); len(lines) > 0 {
		w.fatalf("a restart wrote the kernel:\n%s", strings.Join(lines, "\n"))
	}
	w.unchanged("restart", before)
}

// reboot loses the kernel's configuration and the run directory: the next
// engine restores the persistent configuration, which runs again.
func (w *engineWorld) reboot() {
	w.t.Helper()
	w.note("reboot")
	w.e.Close()
	w.fake.reboot(w.nics...)
	w.runDir = w.t.TempDir()
	if w.rng.IntN(2) == 0 {
		// The kernel refuses a step of the whole configuration: restore
		// goes entity by entity, and each one goes through.
		w.note("reboot: restore fails at a step")
		w.fake.failAt(0)
	}
	w.start()
	w.fake.disarm() // (when the persistent configuration is empty, there was no plan)
	w.fake.take()
	w.running = w.persistent
	w.check("restore after a reboot")
}

// rollbackFails has the kernel refuse a step of a change and then a step
// of its rollback: the host is left half-configured, the error says so
// and the journal is set aside, never to block the next transaction. An
// administrator then reboots, and restore brings the persistent
// configuration back.
func (w *engineWorld) rollbackFails() {
	w.t.Helper()
	// At least one step made, or the rollback has nothing to do.
	c, plan, ok := w.plannedSuch(func(p netconf.Plan) bool { return len(p) >= 2 })
	if !ok {
		return
	}
	k := 1 + w.rng.IntN(len(plan)-1)
	w.note("%s: the kernel refuses step %d of %d, and the rollback's first", c.desc, k, len(plan))
	w.fake.failAt(k, 0)
	_, err := w.send(c)
	w.fake.disarm()
	w.fake.take()
	if engine.KindOf(err) != engine.RollbackFailed {
		w.fatalf("%s: %v (%s); want rollback failed", c.desc, err, engine.KindOf(err))
	}
	if _, running := w.e.Snapshot(); !running.Equal(w.running) {
		w.fatalf("%s: a failed change became the running configuration", c.desc)
	}
	aside, _ := filepath.Glob(filepath.Join(w.state, "journal.json.failed-*"))
	if len(aside) != 1 {
		w.fatalf("%s: journals set aside: %v; want one", c.desc, aside)
	}
	for _, f := range aside { // read by the administrator, and put away
		if err := os.Remove(f); err != nil {
			w.fatalf("%v", err)
		}
	}
	w.reboot()
}
