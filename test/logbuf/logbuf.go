// Package logbuf holds the log of a process a test runs: exec writes it
// from its own goroutine while the test reads it.
package logbuf

import (
	"bytes"
	"context"
	"sync"
)

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// written is made by a Wait and closed by the next Write: the
	// event Wait waits for.
	written chan struct{}
}

func (w *Buffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written != nil {
		close(w.written)
		w.written = nil
	}
	return w.b.Write(p)
}

// String is what was written so far.
func (w *Buffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Wait returns what was written so far as soon as done holds for it,
// looking again after each write, or ctx's error when ctx ends first.
func (w *Buffer) Wait(ctx context.Context, done func(log string) bool) (string, error) {
	for {
		w.mu.Lock()
		s := w.b.String()
		if w.written == nil {
			w.written = make(chan struct{})
		}
		written := w.written
		w.mu.Unlock()
		if done(s) {
			return s, nil
		}
		select {
		case <-written:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}
