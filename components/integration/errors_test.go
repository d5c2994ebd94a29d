//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// startScripted runs the testing collector with one traces pipeline per
// test_scripted configuration, each on its own OTLP receiver.
func startScripted(t *testing.T, scripts map[string]string) map[string]*collector {
	t.Helper()
	base := &collector{dir: t.TempDir(), output: &syncBuffer{}}
	cfg := "receivers:\n"
	addrs := map[string]*collector{}
	for name := range scripts {
		c := &collector{grpcAddr: freePort(t), httpAddr: freePort(t), dir: base.dir, output: base.output}
		addrs[name] = c
		cfg += fmt.Sprintf("  otlp/%s:\n    protocols:\n      grpc:\n        endpoint: %s\n      http:\n        endpoint: %s\n", name, c.grpcAddr, c.httpAddr)
	}
	cfg += "processors:\n"
	for name, script := range scripts {
		cfg += fmt.Sprintf("  test_scripted/%s:\n%s\n", name, script)
	}
	cfg += "exporters:\n  debug: {}\nservice:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n"
	for name := range scripts {
		cfg += fmt.Sprintf("    traces/%s:\n      receivers: [otlp/%s]\n      processors: [test_scripted/%s]\n      exporters: [debug]\n", name, name, name)
	}
	// Any receiver's port tells when the collector is up.
	for _, c := range addrs {
		base.grpcAddr = c.grpcAddr
		break
	}
	base.start(t, testingBinary(t), cfg)
	for _, c := range addrs {
		c.cmd = base.cmd
	}
	return addrs
}

func exportGRPC(t *testing.T, c *collector) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("err")))
	return err
}

func exportHTTP(t *testing.T, c *collector) (int, http.Header) {
	t.Helper()
	body, err := ptraceotlp.NewExportRequestFromTraces(traces("err")).MarshalProto()
	require.NoError(t, err)
	resp, err := http.Post("http://"+c.httpAddr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestRustErrorCodesReachRealClients(t *testing.T) {
	cs := startScripted(t, map[string]string{
		"exhausted": `    emit: 0
    error: {kind: retryable, message: "tenant over limit", grpc: 8, http: 429}`,
		"permanent": `    emit: 0
    error: {kind: permanent, message: "rejected for good"}`,
		"retryable": `    emit: 0
    error: {kind: retryable, message: "try later"}`,
		"panics": `    panic: true`,
		"fine":   `    emit: 1`,
	})

	err := exportGRPC(t, cs["exhausted"])
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	assert.Equal(t, "tenant over limit", status.Convert(err).Message())
	code, _ := exportHTTP(t, cs["exhausted"])
	assert.Equal(t, http.StatusTooManyRequests, code)

	// otlpreceiver answers a permanent error without codes with Internal
	// (HTTP 500) and a retryable one with Unavailable (HTTP 503), as for a
	// Go processor.
	err = exportGRPC(t, cs["permanent"])
	assert.Equal(t, codes.Internal, status.Code(err), "%v", err)
	code, _ = exportHTTP(t, cs["permanent"])
	assert.Equal(t, http.StatusInternalServerError, code)

	err = exportGRPC(t, cs["retryable"])
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	code, _ = exportHTTP(t, cs["retryable"])
	assert.Equal(t, http.StatusServiceUnavailable, code)

	// A panic is a permanent error naming the processor; the collector
	// keeps serving, the panicking pipeline included.
	for i := 0; i < 3; i++ {
		err = exportGRPC(t, cs["panics"])
		assert.Equal(t, codes.Internal, status.Code(err), "%v", err)
		assert.Contains(t, status.Convert(err).Message(), "test_scripted/panics")
		assert.Contains(t, status.Convert(err).Message(), "scripted panic in process")
	}
	require.NoError(t, exportGRPC(t, cs["fine"]))
	code, _ = exportHTTP(t, cs["fine"])
	assert.Equal(t, http.StatusOK, code)
	assert.Nil(t, cs["fine"].cmd.ProcessState, "collector still running")
}
