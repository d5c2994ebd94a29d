package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	// The OTLP exporter compresses with gzip by default.
	_ "google.golang.org/grpc/encoding/gzip"
)

// slowPeer is an OTLP/gRPC server that takes `delay` to answer each call:
// an exporter's backend under strain.
type slowPeer struct {
	ptraceotlp.UnimplementedGRPCServer
	delay time.Duration
}

func (s *slowPeer) Export(ctx context.Context, _ ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
	}
	return ptraceotlp.NewExportResponse(), nil
}

func startSlowPeer(delay time.Duration) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, &slowPeer{delay: delay})
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), srv.Stop, nil
}

// rateLimiter measures rust_ratelimit in delay mode (200 requests/s,
// burst 1) in front of an OTLP exporter whose peer takes 100 ms a call,
// with 32 callers: how much of the configured rate gets through, against
// the same pipeline without a limiter.
func rateLimiter(o options, w io.Writer) error {
	const (
		rate    = 200
		callers = 32
	)
	peer, stop, err := startSlowPeer(100 * time.Millisecond)
	if err != nil {
		return err
	}
	defer stop()
	exporter := fmt.Sprintf(`exporters:
  otlp:
    endpoint: %s
    tls: {insecure: true}
    timeout: 10s
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
`, peer)
	limiter := map[string]string{"rust_ratelimit": fmt.Sprintf(`
      rate: %d
      burst: 1
      throttle_behavior: delay`, rate)}
	fmt.Fprintf(w, "\n## rust_ratelimit in delay mode before a slow exporter\n\n"+
		"Rate %d requests/s, burst 1; the exporter's peer takes 100 ms a call (no sending queue); %d callers send 1-span requests.\n\n"+
		"| pipeline | requests/s through | of the configured rate | collector threads (max) |\n|---|---|---|---|\n", rate, callers)
	for _, p := range []struct {
		name  string
		procs map[string]string
		order []string
	}{
		{"no limiter (capacity)", nil, nil},
		{"rust_ratelimit, delay", limiter, []string{"rust_ratelimit"}},
	} {
		addr, cfg, err := collectorConfig(p.procs, p.order, exporter, "otlp")
		if err != nil {
			return err
		}
		r, err := measure(o, p.name, cfg, addr, callers, 1, false, false, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		share := ""
		if p.procs != nil {
			share = fmt.Sprintf("%.0f%%", 100*r.reqPerS/rate)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %d |\n", p.name, r.reqPerS, share, r.maxThreads)
	}
	return nil
}
