// Command reliability runs fault scenarios against the built collector,
// each through a pipeline of contrib's Go processors (the reference) and
// through the Rust processors, and prints what clients saw and what the
// process did, side by side: bad inputs, a hanging and a closed
// downstream, SIGTERM and SIGHUP under load, many and long tenants, large
// requests, threads and memory. `make reliability` runs it on the binary
// `make build` produced; docs/reliability.md records a run.
//
// Every collector runs alone, so its memory and thread counts are its
// own; every load is bounded in count and time and sent to loopback only.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type options struct {
	binary string
	out    string
	only   string
	quick  bool
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "_build/otelcol-rust", "the collector binary")
	flag.StringVar(&o.out, "out", "", "also write the table (Markdown) to this file")
	flag.StringVar(&o.only, "only", "", "run only scenarios whose name matches this regular expression")
	flag.BoolVar(&o.quick, "quick", false, "smaller loads (a smoke run)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

// row is one line of the report.
type row struct {
	scenario, goPath, rustPath, note string
}

type scenario struct {
	name string
	run  func(o options) ([]row, error)
}

func run(o options) error {
	scenarios := []scenario{
		{"bad inputs", badInputs},
		{"odd span in a batch", oddSpanInBatch},
		{"hanging downstream", hangingDownstream},
		{"closed downstream", closedDownstream},
		{"SIGTERM under load", func(o options) ([]row, error) { return signalUnderLoad(o, syscall.SIGTERM) }},
		{"SIGHUP under load", func(o options) ([]row, error) { return signalUnderLoad(o, syscall.SIGHUP) }},
		{"many tenants", manyTenants},
		{"large requests", largeRequests},
	}
	only, err := regexp.Compile(o.only)
	if err != nil {
		return err
	}
	var rows []row
	for _, s := range scenarios {
		if !only.MatchString(s.name) {
			continue
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		rs, err := s.run(o)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "   %s | %s | %s\n", r.scenario, r.goPath, r.rustPath)
		}
		fmt.Fprintf(os.Stderr, "   (%s)\n", time.Since(start).Round(time.Second))
		rows = append(rows, rs...)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d CPUs, %s/%s, %s. Binary: %s.\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), filepath.Base(o.binary))
	b.WriteString("| scenario | Go path (contrib) | Rust path | |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.scenario, r.goPath, r.rustPath, r.note)
	}
	fmt.Print(b.String())
	if o.out != "" {
		return os.WriteFile(o.out, []byte(b.String()), 0o644)
	}
	return nil
}

// The processors of both paths. The attributes configuration matches,
// hashes, copies and deletes; the rate limiter lets everything through
// unless a scenario says otherwise.
const attributesActions = `
    actions:
      - {key: env, value: prod, action: insert}
      - {key: copied, from_attribute: kx, action: upsert}
      - {key: hashme, action: hash}
      - {pattern: "^secret", action: delete}
      - {key: tenant, from_context: metadata.x-tenant, action: insert}`

func goProcessors() (string, []string) {
	return "  attributes:" + attributesActions + "\n", []string{"attributes"}
}

func rustProcessors(rateLimit string) (string, []string) {
	if rateLimit == "" {
		rateLimit = "\n    rate: 1e9\n    burst: 1000000000\n    metadata_keys: [x-tenant]"
	}
	return "  rust_ratelimit:" + rateLimit + "\n  rust_attributes:" + attributesActions + "\n",
		[]string{"rust_ratelimit", "rust_attributes"}
}

