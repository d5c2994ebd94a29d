// Command loadtest measures the built collector under OTLP load, pipeline
// by pipeline, side by side in one run: the collector's CPU time per span
// (from /proc), its memory and threads, and for the rate limiter the
// throughput it lets through. `make loadtest` runs it on the binary `make
// build` produced; it builds nothing.
//
// "Processor cost" is a pipeline's CPU per span minus the same pipeline
// with no processor, so the receiver's and exporter's work cancels out.
//
// With -compare-binary, each pipeline also runs on a second build (main
// before a change, say), right after its twin in every round: on a
// machine whose speed drifts by tens of percent over minutes, two builds
// can only be told apart when they are measured side by side.
//
// With -profile, perf samples each window's stacks, and a processor's cost
// is also measured as its share of the collector's samples (profile.go):
// one process, one window, so the drift that moves the subtraction cancels.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type options struct {
	binary   string
	nocgo    string
	compare  string
	duration time.Duration
	warmup   time.Duration
	clients  int
	rounds   int
	only     string
	match    *regexp.Regexp
	out      string
	rate     int
	profile  bool
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "_build/otelcol-rust", "the collector binary to measure")
	flag.StringVar(&o.nocgo, "nocgo-binary", "", "the cgo-free collector (make build-nocgo); adds its pipelines, the Rust process's CPU included")
	flag.StringVar(&o.compare, "compare-binary", "", "another build of the collector (main before a change, say): every selected pipeline with a processor also runs on it, in the same rounds, and the report compares the two builds")
	flag.DurationVar(&o.duration, "duration", 6*time.Second, "measurement window per pipeline")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before the window starts")
	flag.IntVar(&o.clients, "clients", 4, "concurrent OTLP/gRPC clients")
	flag.IntVar(&o.rounds, "rounds", 3, "runs per pipeline; the table shows the median")
	flag.StringVar(&o.only, "only", "", "run only pipelines whose name contains this")
	flag.Func("match", "run only pipelines whose name matches this regular expression (with -only, both must hold)", func(s string) error {
		re, err := regexp.Compile(s)
		o.match = re
		return err
	})
	flag.StringVar(&o.out, "out", "", "also write the report (Markdown) to this file")
	flag.IntVar(&o.rate, "rate", 0, "spans per second offered to every pipeline (0: 200k for 1000-span batches, 100k for 100, 20k for 10)")
	flag.BoolVar(&o.profile, "profile", false, "also sample each window's stacks with perf and measure each processor's cost as its share of the collector's CPU samples (profile.go)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// The processors compared: the same four actions in contrib's Go processor
// and in the Rust one, and a Rust one whose only action matches nothing.
const (
	actions = `
      actions:
        - {key: environment, value: production, action: insert}
        - {key: http.method, value: GET, action: update}
        - {key: internal.debug, action: delete}
        - {key: user.email, action: hash}`
	noMatch = `
      actions:
        - {key: no.such.attribute, action: delete}`
)

// Ten blocked_values patterns of the kind security teams configure: card
// numbers, e-mail addresses, bearer tokens, JWTs, IP addresses and the
// like. Both redaction processors get exactly this section.
const redactionConfig = `
      allow_all_keys: true
      summary: info
      blocked_values:
        - "4[0-9]{12}(?:[0-9]{3})?"
        - "5[1-5][0-9]{14}"
        - "3[47][0-9]{13}"
        - "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"
        - "(?i)bearer\\s+[a-z0-9._~+/-]+=*"
        - "eyJ[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]+"
        - "\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b"
        - "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b"
        - "(?i)api[_-]?key[=:][a-z0-9]{16,}"
        - "\\+[0-9]{1,3} [0-9]{3} [0-9]{3} [0-9]{4}"`

type pipeline struct {
	name       string
	processors map[string]string // id -> config body
	order      []string
	batch      int
	// sensitive: the spans carry values the redaction patterns match
	// (batchWithSecrets) instead of batchOf's.
	sensitive bool
	// nocgo: run on the cgo-free collector, whose Rust processors run in
	// the otelcol-rust-server child process.
	nocgo bool
	// compared: run on -compare-binary, as the twin of the pipeline named
	// without compareSuffix.
	compared bool
}

// compareSuffix names the pipelines run on -compare-binary.
const compareSuffix = " [compared build]"

// binaryFor is the collector that runs p.
func (o options) binaryFor(p pipeline) string {
	switch {
	case p.compared:
		return o.compare
	case p.nocgo:
		return o.nocgo
	}
	return o.binary
}

// noCgo marks the pipelines of the cgo-free collector.
const noCgo = " (no cgo)"

func chain(typ, body string, n int) (map[string]string, []string) {
	procs := map[string]string{}
	var order []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s/%d", typ, i)
		procs[id] = body
		order = append(order, id)
	}
	return procs, order
}

