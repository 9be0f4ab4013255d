package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"
)

// newLogger builds the daemon's logger: console lines on stderr. When
// stderr is the journal (systemd's JOURNAL_STREAM names its device and
// inode), lines carry no time (the journal stamps every entry) and begin
// with a <N> syslog priority, which journald strips and keeps as the
// entry's priority (SyslogLevelPrefix=, on by default): `journalctl -p
// warning -u hostnetd` then shows exactly the warnings and errors.
func newLogger(level string) (*zap.Logger, error) {
	cfg, err := loggerConfig(level, journalStream(os.Stderr))
	if err != nil {
		return nil, err
	}
	return cfg.Build()
}

func loggerConfig(level string, journal bool) (zap.Config, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return zap.Config{}, fmt.Errorf("--log-level: %w", err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Encoding = "console"
	cfg.DisableStacktrace = true
	// Every transaction logs one line; sampling could drop some in a burst.
	cfg.Sampling = nil
	if journal {
		cfg.EncoderConfig.TimeKey = ""
		cfg.EncoderConfig.EncodeLevel = journalLevel
	} else {
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	return cfg, nil
}

// journalLevel writes the level with its syslog priority prefix.
func journalLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	prio := 6 // info
	switch {
	case l <= zapcore.DebugLevel:
		prio = 7
	case l == zapcore.WarnLevel:
		prio = 4
	case l == zapcore.ErrorLevel:
		prio = 3
	case l > zapcore.ErrorLevel:
		prio = 2
	}
	enc.AppendString("<" + strconv.Itoa(prio) + ">" + l.String())
}

// journalStream reports whether f is the stream systemd connected to the
// journal, as sd_journal_stream_fd(3) documents: $JOURNAL_STREAM is
// "DEVICE:INODE" of that stream, and matches f only if nobody redirected it.
func journalStream(f *os.File) bool {
	dev, ino, ok := strings.Cut(os.Getenv("JOURNAL_STREAM"), ":")
	if !ok {
		return false
	}
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Dev == d && st.Ino == i
}
