package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Transaction results, as logged and counted (hostnetd_transactions_total).
const (
	txApplied        = "applied"         // the kernel changed, was verified and committed
	txUnchanged      = "unchanged"       // nothing to write to the kernel
	txRejected       = "rejected"        // refused before any kernel write (validation, a conflict)
	txRolledBack     = "rolled_back"     // a step, the verification or the connectivity check failed; undone
	txRollbackFailed = "rollback_failed" // and undoing it failed too
	txFailed         = "failed"          // any other error
)

// txRecord follows one transaction from its start to its one log line.
// Only the goroutine that holds the writer slot touches it.
type txRecord struct {
	id, kind string
	start    time.Time
	// applied: the plan reached the kernel; rollback: "", "ok" or "failed".
	applied  bool
	rollback string
	// phases are how long planning (with its read of the kernel), the
	// kernel writes and the verification took.
	phases [phaseCount]time.Duration
}

// The phases of a transaction that its log line times.
const (
	phasePlan = iota
	phaseWrite
	phaseVerify
	phaseCount
)

var phaseNames = [phaseCount]string{"plan", "write", "verify"}

// notePhase records how long a phase of ctx's transaction took since start.
func notePhase(ctx context.Context, phase int, start time.Time) {
	if tx := txFrom(ctx); tx != nil {
		tx.phases[phase] += time.Since(start)
	}
}

type txKey struct{}

// beginTx gives a transaction its id and carries it in ctx, so that the
// hooks of apply and rollback (noteApply, noteRollback) find it.
func (e *Engine) beginTx(ctx context.Context, kind string) (context.Context, *txRecord) {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	tx := &txRecord{id: hex.EncodeToString(b[:]), kind: kind, start: time.Now()}
	e.notify("STATUS=" + e.busyStatus(tx.id))
	return context.WithValue(ctx, txKey{}, tx), tx
}

func txFrom(ctx context.Context) *txRecord {
	tx, _ := ctx.Value(txKey{}).(*txRecord)
	return tx
}

// txID is the id of ctx's transaction, for debug lines.
func txID(ctx context.Context) string {
	if tx := txFrom(ctx); tx != nil {
		return tx.id
	}
	return ""
}

// endTx writes the transaction's one log line (info; warn when it was
// rolled back or failed; error when its rollback failed), counts it and
// updates systemd's STATUS=.
func (e *Engine) endTx(tx *txRecord, res Result, err error) {
	result := tx.result(res, err)
	e.metrics.transaction(result)
	fields := []zap.Field{zap.String("transaction", tx.id), zap.String("kind", tx.kind), zap.String("result", result),
		zap.Duration("duration", time.Since(tx.start)), zap.Int("steps", len(res.Plan)), zap.Int("kernel_writes", res.Writes)}
	for i, d := range tx.phases {
		if d > 0 {
			fields = append(fields, zap.Duration(phaseNames[i], d))
		}
	}
	var f *Error
	switch {
	case errors.As(err, &f):
		fields = append(fields, zap.String("code", f.Code), zap.String("detail", f.Detail))
	case err != nil:
		fields = append(fields, zap.Error(err))
	}
	msg := "transaction " + strings.ReplaceAll(result, "_", " ")
	switch result {
	case txRollbackFailed:
		e.log.Error(msg, fields...)
	case txRolledBack, txFailed:
		e.log.Warn(msg, fields...)
	default:
		e.log.Info(msg, fields...)
	}
	e.notify("STATUS=" + e.idleStatus() + "; last transaction " + tx.id + ": " + result)
}

func (tx *txRecord) result(res Result, err error) string {
	var f *Error
	switch {
	case tx.rollback == "failed":
		return txRollbackFailed
	case tx.rollback == "ok":
		return txRolledBack
	case err == nil && len(res.Plan) == 0:
		return txUnchanged
	case err == nil:
		return txApplied
	case !tx.applied && errors.As(err, &f) && f.Kind.Rejected():
		return txRejected
	default:
		return txFailed
	}
}

// noteApply is the hook after a plan was applied and verified (or failed
// to): its duration and writes are measured.
func (e *Engine) noteApply(ctx context.Context, start time.Time, writes int) {
	e.metrics.apply(time.Since(start), writes)
	if tx := txFrom(ctx); tx != nil {
		tx.applied = true
	}
}

// noteRollback is the hook after a transaction's rollback.
func (e *Engine) noteRollback(ctx context.Context, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	e.metrics.rollback(outcome)
	if tx := txFrom(ctx); tx != nil {
		tx.rollback = outcome
	}
}
