//go:build integration

package integration

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	// The otlp_grpc exporter compresses with gzip by default.
	_ "google.golang.org/grpc/encoding/gzip"
)

// The image test (make test-image, scripts/test-image.sh) builds the image,
// saves it as an OCI layout and points OTELCOL_RUST_IMAGE_OCI at it. These
// tests read the image as a registry would hand it out, unpack its layers
// into a directory and run the collector from there as the image's user,
// with nothing of the host inside but /proc, as in a container: in one
// when OTELCOL_RUST_IMAGE_RUNNER is "podman", otherwise in a chroot.

const imageUser = 65532

type ociImage struct {
	dir      string
	manifest struct {
		Config ociDescriptor   `json:"config"`
		Layers []ociDescriptor `json:"layers"`
	}
	config struct {
		Config struct {
			User         string              `json:"User"`
			Entrypoint   []string            `json:"Entrypoint"`
			Cmd          []string            `json:"Cmd"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts"`
			Labels       map[string]string   `json:"Labels"`
		} `json:"config"`
	}
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func (o *ociImage) blob(d ociDescriptor) string {
	algo, hex, _ := strings.Cut(d.Digest, ":")
	return filepath.Join(o.dir, "blobs", algo, hex)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, v))
}

func loadImage(t *testing.T) *ociImage {
	t.Helper()
	dir := os.Getenv("OTELCOL_RUST_IMAGE_OCI")
	if dir == "" {
		t.Skip("OTELCOL_RUST_IMAGE_OCI is not set: the image test runs from make test-image")
	}
	o := &ociImage{dir: dir}
	var index struct {
		Manifests []ociDescriptor `json:"manifests"`
	}
	readJSON(t, filepath.Join(dir, "index.json"), &index)
	require.Len(t, index.Manifests, 1)
	readJSON(t, o.blob(index.Manifests[0]), &o.manifest)
	readJSON(t, o.blob(o.manifest.Config), &o.config)
	return o
}

// unpack writes the image's layers, in order, into a new directory.
func (o *ociImage) unpack(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	require.NoError(t, os.Mkdir(root, 0o755))
	for _, layer := range o.manifest.Layers {
		f, err := os.Open(o.blob(layer))
		require.NoError(t, err)
		var r io.Reader = f
		if strings.HasSuffix(layer.MediaType, "gzip") {
			gz, err := gzip.NewReader(f)
			require.NoError(t, err)
			r = gz
		}
		extract(t, tar.NewReader(r), root)
		f.Close()
	}
	// The layers hold files only; the root directory of a container is
	// the runtime's, and must let the image's user through.
	require.NoError(t, os.Chmod(root, 0o755))
	return root
}

func extract(t *testing.T, tr *tar.Reader, root string) {
	t.Helper()
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		name := filepath.Clean("/" + h.Name)
		require.NotContains(t, filepath.Base(name), ".wh.", "layers of this image delete nothing")
		dst := filepath.Join(root, name)
		mode := os.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(dst, mode))
			require.NoError(t, os.Chmod(dst, mode))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		case tar.TypeSymlink:
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			require.NoError(t, os.Symlink(h.Linkname, dst))
		case tar.TypeLink:
			require.NoError(t, os.Link(filepath.Join(root, filepath.Clean("/"+h.Linkname)), dst))
		default:
			t.Fatalf("unexpected entry %s of type %c in a layer", h.Name, h.Typeflag)
		}
		if os.Geteuid() == 0 {
			require.NoError(t, os.Lchown(dst, h.Uid, h.Gid))
		}
	}
}

// imageRunner starts the image's entrypoint with arguments and an
// environment, as the image's user.
type imageRunner interface {
	command(env map[string]string, args ...string) *exec.Cmd
	// pid is the collector's own process id when the runner knows it.
	pid(cmd *exec.Cmd) (int, bool)
}

// chrootRunner runs the entrypoint in a chroot of the unpacked layers,
// with /proc mounted as every container runtime mounts it (memory_limiter
// reads the memory limit through it), in a mount namespace of its own.
type chrootRunner struct {
	root       string
	entrypoint []string
	unshare    string
	mount      string
	chroot     string
}

func (r chrootRunner) command(env map[string]string, args ...string) *exec.Cmd {
	// Each step execs the next: the pid stays the collector's.
	script := fmt.Sprintf(`%s -t proc proc "$0/proc" && exec %s --userspec=%d:%d "$0" "$@"`, r.mount, r.chroot, imageUser, imageUser)
	argv := append([]string{"--mount", "--propagation", "private", "/bin/sh", "-c", script, r.root}, r.entrypoint...)
	cmd := exec.Command(r.unshare, append(argv, args...)...)
	cmd.Env = []string{}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func (chrootRunner) pid(cmd *exec.Cmd) (int, bool) { return cmd.Process.Pid, true }

// podmanRunner runs the image in a container on the host's network.
type podmanRunner struct {
	podman []string
	image  string
}

func (r podmanRunner) command(env map[string]string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, r.podman[1:]...), "run", "--rm", "--network=host")
	for k, v := range env {
		argv = append(argv, "--env", k+"="+v)
	}
	argv = append(argv, r.image)
	return exec.Command(r.podman[0], append(argv, args...)...)
}

