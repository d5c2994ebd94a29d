package rustprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rustprocesspb"
)

const (
	// EnvServer names the otelcol-rust-server binary; by default it is
	// looked for next to the collector's executable, then on PATH.
	EnvServer = "OTELCOL_RUST_SERVER"
	// EnvSocket names the socket of a server someone else runs: the
	// collector connects to it and neither starts nor restarts it.
	EnvSocket = "OTELCOL_RUST_SERVER_SOCKET"

	serverName = "otelcol-rust-server"
	// How long a started server may take to listen.
	startTimeout = 10 * time.Second
	// Restart backoff: the first restart is immediate-ish, and a server
	// that keeps dying is retried at most every maxRestartDelay.
	minRestartDelay = 10 * time.Millisecond
	maxRestartDelay = 2 * time.Second
)

// server is the one Rust process of this collector, shared by every Rust
// processor. It is started by the first Acquire and stopped by the last
// Release.
type server struct {
	mu      sync.Mutex
	refs    int
	logger  *zap.Logger
	conn    *grpc.ClientConn
	client  rustprocesspb.ProcessorsClient
	socket  string
	dir     string // our private socket directory, removed on stop
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stop    chan struct{}
	exited  chan struct{}
	managed bool
	// generation counts the server processes started: instances created
	// in an earlier one are created again.
	generation atomic.Uint64
	restarts   atomic.Uint64
	started    time.Time
	delay      time.Duration
	logsCancel context.CancelFunc
	logSinks   sync.Map // instance handle (uint64) -> *zap.Logger
}

var shared = &server{}

// Restarts reports how many times the Rust process was restarted after it
// died (tests and the loadtest read it).
func Restarts() uint64 { return shared.restarts.Load() }

// ServerPID is the process id of the running Rust process, 0 when none
// runs or it is not ours.
func ServerPID() int {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cmd == nil || shared.cmd.Process == nil {
		return 0
	}
	return shared.cmd.Process.Pid
}

// serverBinary finds otelcol-rust-server.
func serverBinary() (string, error) {
	if p := os.Getenv(EnvServer); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), serverName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(serverName)
	if err != nil {
		return "", fmt.Errorf("%s not found next to the collector nor on PATH (set %s)", serverName, EnvServer)
	}
	return p, nil
}

// acquire starts the server if this is its first user.
func (s *server) acquire(logger *zap.Logger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs > 0 {
		s.refs++
		return nil
	}
	s.logger = logger
	if sock := os.Getenv(EnvSocket); sock != "" {
		s.socket, s.managed = sock, false
	} else {
		dir, err := os.MkdirTemp("", "otelcol-rust-") // mode 0700: only our user
		if err != nil {
			return err
		}
		s.dir, s.socket, s.managed = dir, filepath.Join(dir, "server.sock"), true
		s.stop = make(chan struct{})
		if err := s.launch(); err != nil {
			_ = os.RemoveAll(dir)
			return err
		}
	}
	conn, err := grpc.NewClient("unix://"+s.socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)),
		// A restarted server is reconnected to at once, not after grpc's
		// default backoff of seconds.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 10 * time.Millisecond, Multiplier: 1.6, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		s.stopLocked()
		return err
	}
	s.conn, s.client = conn, rustprocesspb.NewProcessorsClient(conn)
	ctx, cancel := context.WithCancel(context.Background())
	s.logsCancel = cancel
	ready := make(chan struct{})
	go s.forwardLogs(ctx, s.client, ready)
	// What the processors log from now on reaches their loggers.
	select {
	case <-ready:
	case <-time.After(startTimeout):
		s.logger.Warn("the Rust processor server's log stream did not open; its logs go to this logger")
	}
	s.refs = 1
	return nil
}

// release stops the server when its last user is gone.
func (s *server) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 {
		return
	}
	s.refs--
	if s.refs == 0 {
		s.stopLocked()
	}
}

func (s *server) stopLocked() {
	if s.logsCancel != nil {
		s.logsCancel()
	}
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.client = nil, nil
	}
	if s.managed {
		close(s.stop)
		if s.cmd != nil && s.cmd.Process != nil {
			// Closing stdin asks it to exit; SIGKILL if it does not.
			_ = s.stdin.Close()
			select {
			case <-s.exited:
			case <-time.After(5 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
			}
		}
		_ = os.RemoveAll(s.dir)
		s.cmd = nil
	}
}

// launch starts a server process and waits until it listens. Called with
// s.mu held.
func (s *server) launch() error {
	bin, err := serverBinary()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "--socket", s.socket, "--exit-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = &logWriter{logger: s.logger}
	cmd.Stderr = &logWriter{logger: s.logger}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	s.cmd, s.stdin, s.exited, s.started = cmd, stdin, exited, time.Now()
	s.generation.Add(1)
	go func() {
		err := cmd.Wait()
		close(exited)
		s.onExit(cmd, err)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		if c, err := net.Dial("unix", s.socket); err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start: %v", bin, cmd.ProcessState)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s did not listen on %s within %s", bin, s.socket, startTimeout)
		}
	}
}

// onExit restarts a server that died while it was in use. A server that
// dies again soon after it started is restarted with a growing delay.
func (s *server) onExit(cmd *exec.Cmd, err error) {
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		return
	default:
	}
	if s.cmd != cmd || terminating.Load() {
		s.mu.Unlock()
		return
	}
	if time.Since(s.started) > time.Second {
		s.delay = 0
	}
	delay := s.delay
	s.delay = min(max(2*s.delay, minRestartDelay), maxRestartDelay)
	if s.logger != nil {
		s.logger.Error("the Rust processor server exited; restarting it", zap.Error(err), zap.Duration("after", delay))
	}
	s.mu.Unlock()
	time.Sleep(delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		return
	default:
	}
	if err := s.launch(); err != nil {
		if s.logger != nil {
			s.logger.Error("restarting the Rust processor server failed", zap.Error(err))
		}
		if s.cmd == cmd {
			// Not even started: try again later.
			go s.onExit(cmd, err)
		}
		return
	}
	s.restarts.Add(1)
	if s.conn != nil {
		s.conn.ResetConnectBackoff()
		s.conn.Connect()
	}
}

// current returns the client and the generation of the process it talks
// to.
func (s *server) current() (rustprocesspb.ProcessorsClient, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return nil, 0, errors.New("otelcol-rust: the Rust processor server is not running")
	}
	return s.client, s.generation.Load(), nil
}

// logWriter writes what the server prints (before any log stream is open,
// or when it crashes) to the collector's logger.
type logWriter struct{ logger *zap.Logger }

func (w *logWriter) Write(p []byte) (int, error) {
	if w.logger == nil {
		return len(p), nil
	}
	for _, line := range strings.Split(string(p), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		// The server prints "LEVEL target message" before a log stream is
		// open; anything else (a crash) is a warning.
		level, rest, _ := strings.Cut(line, " ")
		field := zap.String("rust.target", serverName)
		switch level {
		case "ERROR":
			w.logger.Error(rest, field)
		case "INFO":
			w.logger.Info(rest, field)
		case "DEBUG", "TRACE":
			w.logger.Debug(rest, field)
		case "WARN":
			w.logger.Warn(rest, field)
		default:
			w.logger.Warn(line, field)
		}
	}
	return len(p), nil
}
