// Package peer is the part every Go peer shares: the contract of
// bench/peers/README.md (flags, signals, stats, trace, the RESULT line).
// The peers' consume loops run on many goroutines, so everything here is
// safe for concurrent use and cheap on the per-message path.
package peer

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Flags holds the contract's flags.
type Flags struct {
	Brokers     []string
	Topic       string
	Group       string
	Work        time.Duration
	MaxMessages int64
	Trace       string
	ForwardTo   string
}

// ParseFlags parses os.Args per the contract; a bad or missing flag exits 2.
func ParseFlags(name string) Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	brokers := fs.String("brokers", "", "bootstrap servers HOST:PORT[,...] (required)")
	topic := fs.String("topic", "", "topic to consume (required)")
	group := fs.String("group", "", "consumer group id (required)")
	work := fs.Duration("work", 0, "simulated work per message (a sleep), e.g. 0ms, 1ms, 5ms")
	maxMsgs := fs.Int64("max-messages", 0, "exit after N processed (and committed) messages; 0: until a signal")
	trace := fs.String("trace", "", "write '<partition> <unix-ms>' per processed message to FILE")
	fwd := fs.String("forward-to", "", "produce each processed message to TOPIC before it counts as done")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2) // flag already printed the error and usage
	}
	bad := func(msg string) {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, msg)
		os.Exit(2)
	}
	switch {
	case fs.NArg() > 0:
		bad("unexpected argument " + strconv.Quote(fs.Arg(0)))
	case *brokers == "":
		bad("--brokers is required")
	case *topic == "":
		bad("--topic is required")
	case *group == "":
		bad("--group is required")
	case *work < 0:
		bad("--work must not be negative")
	case *maxMsgs < 0:
		bad("--max-messages must not be negative")
	}
	return Flags{strings.Split(*brokers, ","), *topic, *group, *work, *maxMsgs, *trace, *fwd}
}

// Fatal reports an error on stderr and exits 1 (e.g. an unreachable broker).
func Fatal(name string, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// Run is one peer run: its stats, its trace file, and its stop signal.
type Run struct {
	Name  string
	Flags Flags

	// Ctx is cancelled on SIGTERM/SIGINT or when --max-messages are done.
	Ctx  context.Context
	stop context.CancelFunc

	claimed   atomic.Int64 // slots handed out by Claim (bounded by MaxMessages)
	processed atomic.Int64
	firstNs   atomic.Int64 // wall time of the first processed message, unix ns
	lastNs    atomic.Int64 // wall time of the latest processed message, unix ns
	hist      [histBuckets]atomic.Int64

	traceMu sync.Mutex
	trace   *bufio.Writer
	traceF  *os.File
}

// 1.01^2500 us is about 18 hours: more than any latency here.
const histBuckets = 2500

var logBase = math.Log(1.01)

// Start parses the flags, opens the trace and installs the signal handler.
func Start(name string) *Run {
	r := &Run{Name: name, Flags: ParseFlags(name)}
	r.Ctx, r.stop = context.WithCancel(context.Background())
	if r.Flags.Trace != "" {
		f, err := os.Create(r.Flags.Trace)
		if err != nil {
			Fatal(name, "--trace: %v", err)
		}
		r.traceF, r.trace = f, bufio.NewWriterSize(f, 1<<16)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		first := time.Now()
		r.stop()
		// A later signal means the clean shutdown hangs: give up loudly.
		// One within a second is a duplicate (timeout(1) signals both the
		// child and its process group), not a second request.
		for range sigs {
			if time.Since(first) > time.Second {
				fmt.Fprintf(os.Stderr, "%s: second signal, exiting without cleanup\n", name)
				os.Exit(1)
			}
		}
	}()
	return r
}

// Stop asks the peer to stop (as a signal does).
func (r *Run) Stop() { r.stop() }

// Claim reserves the right to process one more message. It is false once
// --max-messages slots are taken, so concurrent goroutines never process
// more than N between them; the caller then stops consuming that message.
func (r *Run) Claim() bool {
	if r.Flags.MaxMessages == 0 {
		return r.Ctx.Err() == nil
	}
	return r.claimed.Add(1) <= r.Flags.MaxMessages
}

// Work simulates the per-message processing.
func (r *Run) Work() {
	if r.Flags.Work > 0 {
		time.Sleep(r.Flags.Work)
	}
}

// Done records a processed message (after its work, its forward and, for
// peers that commit per message, its commit). ts is the Kafka timestamp.
// When the --max-messages-th message is done, the run stops.
func (r *Run) Done(partition int32, ts time.Time) {
	now := time.Now()
	ns := now.UnixNano()
	r.firstNs.CompareAndSwap(0, ns)
	// Max, not a plain store: goroutines may finish out of order.
	for {
		last := r.lastNs.Load()
		if ns <= last || r.lastNs.CompareAndSwap(last, ns) {
			break
		}
	}
	b := 0
	if us := now.Sub(ts).Microseconds(); us >= 1 {
		b = int(math.Log(float64(us)) / logBase)
		if b >= histBuckets {
			b = histBuckets - 1
		}
	}
	r.hist[b].Add(1)
	if r.trace != nil {
		r.traceMu.Lock()
		r.trace.WriteString(strconv.Itoa(int(partition)))
		r.trace.WriteByte(' ')
		r.trace.WriteString(strconv.FormatInt(ns/1e6, 10))
		r.trace.WriteByte('\n')
		r.traceMu.Unlock()
	}
	if n := r.processed.Add(1); r.Flags.MaxMessages > 0 && n >= r.Flags.MaxMessages {
		r.stop()
	}
}

// Processed is the number of messages done so far.
func (r *Run) Processed() int64 { return r.processed.Load() }

// Finish flushes the trace and prints the RESULT line as the last stdout line.
func (r *Run) Finish() {
	if r.trace != nil {
		r.traceMu.Lock()
		err := r.trace.Flush()
		if cerr := r.traceF.Close(); err == nil {
			err = cerr
		}
		r.traceMu.Unlock()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: --trace: %v\n", r.Name, err)
		}
	}
	n := r.processed.Load()
	secs := float64(r.lastNs.Load()-r.firstNs.Load()) / 1e9
	rate := 0.0
	if n >= 2 && secs > 0 {
		rate = float64(n) / secs
	}
	fmt.Printf("RESULT peer=%s processed=%d seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f peak_rss_kb=%d\n",
		r.Name, n, secs, rate, r.percentile(0.50), r.percentile(0.99), r.percentile(0.999), peakRSSKB())
}

// percentile is the lower bound (1.01^b us, in ms) of the bucket holding
// the q-quantile.
func (r *Run) percentile(q float64) float64 {
	var counts [histBuckets]int64
	var total int64
	for i := range r.hist {
		counts[i] = r.hist[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for b, c := range counts {
		seen += c
		if seen >= rank {
			return math.Pow(1.01, float64(b)) / 1000
		}
	}
	return 0
}

// peakRSSKB is VmHWM from /proc/self/status (0 if unavailable).
func peakRSSKB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