func (podmanRunner) pid(*exec.Cmd) (int, bool) { return 0, false }

func runnerFor(t *testing.T, o *ociImage) imageRunner {
	t.Helper()
	if os.Getenv("OTELCOL_RUST_IMAGE_RUNNER") == "podman" {
		podman := strings.Fields(os.Getenv("OTELCOL_RUST_PODMAN"))
		require.NotEmpty(t, podman, "OTELCOL_RUST_PODMAN must hold the podman command line")
		return podmanRunner{podman: podman, image: os.Getenv("OTELCOL_RUST_IMAGE")}
	}
	require.Zero(t, os.Geteuid(), "running the image in a chroot needs root")
	r := chrootRunner{root: o.unpack(t), entrypoint: o.config.Config.Entrypoint}
	require.NoError(t, os.Mkdir(filepath.Join(r.root, "proc"), 0o555))
	for tool, path := range map[string]*string{"unshare": &r.unshare, "mount": &r.mount, "chroot": &r.chroot} {
		var err error
		*path, err = exec.LookPath(tool)
		require.NoError(t, err)
	}
	return r
}

func TestImageMetadata(t *testing.T) {
	o := loadImage(t)
	c := o.config.Config
	assert.Equal(t, fmt.Sprintf("%d:%d", imageUser, imageUser), c.User)
	assert.Equal(t, []string{"/otelcol-rust"}, c.Entrypoint)
	assert.Equal(t, []string{"--config", "/etc/otelcol-rust/config.yaml"}, c.Cmd)
	for _, port := range []string{"4317/tcp", "4318/tcp", "13133/tcp"} {
		assert.Contains(t, c.ExposedPorts, port)
	}
	for _, label := range []string{"org.opencontainers.image.version", "org.opencontainers.image.source", "org.opencontainers.image.revision"} {
		assert.NotEmpty(t, c.Labels[label], label)
	}
	if want := os.Getenv("OTELCOL_RUST_IMAGE_REVISION"); want != "" {
		assert.Equal(t, want, c.Labels["org.opencontainers.image.revision"])
	}
	var compressed int64
	for _, l := range o.manifest.Layers {
		compressed += l.Size
	}
	t.Logf("image: %d layers, %.1f MB compressed", len(o.manifest.Layers), float64(compressed)/1e6)
}

// TestImageRootFilesystem: the binary and what it needs at run time, and
// nothing else.
func TestImageRootFilesystem(t *testing.T) {
	o := loadImage(t)
	root := o.unpack(t)
	var files []string
	var size int64
	require.NoError(t, filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, "/"+rel)
		size += info.Size()
		return nil
	}))
	for _, want := range []string{"/otelcol-rust", "/etc/otelcol-rust/config.yaml", "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd", "/etc/group", "/lib64/ld-linux-x86-64.so.2"} {
		assert.Contains(t, files, want)
	}
	for _, f := range files {
		switch {
		case f == "/otelcol-rust", strings.HasPrefix(f, "/etc/"), strings.HasPrefix(f, "/usr/share/doc/"):
		case strings.HasPrefix(f, "/lib"), strings.HasPrefix(f, "/usr/lib"):
			assert.Contains(t, filepath.Base(f), ".so", "only shared libraries under %s", filepath.Dir(f))
		default:
			t.Errorf("unexpected file in the image: %s", f)
		}
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	require.NoError(t, err)
	assert.Contains(t, string(passwd), fmt.Sprintf(":%d:%d:", imageUser, imageUser))
	info, err := os.Stat(filepath.Join(root, "otelcol-rust"))
	require.NoError(t, err)
	assert.Equal(t, uint32(0), info.Sys().(*syscall.Stat_t).Uid, "the image's user must not own the binary")
	t.Logf("image root filesystem: %d files, %.1f MB", len(files), float64(size)/1e6)
}

// otlpSink is an OTLP/gRPC server the collector in the image exports to.
type otlpSink struct {
	mu      sync.Mutex
	traces  []ptrace.Traces
	metrics []pmetric.Metrics
	logs    []plog.Logs
}

type tracesSink struct {
	ptraceotlp.UnimplementedGRPCServer
	*otlpSink
}

func (s *tracesSink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	td := ptrace.NewTraces()
	req.Traces().CopyTo(td)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.traces = append(s.traces, td)
	return ptraceotlp.NewExportResponse(), nil
}

type metricsSink struct {
	pmetricotlp.UnimplementedGRPCServer
	*otlpSink
}

func (s *metricsSink) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	md := pmetric.NewMetrics()
	req.Metrics().CopyTo(md)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = append(s.metrics, md)
	return pmetricotlp.NewExportResponse(), nil
}

