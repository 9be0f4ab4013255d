package integration

import "time"

// eventWait bounds a wait for an event a test needs (a daemon ready, a
// route installed, an event recorded). The test goes on as soon as the
// event happens; the bound only ends a wait that would otherwise hang, and
// is far above what a loaded machine running the VM's emulation takes.
const eventWait = 2 * time.Minute