func pipelines(withNoCgo bool) []pipeline {
	var out []pipeline
	for _, batch := range []int{1000, 100, 10} {
		add := func(name, typ, body string, n int) {
			p := pipeline{name: fmt.Sprintf("%s, batch %d", name, batch), batch: batch, nocgo: strings.HasSuffix(name, noCgo)}
			if n > 0 {
				p.processors, p.order = chain(typ, body, n)
			}
			out = append(out, p)
		}
		add("no processor", "", "", 0)
		add("attributes (contrib)", "attributes", actions, 1)
		add("rust_attributes", "rust_attributes", actions, 1)
		if withNoCgo {
			add("no processor"+noCgo, "", "", 0)
			add("rust_attributes"+noCgo, "rust_attributes", actions, 1)
		}
		add("rust_attributes, changes nothing", "rust_attributes", noMatch, 1)
		if batch == 1000 {
			for _, r := range []struct{ name, typ string }{
				{"no processor, redaction data", ""},
				{"redaction (contrib)", "redaction"},
				{"rust_redaction", "rust_redaction"},
			} {
				p := pipeline{name: fmt.Sprintf("%s, batch %d", r.name, batch), batch: batch, sensitive: true}
				if r.typ != "" {
					p.processors, p.order = chain(r.typ, redactionConfig, 1)
				}
				out = append(out, p)
			}
			add("3 x attributes (contrib)", "attributes", actions, 3)
			add("3 x rust_attributes", "rust_attributes", actions, 3)
			add("3 x rust_attributes, changes nothing", "rust_attributes", noMatch, 3)
		}
	}
	return out
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// collectorConfig picks free ports for a collector's OTLP/gRPC receiver and
// its metrics endpoint and returns the receiver's address and the
// configuration.
func collectorConfig(procs map[string]string, order []string, exporters, exporterIDs string) (addr, config string, err error) {
	if addr, err = freeAddr(); err != nil {
		return "", "", err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return "", "", err
	}
	_, port, _ := net.SplitHostPort(metricsAddr)
	return addr, configYAML(addr, port, procs, order, exporters, exporterIDs), nil
}

func configYAML(grpcAddr, metricsPort string, procs map[string]string, order []string, exporters, exporterIDs string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: %s\n", grpcAddr)
	if len(procs) > 0 {
		b.WriteString("processors:\n")
		ids := make([]string, 0, len(procs))
		for id := range procs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintf(&b, "  %s:%s\n", id, procs[id])
		}
	}
	b.WriteString(exporters)
	fmt.Fprintf(&b, `service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %s
  pipelines:
    traces:
      receivers: [otlp]
      processors: [%s]
      exporters: [%s]
`, metricsPort, strings.Join(order, ", "), exporterIDs)
	return b.String()
}

// collector is one run of the binary.
type collector struct {
	cmd *exec.Cmd
	dir string
}

func startCollector(binary, config string) (*collector, error) {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "collector.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "--config", path)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &collector{cmd: cmd, dir: dir}, nil
}

func (c *collector) waitReady(addr string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(filepath.Join(c.dir, "collector.log"))
	return fmt.Errorf("collector did not listen on %s:\n%s", addr, tail(string(out), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (c *collector) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(c.dir)
}

// procStat reads the process's CPU time (user+system) and memory.
type procStat struct {
	cpu     time.Duration
	rssKB   int64
	hwmKB   int64
	threads int64
}

func readProc(pid int) (procStat, error) {
	var s procStat
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Linux reports in USER_HZ, 100 on every supported architecture.
	s.cpu = time.Duration(utime+stime) * 10 * time.Millisecond
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		line := sc.Text()
		field := func(prefix string) int64 {
			v, _ := strconv.ParseInt(strings.Fields(strings.TrimPrefix(line, prefix))[0], 10, 64)
			return v
		}
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			s.rssKB = field("VmRSS:")
		case strings.HasPrefix(line, "VmHWM:"):
			s.hwmKB = field("VmHWM:")
		case strings.HasPrefix(line, "Threads:"):
			s.threads = field("Threads:")
		}
	}
	return s, nil
}

