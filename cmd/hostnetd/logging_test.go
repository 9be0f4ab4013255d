package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"
)

func TestJournalStreamMatchesOnlyItsOwnStream(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if !journalStream(f) {
		t.Error("the stream named by JOURNAL_STREAM is not recognised")
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1))
	if journalStream(f) {
		t.Error("a redirected stream is taken for the journal")
	}
	t.Setenv("JOURNAL_STREAM", "")
	if journalStream(f) {
		t.Error("no JOURNAL_STREAM, yet the journal")
	}
}

// encode renders one entry as the daemon's logger would.
func encode(t *testing.T, journal bool, level zapcore.Level) string {
	t.Helper()
	cfg, err := loggerConfig("debug", journal)
	if err != nil {
		t.Fatal(err)
	}
	buf, err := zapcore.NewConsoleEncoder(cfg.EncoderConfig).EncodeEntry(zapcore.Entry{
		Level: level, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Message: "transaction applied"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestJournalLinesCarryPriorityAndNoTime(t *testing.T) {
	for level, prefix := range map[zapcore.Level]string{
		zapcore.DebugLevel: "<7>debug\t", zapcore.InfoLevel: "<6>info\t",
		zapcore.WarnLevel: "<4>warn\t", zapcore.ErrorLevel: "<3>error\t",
	} {
		if line := encode(t, true, level); !strings.HasPrefix(line, prefix) || strings.Contains(line, "2026") {
			t.Errorf("journal line at %v: %q; want it to start with %q and carry no time", level, line, prefix)
		}
	}
	if line := encode(t, false, zapcore.InfoLevel); !strings.HasPrefix(line, "2026-01-02T03:04:05.000Z\tinfo\t") {
		t.Errorf("terminal line: %q; want an ISO 8601 time first", line)
	}
	cfg, _ := loggerConfig("info", false)
	if cfg.Sampling != nil {
		t.Error("sampling is on: a burst of transactions could lose log lines")
	}
}