type logsSink struct {
	plogotlp.UnimplementedGRPCServer
	*otlpSink
}

func (s *logsSink) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	ld := plog.NewLogs()
	req.Logs().CopyTo(ld)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, ld)
	return plogotlp.NewExportResponse(), nil
}

func startSink(t *testing.T) (*otlpSink, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &otlpSink{}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, &tracesSink{otlpSink: s})
	pmetricotlp.RegisterGRPCServer(srv, &metricsSink{otlpSink: s})
	plogotlp.RegisterGRPCServer(srv, &logsSink{otlpSink: s})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return s, l.Addr().String()
}

// attributes finds the attributes of the record sent via `via`.
func (s *otlpSink) attributes(via string) (span, point, record pcommon.Map, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found int
	for _, td := range s.traces {
		if sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0); sp.Name() == "span-"+via {
			span, found = sp.Attributes(), found+1
			break
		}
	}
	for _, md := range s.metrics {
		if m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0); m.Name() == "metric-"+via {
			point, found = m.Sum().DataPoints().At(0).Attributes(), found+1
			break
		}
	}
	for _, ld := range s.logs {
		if lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0); lr.Body().Str() == "log-"+via {
			record, found = lr.Attributes(), found+1
			break
		}
	}
	return span, point, record, found == 3
}

// TestImageRunsTheCollector: validate, start, OTLP over gRPC and HTTP
// through memory_limiter and a Rust processor and back out over OTLP,
// health_check, then SIGTERM and a clean exit, all from the image.
func TestImageRunsTheCollector(t *testing.T) {
	o := loadImage(t)
	run := runnerFor(t, o)

	// The configuration the image ships validates inside the image.
	out, err := run.command(nil, "validate", "--config", "/etc/otelcol-rust/config.yaml").CombinedOutput()
	require.NoError(t, err, "validating the image's default configuration:\n%s", out)

	sink, sinkAddr := startSink(t)
	grpcAddr, httpAddr, healthAddr := freePort(t), freePort(t), freePort(t)
	cfg := fmt.Sprintf(`extensions:
  health_check:
    endpoint: %s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
%s  memory_limiter:
    check_interval: 1s
    limit_mib: 512
    spike_limit_mib: 128
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
    sending_queue:
      enabled: false
service:
  telemetry:
    metrics:
      level: none
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, rust_attributes]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, rust_attributes]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, rust_attributes]
      exporters: [otlp_grpc]
`, healthAddr, grpcAddr, httpAddr, processorsConfig, sinkAddr)
	env := map[string]string{"OTELCOL_RUST_TEST_CONFIG": cfg}
	configArgs := []string{"--config", "env:OTELCOL_RUST_TEST_CONFIG"}

	out, err = run.command(env, append([]string{"validate"}, configArgs...)...).CombinedOutput()
	require.NoError(t, err, "validate:\n%s", out)

	output := &syncBuffer{}
	cmd := run.command(env, configArgs...)
	cmd.Stdout, cmd.Stderr = output, output
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	healthy := func() bool {
		resp, err := http.Get("http://" + healthAddr + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	require.Eventually(t, healthy, 60*time.Second, 100*time.Millisecond,
		"health_check never answered 200; collector output:\n%s", output.String())

	if pid, ok := run.pid(cmd); ok {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		require.NoError(t, err)
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "Uid:") {
				assert.Equal(t, []string{"Uid:", "65532", "65532", "65532", "65532"}, strings.Fields(line))
				t.Logf("collector (pid %d) runs as %s", pid, strings.Join(strings.Fields(line), " "))
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := grpcConn(t, grpcAddr)
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("grpc")))
	require.NoError(t, err)
	_, err = pmetricotlp.NewGRPCClient(conn).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(metrics("grpc")))
	require.NoError(t, err)
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(logs("grpc")))
	require.NoError(t, err)
	body, err := ptraceotlp.NewExportRequestFromTraces(traces("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+httpAddr+"/v1/traces", body)
	body, err = pmetricotlp.NewExportRequestFromMetrics(metrics("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+httpAddr+"/v1/metrics", body)
	body, err = plogotlp.NewExportRequestFromLogs(logs("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+httpAddr+"/v1/logs", body)

	for _, via := range []string{"grpc", "http"} {
		var span, point, record pcommon.Map
		require.Eventually(t, func() bool {
			var ok bool
			span, point, record, ok = sink.attributes(via)
			return ok
		}, 30*time.Second, 50*time.Millisecond, "the data sent over %s did not come back; collector output:\n%s", via, output.String())
		assertEdited(t, span)
		assertEdited(t, point)
		assertEdited(t, record)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		stopped = true
		require.NoError(t, err, "exit after SIGTERM; collector output:\n%s", output.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("collector did not exit within 30s of SIGTERM; output:\n%s", output.String())
	}
	text := output.String()
	assert.Contains(t, text, "Shutdown complete")
	assert.NotContains(t, text, "\terror\t")
}
