package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushEvery is how long a log line may wait in the buffer.
const logFlushEvery = 100 * time.Millisecond

// bufferedLog collects log lines and writes them out every logFlushEvery (and at once for
// warnings and errors, through flushOnWarn), so the access log of a busy portal costs one write
// to standard error per tenth of a second instead of one per request.
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// newBufferedLog starts the flusher, writing out every every; Close stops it and writes what
// is left.
func newBufferedLog(w io.Writer, every time.Duration) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.Flush()
			}
		}
	}()
	return b
}

func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *bufferedLog) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.w.Flush()
}

// Close stops the flusher and writes out what is left.
func (b *bufferedLog) Close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	b.Flush()
}

// flushOnWarn writes a warning or an error out at once: those are what an operator watches.
type flushOnWarn struct {
	slog.Handler
	out *bufferedLog
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.out.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(as), h.out}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.out}
}

// newLogger is the portal's logger on w: text or JSON, buffered as bufferedLog says. Call the
// returned close before exiting.
func newLogger(w io.Writer, json bool, level slog.Leveler) (*slog.Logger, func()) {
	return newLoggerFlushing(w, json, level, logFlushEvery)
}

func newLoggerFlushing(w io.Writer, json bool, level slog.Leveler, every time.Duration) (*slog.Logger, func()) {
	out := newBufferedLog(w, every)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(out, opts)
	if json {
		h = slog.NewJSONHandler(out, opts)
	}
	return slog.New(flushOnWarn{h, out}), out.Close
}