// serviceSpans starts a batch of one service's spans.
func serviceSpans() (ptrace.Traces, ptrace.ScopeSpans) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	rs.Resource().Attributes().PutStr("host.name", "node-7")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("loadtest")
	return td, ss
}

// serverSpan appends the i-th server span and returns its attributes.
func serverSpan(ss ptrace.ScopeSpans, i int, name string) pcommon.Map {
	s := ss.Spans().AppendEmpty()
	s.SetName(name)
	s.SetKind(ptrace.SpanKindServer)
	s.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, byte(i), byte(i >> 8)})
	s.SetSpanID([8]byte{9, 8, 7, 6, 5, byte(i), byte(i >> 8), 1})
	s.SetStartTimestamp(1_700_000_000_000_000_000)
	s.SetEndTimestamp(1_700_000_000_001_000_000)
	return s.Attributes()
}

// batchOf builds one OTLP request of n spans with 7 attributes each, as
// an instrumented HTTP service would send them.
func batchOf(n int) ptraceotlp.ExportRequest {
	td, ss := serviceSpans()
	for i := 0; i < n; i++ {
		a := serverSpan(ss, i, "GET /api/cart")
		a.PutStr("http.method", "POST")
		a.PutStr("http.url", "https://shop.example.com/api/cart?item=42")
		a.PutInt("http.status_code", 200)
		a.PutStr("user.email", fmt.Sprintf("user%d@example.com", i%97))
		a.PutStr("internal.debug", "trace-sampler=on")
		a.PutStr("net.peer.ip", "10.1.2.3")
		a.PutInt("thread.id", int64(i%16))
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// batchWithSecrets builds one OTLP request of n spans with 9 attributes
// each, about a third of whose values hold something a redaction
// processor masks: e-mail addresses, client IPs, bearer tokens (JWTs),
// now and then a card number.
func batchWithSecrets(n int) ptraceotlp.ExportRequest {
	td, ss := serviceSpans()
	for i := 0; i < n; i++ {
		a := serverSpan(ss, i, "POST /api/checkout")
		a.PutStr("http.method", "POST")
		a.PutStr("http.url", "https://shop.example.com/api/checkout?cart=42&step=payment")
		a.PutInt("http.status_code", 200)
		a.PutStr("user.email", fmt.Sprintf("customer%d@example.com", i%97))
		a.PutStr("client.address", fmt.Sprintf("10.1.%d.%d", i%7, i%251))
		if i%4 == 0 {
			a.PutStr("http.request.header.authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
		} else {
			a.PutStr("http.request.header.authorization", "none")
		}
		if i%10 == 0 {
			a.PutStr("payment.card", "4111111111111111")
		} else {
			a.PutStr("payment.method", "wallet")
		}
		a.PutStr("message", fmt.Sprintf("order %d accepted for shipping to warehouse north-%d", 100000+i, i%5))
		a.PutInt("thread.id", int64(i%16))
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// load sends pre-encoded batches from `clients` goroutines until ctx
// ends, at `perSecond` requests a second (0: as fast as the collector
// answers), counting the spans and requests the collector accepted inside
// the window. The requests are encoded once, so that the generator, which
// shares the machine with the collector, costs little and the same in
// every run.
type load struct {
	spans, requests, failures atomic.Int64
	counting                  atomic.Bool
	latMu                     sync.Mutex
	latencies                 []time.Duration
}

// rawCodec sends bytes as they are and ignores the answer's body.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal([]byte, any) error   { return nil }
func (rawCodec) Name() string                  { return "proto" }

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

func (l *load) run(ctx context.Context, addr string, clients, batch int, sensitive bool, perSecond float64) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		return err
	}
	defer conn.Close()
	request := batchOf(batch)
	if sensitive {
		request = batchWithSecrets(batch)
	}
	body, err := request.MarshalProto()
	if err != nil {
		return err
	}
	var tokens chan struct{}
	if perSecond > 0 {
		tokens = make(chan struct{}, clients)
		go pace(ctx, perSecond, tokens)
	}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if tokens != nil {
					select {
					case <-tokens:
					case <-ctx.Done():
						return
					}
				}
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				var reply []byte
				sent := time.Now()
				err := conn.Invoke(rctx, exportMethod, body, &reply)
				took := time.Since(sent)
				cancel()
				if !l.counting.Load() {
					continue
				}
				if err != nil {
					if ctx.Err() == nil {
						l.failures.Add(1)
					}
					continue
				}
				l.spans.Add(int64(batch))
				l.requests.Add(1)
				l.latMu.Lock()
				l.latencies = append(l.latencies, took)
				l.latMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return nil
}

// pace puts `perSecond` tokens a second into `tokens`; a token no client
// is free to take is dropped, so a collector that falls behind is not
// flooded afterwards.
func pace(ctx context.Context, perSecond float64, tokens chan<- struct{}) {
	interval := time.Duration(float64(time.Second) / perSecond)
	tick := time.NewTicker(max(interval, time.Millisecond))
	defer tick.Stop()
	start := time.Now()
	sent := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := now.Sub(start).Seconds() * perSecond
			for ; sent < due; sent++ {
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}
}

type result struct {
	name       string
	usPerSpan  float64
	spansPerS  float64
	reqPerS    float64
	rssMB      float64
	peakMB     float64
	threads    int64
	failures   int64
	maxThreads int64
	// p50 and p99 of the time a client waited for a batch's answer.
	p50, p99 time.Duration
	// With -profile: what the window's stack samples say.
	profile windowProfile
}

// measure runs one collector configuration under load and returns its
// figures for the window.
func measure(o options, name, config, addr string, clients, batch int, sensitive, nocgo bool, perSecond float64) (result, error) {
	c, err := launch(o.binaryFor(pipeline{nocgo: nocgo}), config, addr)
	if err != nil {
		return result{}, err
	}
	defer c.stop()
	return c.load(o, name, addr, clients, batch, sensitive, perSecond)
}

// launch starts a collector on config and waits until it listens on addr.
func launch(binary, config, addr string) (*collector, error) {
	c, err := startCollector(binary, config)
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(addr); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// load drives a running collector for the warm-up and the window and
// returns its figures for the window.
func (c *collector) load(o options, name, addr string, clients, batch int, sensitive bool, perSecond float64) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{}
	done := make(chan error, 1)
	go func() { done <- l.run(ctx, addr, clients, batch, sensitive, perSecond) }()
	time.Sleep(o.warmup)
	pid := c.cmd.Process.Pid
	before, err := readTree(pid)
	if err != nil {
		cancel()
		return result{}, err
	}
	var profile *stackProfile
	if o.profile {
		if profile, err = startProfile(pid); err != nil {
			cancel()
			<-done
			return result{}, err
		}
	}
	l.counting.Store(true)
	start := time.Now()
	var maxThreads int64
	for time.Since(start) < o.duration {
		time.Sleep(200 * time.Millisecond)
		if s, err := readProc(pid); err == nil && s.threads > maxThreads {
			maxThreads = s.threads
		}
	}
	after, err := readTree(pid)
	l.counting.Store(false)
	elapsed := time.Since(start)
	var sampled windowProfile
	if profile != nil {
		var perr error
		// A window perf could not read (a compared build without symbols)
		// is left out of the sampled figures, not the run.
		if sampled, perr = profile.stop(); perr != nil {
			fmt.Fprintf(os.Stderr, "%s: no stack samples: %v\n", name, perr)
			sampled = windowProfile{}
		}
	}
	cancel()
	<-done
	if err != nil {
		return result{}, err
	}
	spans := l.spans.Load()
	r := result{
		name:       name,
		spansPerS:  float64(spans) / elapsed.Seconds(),
		reqPerS:    float64(l.requests.Load()) / elapsed.Seconds(),
		rssMB:      float64(after.rssKB) / 1024,
		peakMB:     float64(after.hwmKB) / 1024,
		threads:    after.threads,
		maxThreads: maxThreads,
		failures:   l.failures.Load(),
		profile:    sampled,
	}
	if spans > 0 {
		r.usPerSpan = float64((after.cpu - before.cpu).Microseconds()) / float64(spans)
	}
	if n := len(l.latencies); n > 0 {
		sort.Slice(l.latencies, func(i, j int) bool { return l.latencies[i] < l.latencies[j] })
		r.p50, r.p99 = l.latencies[n/2], l.latencies[min(n-1, n*99/100)]
	}
	return r, nil
}

// readTree is readProc of the collector with its child processes' CPU
// time added (the cgo-free collector's otelcol-rust-server).
func readTree(pid int) (procStat, error) {
	s, err := readProc(pid)
	if err != nil {
		return s, err
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		raw, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(raw)) {
			child, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if cs, err := readProc(child); err == nil {
				s.cpu += cs.cpu
				s.rssKB += cs.rssKB
				s.hwmKB += cs.hwmKB
				s.threads += cs.threads
			}
		}
	}
	return s, nil
}

func median(rs []result) result {
	sort.Slice(rs, func(i, j int) bool { return rs[i].usPerSpan < rs[j].usPerSpan })
	return rs[len(rs)/2]
}

func run(o options) error {
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("%s: %w (run make build first)", o.binary, err)
	}
	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	fmt.Fprintf(w, "# otelcol-rust load test\n\n%s, %d clients, OTLP/gRPC traces, 7 attributes per span (9 for \"redaction data\", a third of them values the ten redaction patterns match), exporter debug (basic);\n"+
		"collector CPU from /proc over %s after %s of warm-up at a fixed offered rate, median of %d interleaved rounds (one collector per pipeline, started once and idle between its rounds).\n\n",
		machine(), o.clients, o.duration, o.warmup, o.rounds)

	// Rounds are interleaved (every pipeline once, then again) so that
	// the machine's drift over the run touches every pipeline alike; a
	// pipeline's processor cost is taken against the baseline of the same
	// round, then the median over rounds is reported.
	var selected []pipeline
	if o.nocgo != "" {
		if _, err := os.Stat(o.nocgo); err != nil {
			return fmt.Errorf("%s: %w (run make build-nocgo first)", o.nocgo, err)
		}
	}
	if o.compare != "" {
		if _, err := os.Stat(o.compare); err != nil {
			return fmt.Errorf("%s: %w (the build to compare with)", o.compare, err)
		}
	}
	for _, p := range pipelines(o.nocgo != "") {
		if !o.selects(p.name) {
			continue
		}
		selected = append(selected, p)
		// The twin on the compared build runs right after it in each
		// round, so both see the machine in the same state.
		if o.compare != "" && !p.nocgo && len(p.order) > 0 {
			twin := p
			twin.name += compareSuffix
			twin.compared = true
			selected = append(selected, twin)
		}
	}
	// Every pipeline's collector is started once and kept running (idle
	// while another is loaded): each round measures warm processes, and
	// a round is short enough that many of them fit in a run, which is
	// what narrows the medians on a machine whose speed drifts.
	running := make([]*collector, len(selected))
	addrs := make([]string, len(selected))
	defer func() {
		for _, c := range running {
			if c != nil {
				c.stop()
			}
		}
	}()
	for i, p := range selected {
		addr, cfg, err := collectorConfig(p.processors, p.order, "exporters:\n  debug:\n    verbosity: basic\n", "debug")
		if err != nil {
			return err
		}
		if running[i], err = launch(o.binaryFor(p), cfg, addr); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		addrs[i] = addr
	}
	runs := map[string][]result{}
	for round := 0; round < o.rounds; round++ {
		for i, p := range selected {
			perSecond := float64(spansPerSecond(o, p.batch)) / float64(p.batch)
			r, err := running[i].load(o, p.name, addrs[i], o.clients, p.batch, p.sensitive, perSecond)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			sampled := ""
			if r.profile.samples > 0 {
				sampled = fmt.Sprintf(" (processor: %.1f%% of %d samples, %.3f µs/span, %.3f x the receiver's unmarshal)",
					100*r.profile.processor, r.profile.samples, sampledCost(r), againstUnmarshal(r))
			}
			fmt.Fprintf(os.Stderr, "round %d: %s: %.2f µs/span%s\n", round+1, p.name, r.usPerSpan, sampled)
			runs[p.name] = append(runs[p.name], r)
		}
	}
	results := map[string]result{}
	costs := map[string]float64{}
	fmt.Fprintf(w, "| pipeline | offered spans/s | CPU µs/span | processor cost µs/span | vs contrib | spans/s | RSS MB | peak RSS MB | threads |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range selected {
		r := median(append([]result(nil), runs[p.name]...))
		results[p.name] = r
		batch := fmt.Sprintf(", batch %d", p.batch)
		contribName := "attributes (contrib)" + batch
		switch {
		case p.sensitive:
			contribName = "redaction (contrib)" + batch
		case strings.HasPrefix(p.name, "3 x"):
			contribName = "3 x attributes (contrib)" + batch
		}
		base, hasBase := runs[baselineOf(p)]
		cost, vs := "", ""
		if hasBase && !strings.HasPrefix(p.name, "no processor") {
			c := pairedCost(runs[p.name], base)
			costs[p.name] = c
			cost = fmt.Sprintf("%.2f", c)
			if cc, ok := costs[contribName]; ok && !strings.Contains(p.name, "(contrib)") && cc > 0 {
				vs = fmt.Sprintf("%.2fx", c/cc)
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %s | %s | %.0f | %.0f | %.0f | %d |\n", p.name, spansPerSecond(o, p.batch), r.usPerSpan, cost, vs, r.spansPerS, r.rssMB, r.peakMB, r.threads)
	}
	chainRatio(w, costs)
	roundSpread(w, runs)
	if o.compare != "" {
		compareBuilds(w, o, selected, runs, costs)
	}
	if o.profile {
		profiledCosts(w, selected, runs)
	}
	if o.nocgo != "" {
		perBatch(w, results, costs)
	}
	if o.selects("rate limiter") {
		if err := rateLimiter(o, w); err != nil {
			return err
		}
	}
	if o.out != "" {
		return os.WriteFile(o.out, []byte(report.String()), 0o644)
	}
	return nil
}

// baselineOf names the pipeline without a processor that p's processor
// cost is taken against: the same batches, on the same kind of collector.
func baselineOf(p pipeline) string {
	batch := fmt.Sprintf(", batch %d", p.batch)
	switch {
	case p.sensitive:
		return "no processor, redaction data" + batch
	case p.nocgo:
		return "no processor" + noCgo + batch
	}
	return "no processor" + batch
}

// selects reports whether -only and -match keep the pipeline (or report
// section) called name.
func (o options) selects(name string) bool {
	return strings.Contains(name, o.only) && (o.match == nil || o.match.MatchString(name))
}

// pairedCost is the median, over rounds, of a pipeline's CPU per span
// minus the baseline's in the same round.
func pairedCost(rs, base []result) float64 {
	var d []float64
	for i := range rs {
		if i < len(base) {
			d = append(d, rs[i].usPerSpan-base[i].usPerSpan)
		}
	}
	sort.Float64s(d)
	if len(d) == 0 {
		return 0
	}
	return d[len(d)/2]
}

func spansPerSecond(o options, batch int) int {
	if o.rate > 0 {
		return o.rate
	}
	switch {
	case batch >= 1000:
		return 200_000
	case batch >= 100:
		return 100_000
	default:
		return 20_000
	}
}

// perBatch compares the same rust_attributes configuration through the
// in-process bridge, through the cgo-free collector's process hop, and
// contrib's attributes processor: processor CPU per batch (cost per span
// times the batch size, each against its own collector's no-processor
// baseline) and the latency a client saw per batch.
func perBatch(w io.Writer, results map[string]result, costs map[string]float64) {
	fmt.Fprintf(w, "\nPer batch, the same rust_attributes configuration (processor CPU against the same collector without processor; latency is the client's, whole collector):\n\n")
	fmt.Fprintf(w, "| batch | contrib µs/batch | cgo bridge µs/batch | no cgo µs/batch | no cgo / cgo | latency p50 contrib / cgo / no cgo (ms) | p99 contrib / cgo / no cgo (ms) |\n|---|---|---|---|---|---|---|\n")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	for _, batch := range []int{1000, 100, 10} {
		b := fmt.Sprintf(", batch %d", batch)
		contrib, okc := costs["attributes (contrib)"+b]
		cgo, ok1 := costs["rust_attributes"+b]
		nocgo, ok2 := costs["rust_attributes"+noCgo+b]
		if !okc || !ok1 || !ok2 {
			continue
		}
		ratio := "n/a"
		if cgo > 0 {
			ratio = fmt.Sprintf("%.1fx", nocgo/cgo)
		}
		rc, r1, r2 := results["attributes (contrib)"+b], results["rust_attributes"+b], results["rust_attributes"+noCgo+b]
		fmt.Fprintf(w, "| %d | %.1f | %.1f | %.1f | %s | %s / %s / %s | %s / %s / %s |\n", batch,
			contrib*float64(batch), cgo*float64(batch), nocgo*float64(batch), ratio,
			ms(rc.p50), ms(r1.p50), ms(r2.p50), ms(rc.p99), ms(r1.p99), ms(r2.p99))
	}
}

func chainRatio(w io.Writer, costs map[string]float64) {
	one, ok1 := costs["rust_attributes, batch 1000"]
	three, ok2 := costs["3 x rust_attributes, batch 1000"]
	if ok1 && ok2 && one > 0 {
		fmt.Fprintf(w, "\nThree rust_attributes in a row cost %.2fx one (processor cost %.2f vs %.2f µs/span).\n", three/one, three, one)
	}
}

// roundSpread shows how much the two ratios the targets are about move
// from round to round (each round's costs against that round's
// baseline): what the medians above summarise.
func roundSpread(w io.Writer, runs map[string][]result) {
	perRound := func(name, against string) []float64 {
		return roundRatios(runs, name, against, "no processor, batch 1000")
	}
	show := func(what string, ratios []float64) {
		if len(ratios) < 2 {
			return
		}
		fmt.Fprintf(w, "\n%s, per round: min %.2fx, median %.2fx, max %.2fx over %d rounds.\n",
			what, ratios[0], ratios[len(ratios)/2], ratios[len(ratios)-1], len(ratios))
	}
	show("rust_attributes against contrib attributes (1000 spans)", perRound("rust_attributes, batch 1000", "attributes (contrib), batch 1000"))
	show("Three rust_attributes against one", perRound("3 x rust_attributes, batch 1000", "rust_attributes, batch 1000"))
}

// compareBuilds sets each pipeline's processor cost on this build against
// its twin's on the compared build: the medians of the table, and the
// median of the per-round ratios (both twins against the same round's
// baseline, measured seconds apart).
func compareBuilds(w io.Writer, o options, selected []pipeline, runs map[string][]result, costs map[string]float64) {
	fmt.Fprintf(w, "\nThis build (%s) against the compared build (%s), processor cost:\n\n", o.binary, o.compare)
	fmt.Fprintf(w, "| pipeline | this build µs/span | compared build µs/span | ratio | per-round median ratio |\n|---|---|---|---|---|\n")
	for _, p := range selected {
		if !p.compared {
			continue
		}
		name := strings.TrimSuffix(p.name, compareSuffix)
		this, that := costs[name], costs[p.name]
		ratio := ""
		if that > 0 {
			ratio = fmt.Sprintf("%.2fx", this/that)
		}
		perRound := ""
		if r := roundRatios(runs, name, p.name, baselineOf(p)); len(r) > 0 {
			perRound = fmt.Sprintf("%.2fx", r[len(r)/2])
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %s | %s |\n", name, this, that, ratio, perRound)
	}
}

// roundRatios is, sorted, each round's processor cost of pipeline name
// against that of pipeline against, both taken against the round's
// baseline (rounds where against cost nothing are left out).
func roundRatios(runs map[string][]result, name, against, baseline string) []float64 {
	var out []float64
	a, b, base := runs[name], runs[against], runs[baseline]
	for i := range a {
		if i >= len(b) || i >= len(base) {
			break
		}
		num, den := a[i].usPerSpan-base[i].usPerSpan, b[i].usPerSpan-base[i].usPerSpan
		if den > 0 {
			out = append(out, num/den)
		}
	}
	sort.Float64s(out)
	return out
}

func machine() string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	n := 0
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(raw), "processor\t:")
	}
	return fmt.Sprintf("%d cores (%s)", n, cpu)
}