// collector is one run of the binary.
type collector struct {
	cmd        *exec.Cmd
	grpc, http string
	dir        string
	exited     chan struct{}
	exitErr    error
	exitedAt   time.Time
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// exporter is the exporters section: an OTLP exporter to addr without
// queue or retries (a caller waits as long as the peer), or, with no
// address, the debug exporter.
func exporter(addr string) (string, string) {
	if addr == "" {
		return "exporters:\n  debug: {verbosity: basic}\n", "debug"
	}
	return fmt.Sprintf(`exporters:
  otlp:
    endpoint: %s
    tls: {insecure: true}
    timeout: 30s
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
`, addr), "otlp"
}

func startCollector(o options, processors string, order []string, exporterAddr string) (*collector, error) {
	c := &collector{grpc: freeAddr(), http: freeAddr(), exited: make(chan struct{})}
	dir, err := os.MkdirTemp("", "reliability")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	exporters, id := exporter(exporterAddr)
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
        include_metadata: true
        max_recv_msg_size_mib: 64
      http:
        endpoint: %s
        include_metadata: true
processors:
%s%sservice:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      processors: [%s]
      exporters: [%s]
    metrics:
      receivers: [otlp]
      processors: [%s]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [%s]
      exporters: [debug]
`, c.grpc, c.http, processors, exporters, strings.Join(order, ", "), id, strings.Join(order, ", "), strings.Join(order, ", "))
	if id != "debug" {
		cfg = strings.Replace(cfg, "service:\n", "  debug: {verbosity: basic}\nservice:\n", 1)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "collector.log"))
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command(o.binary, "--config", path)
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.exitErr = c.cmd.Wait()
		c.exitedAt = time.Now()
		log.Close()
		close(c.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", c.grpc, 100*time.Millisecond); err == nil {
			conn.Close()
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.stop()
	out, _ := os.ReadFile(filepath.Join(dir, "collector.log"))
	return nil, fmt.Errorf("collector did not listen:\n%s", out)
}

// stop ends the process (SIGTERM, then SIGKILL after 20 s) and reports
// how long it took.
func (c *collector) stop() time.Duration {
	start := time.Now()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	os.RemoveAll(c.dir)
	return time.Since(start)
}

// proc reads a /proc/<pid>/status field in kB or as a count.
func proc(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return -1
}

func mb(kb int64) string { return fmt.Sprintf("%.0f MB", float64(kb)/1024) }

// client sends OTLP to one collector.
type client struct {
	conn *grpc.ClientConn
	c    *collector
	http *http.Client
}

func newClient(c *collector) *client {
	conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		panic(err)
	}
	return &client{conn: conn, c: c, http: &http.Client{Timeout: 60 * time.Second}}
}

func (cl *client) close() { cl.conn.Close() }

// outcome is what one request got: "ok", a gRPC code name, "HTTP 503",
// or a transport failure.
func grpcOutcome(err error, collectorAddr string) string {
	if err == nil {
		return "ok"
	}
	st := status.Convert(err)
	msg := st.Message()
	switch {
	case st.Code() != codes.Unavailable:
	case strings.Contains(msg, "shutting down"):
		return "Unavailable (shutting down)"
	case strings.Contains(msg, collectorAddr), strings.Contains(msg, "EOF"):
		// The client's connection to the collector failed: refused, or
		// closed under the request.
		return "not connected"
	case strings.Contains(msg, "connection refused"):
		// The exporter's error, passed back through the pipeline.
		return "Unavailable (exporter: connection refused)"
	case strings.Contains(msg, "deadline"):
		return "Unavailable (deadline exceeded)"
	}
	if os.Getenv("RELIABILITY_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "   %s: %s\n", st.Code(), msg)
	}
	return st.Code().String()
}

func (cl *client) traces(ctx context.Context, td ptrace.Traces, md metadata.MD) string {
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	_, err := ptraceotlp.NewGRPCClient(cl.conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	return grpcOutcome(err, cl.c.grpc)
}

func (cl *client) post(ctx context.Context, signal string, body []byte, header http.Header) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cl.c.http+"/v1/"+signal, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := cl.http.Do(req)
	if err != nil {
		return "not connected"
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return "ok"
	}
	return "HTTP " + strconv.Itoa(resp.StatusCode)
}

// tally counts outcomes and prints them as "37 ok, 3 Unavailable".
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[s]++
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return t.n[keys[i]] > t.n[keys[j]] || t.n[keys[i]] == t.n[keys[j]] && keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", t.n[k], k)
	}
	return strings.Join(parts, ", ")
}

// peer is an OTLP/gRPC traces backend: it counts spans and answers after
// delay, or never (until released) when delay is negative.
type peer struct {
	ptraceotlp.UnimplementedGRPCServer
	delay   time.Duration
	release chan struct{}
	once    sync.Once
	spans   atomic.Int64
	calls   atomic.Int64
	addr    string
	srv     *grpc.Server
}

func startPeer(delay time.Duration) *peer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	p := &peer{delay: delay, release: make(chan struct{}), addr: l.Addr().String(), srv: grpc.NewServer(grpc.MaxRecvMsgSize(256 << 20))}
	ptraceotlp.RegisterGRPCServer(p.srv, p)
	go func() { _ = p.srv.Serve(l) }()
	return p
}

func (p *peer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	p.calls.Add(1)
	var wait <-chan time.Time
	if p.delay >= 0 {
		wait = time.After(p.delay)
	}
	select {
	case <-wait:
	case <-p.release:
	case <-ctx.Done():
		return ptraceotlp.NewExportResponse(), ctx.Err()
	}
	p.spans.Add(int64(req.Traces().SpanCount()))
	return ptraceotlp.NewExportResponse(), nil
}

func (p *peer) unblock() { p.once.Do(func() { close(p.release) }) }
func (p *peer) stop()    { p.unblock(); p.srv.Stop() }

// both runs f against a Go-path and a Rust-path collector in turn.
func both(o options, rustRateLimit string, exporterAddr func() string, f func(c *collector) (string, error)) (string, string, error) {
	gp, gorder := goProcessors()
	rp, rorder := rustProcessors(rustRateLimit)
	var out [2]string
	for i, cfg := range []struct {
		procs string
		order []string
	}{{gp, gorder}, {rp, rorder}} {
		addr := ""
		if exporterAddr != nil {
			addr = exporterAddr()
		}
		c, err := startCollector(o, cfg.procs, cfg.order, addr)
		if err != nil {
			return "", "", err
		}
		res, err := f(c)
		c.stop()
		if err != nil {
			return "", "", err
		}
		out[i] = res
	}
	return out[0], out[1], nil
}

// Bad inputs: strings that are not UTF-8 anywhere, deep nesting, client
// metadata that is not text.
func badInputs(o options) ([]row, error) {
	probes := []struct {
		name string
		send func(cl *client) string
	}{
		{"strings not UTF-8 (traces, gRPC)", func(cl *client) string {
			return cl.traces(context.Background(), oddTraces(0), nil)
		}},
		{"strings not UTF-8 (logs, HTTP)", func(cl *client) string {
			ld := plog.NewLogs()
			lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			lr.Body().SetStr("body \xff")
			lr.Attributes().PutStr("k\xfe", "\xc3")
			lr.Attributes().PutStr("hashme", "\xff")
			body, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
			return cl.post(context.Background(), "logs", body, nil)
		}},
		{"strings not UTF-8 (metrics, HTTP)", func(cl *client) string {
			md := pmetric.NewMetrics()
			m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			m.SetName("m\xff")
			m.SetEmptyGauge().DataPoints().AppendEmpty().Attributes().PutStr("\xff", "\xfe")
			body, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
			return cl.post(context.Background(), "metrics", body, nil)
		}},
		{"value nested 200 deep (traces, gRPC)", func(cl *client) string {
			return cl.traces(context.Background(), oddTraces(200), nil)
		}},
		{"gRPC -bin metadata", func(cl *client) string {
			return cl.traces(context.Background(), oddTraces(0), metadata.Pairs("x-tenant-bin", "\xff\x00", "x-tenant", "t"))
		}},
		{"HTTP header not UTF-8", func(cl *client) string {
			body, _ := ptraceotlp.NewExportRequestFromTraces(oddTraces(0)).MarshalProto()
			return cl.post(context.Background(), "traces", body, http.Header{"X-Tenant": {"caf\xe9"}})
		}},
	}
	var rows []row
	for _, p := range probes {
		g, r, err := both(o, "", nil, func(c *collector) (string, error) {
			cl := newClient(c)
			defer cl.close()
			return p.send(cl), nil
		})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{"bad input: " + p.name, g, r, ""})
	}
	return rows, nil
}

// oddTraces is a span with strings that are not UTF-8 and, if depth > 0,
// a value nested that deep.
func oddTraces(depth int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("svc\xff", "\xfe")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("odd \xff")
	s.Attributes().PutStr("kx", "copy \xfe")
	s.Attributes().PutStr("hashme", "\xc3\x28")
	s.Attributes().PutStr("secret\xff", "x")
	v := s.Attributes().PutEmpty("deep")
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			v = v.SetEmptyMap().PutEmpty("d")
		} else {
			v = v.SetEmptySlice().AppendEmpty()
		}
	}
	v.SetStr("bottom")
	return td
}

func goodTraces(spans int, attrBytes int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	ss.EnsureCapacity(spans)
	value := strings.Repeat("v", attrBytes)
	for i := 0; i < spans; i++ {
		s := ss.AppendEmpty()
		s.SetName("good")
		s.SetTraceID(pcommon.TraceID{byte(i), 1})
		s.SetSpanID(pcommon.SpanID{byte(i), 2})
		s.Attributes().PutStr("hashme", "x")
		s.Attributes().PutStr("payload", value)
	}
	return td
}

// The batch processor puts one client's odd span with another's
// thousand spans before the processor.
func oddSpanInBatch(o options) ([]row, error) {
	var rows []row
	counts := [2]string{}
	for i, procs := range []func() (string, []string){goProcessors, func() (string, []string) { return rustProcessors("") }} {
		p := startPeer(0)
		body, order := procs()
		body += "  batch:\n    timeout: 200ms\n    send_batch_size: 5000\n"
		c, err := startCollector(o, body, append([]string{"batch"}, order...), p.addr)
		if err != nil {
			return nil, err
		}
		odd, good := newClient(c), newClient(c)
		var wg sync.WaitGroup
		wg.Add(11)
		go func() { defer wg.Done(); odd.traces(context.Background(), oddTraces(200), nil) }()
		for k := 0; k < 10; k++ {
			go func() { defer wg.Done(); good.traces(context.Background(), goodTraces(100, 10), nil) }()
		}
		wg.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for p.spans.Load() < 1001 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		counts[i] = fmt.Sprintf("%d of 1001 spans exported", p.spans.Load())
		odd.close()
		good.close()
		c.stop()
		p.stop()
	}
	rows = append(rows, row{"batch: one odd span + 1000 spans of another client", counts[0], counts[1], "`batch` before the processors"})
	return rows, nil
}

// A downstream that never answers: requests wait in the exporter; the
// collector holds goroutines, not threads; all complete once it answers.
func hangingDownstream(o options) ([]row, error) {
	n := 500
	if o.quick {
		n = 100
	}
	var threads, done [2]string
	for i := 0; i < 2; i++ {
		p := startPeer(-1)
		procs, order := goProcessors()
		if i == 1 {
			procs, order = rustProcessors("")
		}
		c, err := startCollector(o, procs, order, p.addr)
		if err != nil {
			return nil, err
		}
		pid := c.cmd.Process.Pid
		idle := proc(pid, "Threads")
		cl := newClient(c)
		var t tally
		var wg sync.WaitGroup
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				t.add(cl.traces(ctx, goodTraces(1, 10), nil))
			}()
		}
		deadline := time.Now().Add(30 * time.Second)
		for p.calls.Load() < int64(n) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		blocked := proc(pid, "Threads")
		p.unblock()
		wg.Wait()
		threads[i] = fmt.Sprintf("%d idle, %d with %d blocked", idle, blocked, n)
		done[i] = t.String()
		cl.close()
		c.stop()
		p.stop()
	}
	return []row{
		{fmt.Sprintf("hanging downstream: threads (%d requests blocked)", n), threads[0], threads[1], ""},
		{"hanging downstream: answers once it answers", done[0], done[1], ""},
	}, nil
}

// A downstream whose port is closed: the exporter fails at once; the
// client gets the exporter's error through the processor.
func closedDownstream(o options) ([]row, error) {
	closed := freeAddr // nothing listens there
	g, r, err := both(o, "", closed, func(c *collector) (string, error) {
		cl := newClient(c)
		defer cl.close()
		var t tally
		start := time.Now()
		for k := 0; k < 50; k++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t.add(cl.traces(ctx, goodTraces(1, 10), nil))
			cancel()
		}
		return fmt.Sprintf("%s; %s a request", t.String(), (time.Since(start) / 50).Round(10*time.Microsecond)), nil
	})
	if err != nil {
		return nil, err
	}
	return []row{{"closed downstream: 50 requests", g, r, "no queue, no retries"}}, nil
}

// SIGTERM or SIGHUP while 40 clients send: on the Go path the requests
// flow to a peer answering in 100 ms; on the Rust path they are held by
// rust_ratelimit in delay mode at 0.001/s (the case that used to keep the
// process alive).
func signalUnderLoad(o options, sig syscall.Signal) ([]row, error) {
	const clients = 40
	var res [2]string
	for i := 0; i < 2; i++ {
		p := startPeer(100 * time.Millisecond)
		procs, order := goProcessors()
		if i == 1 {
			procs, order = rustProcessors("\n    rate: 0.001\n    burst: 1\n    throttle_behavior: delay")
		}
		c, err := startCollector(o, procs, order, p.addr)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		var t tally
		var wg sync.WaitGroup
		stopSending := make(chan struct{})
		refused := make([]bool, clients)
		body, _ := ptraceotlp.NewExportRequestFromTraces(goodTraces(1, 10)).MarshalProto()
		for k := 0; k < clients; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				cl := newClient(c)
				defer cl.close()
				for {
					select {
					case <-stopSending:
						return
					default:
					}
					// No deadline: a limiter refuses at once a request its
					// deadline would not cover.
					var out string
					if k%2 == 0 {
						out = cl.traces(ctx, goodTraces(1, 10), nil)
					} else {
						out = cl.post(ctx, "traces", body, nil)
					}
					if out == "not connected" {
						// The receiver is closed: count it once, then
						// wait for it (a reload) without spinning.
						if !refused[k] {
							t.add(out)
							refused[k] = true
						}
						time.Sleep(20 * time.Millisecond)
						continue
					}
					refused[k] = false
					t.add(out)
				}
			}(k)
		}
		time.Sleep(time.Second)
		signalled := time.Now()
		_ = c.cmd.Process.Signal(sig)
		var what string
		if sig == syscall.SIGTERM {
			select {
			case <-c.exited:
				what = fmt.Sprintf("exited %s after SIGTERM", c.exitedAt.Sub(signalled).Round(10*time.Millisecond))
			case <-time.After(30 * time.Second):
				what = "still running 30 s after SIGTERM"
			}
			close(stopSending)
		} else {
			// Reloaded when the new pipelines answer: a request that
			// is neither refused at the door nor ended by the old
			// pipelines' shutdown. (On the Rust path the new limiter
			// answers DeadlineExceeded: its one token went to a client.)
			cl := newClient(c)
			var back time.Duration
			var answer string
			for time.Since(signalled) < 30*time.Second {
				rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
				answer = cl.traces(rctx, goodTraces(1, 10), nil)
				rcancel()
				if answer != "not connected" && answer != "Unavailable (shutting down)" {
					back = time.Since(signalled)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cl.close()
			if back > 0 {
				what = fmt.Sprintf("reloaded; new pipelines answer (%s) %s after SIGHUP", answer, back.Round(10*time.Millisecond))
			} else {
				what = "no answer from new pipelines within 30 s of SIGHUP"
			}
			if c.cmd.ProcessState != nil {
				what += "; the process exited"
			}
			close(stopSending)
		}
		cancel()
		wg.Wait()
		res[i] = what + "; clients: " + t.String()
		c.stop()
		p.stop()
	}
	note := "Go: requests flowing to a peer answering in 100 ms; Rust: held by `rust_ratelimit` (delay, 0.001/s)"
	name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[sig]
	return []row{{name + " with 40 clients sending", res[0], res[1], note}}, nil
}

// Many tenants, and tenants with long keys, through the limiter's
// per-tenant state (the Go path keeps nothing per tenant).
func manyTenants(o options) ([]row, error) {
	type load struct {
		tenants, size int
	}
	loads := []load{{12000, 60 << 10}, {600, 500 << 10}}
	if o.quick {
		loads = []load{{1200, 60 << 10}, {60, 500 << 10}}
	}
	var rows []row
	body, _ := ptraceotlp.NewExportRequestFromTraces(goodTraces(1, 10)).MarshalProto()
	for _, l := range loads {
		g, r, err := both(o, "", nil, func(c *collector) (string, error) {
			var t tally
			var next atomic.Int64
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cl := newClient(c)
					defer cl.close()
					for {
						k := next.Add(1)
						if k > int64(l.tenants) {
							return
						}
						value := fmt.Sprintf("%08d", k) + strings.Repeat("t", l.size-8)
						t.add(cl.post(context.Background(), "traces", body, http.Header{"X-Tenant": {value}}))
					}
				}()
			}
			wg.Wait()
			runtime.GC()
			pid := c.cmd.Process.Pid
			return fmt.Sprintf("peak %s, now %s (%s)", mb(proc(pid, "VmHWM")), mb(proc(pid, "VmRSS")), t.String()), nil
		})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{fmt.Sprintf("%d tenants, %d KB tenant values (HTTP header)", l.tenants, l.size>>10), g, r, "peak RSS of the collector"})
	}
	return rows, nil
}

// Forty large requests at once: peak memory of the collector, for each
// processor alone and for the paths of the other scenarios.
func largeRequests(o options) ([]row, error) {
	n := 40
	if o.quick {
		n = 8
	}
	// 10 MB of protobuf: 20,000 spans with a 500-byte attribute.
	body, _ := ptraceotlp.NewExportRequestFromTraces(goodTraces(20000, 480)).MarshalProto()
	peak := func(procs string, order []string) (string, error) {
		c, err := startCollector(o, procs, order, "")
		if err != nil {
			return "", err
		}
		defer c.stop()
		var t tally
		var wg sync.WaitGroup
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := newClient(c)
				defer cl.close()
				t.add(cl.post(context.Background(), "traces", body, nil))
			}()
		}
		wg.Wait()
		return fmt.Sprintf("peak %s (%s)", mb(proc(c.cmd.Process.Pid, "VmHWM")), t.String()), nil
	}
	what := fmt.Sprintf("%d requests of %.1f MB at once", n, float64(len(body))/(1<<20))
	none, err := peak("", nil)
	if err != nil {
		return nil, err
	}
	gp, gorder := goProcessors()
	rp, rorder := rustProcessors("")
	rows := []row{{what + ", no processor", none, "", "peak RSS of the collector"}}
	for _, v := range []struct {
		name               string
		goProcs, rustProcs string
		goOrder, rustOrder []string
	}{
		{"attributes / rust_attributes", gp, strings.Replace(gp, "attributes:", "rust_attributes:", 1), gorder, []string{"rust_attributes"}},
		{"attributes / rust_ratelimit", gp, "  rust_ratelimit:\n    rate: 1e9\n    burst: 1000000000\n", gorder, []string{"rust_ratelimit"}},
		{"attributes / rust_ratelimit + rust_attributes", gp, rp, gorder, rorder},
	} {
		g, err := peak(v.goProcs, v.goOrder)
		if err != nil {
			return nil, err
		}
		r, err := peak(v.rustProcs, v.rustOrder)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{what + ", " + v.name, g, r, ""})
	}
	return rows, nil
}
