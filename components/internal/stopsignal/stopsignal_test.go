package stopsignal

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every processor still added hears the signal; one removed does not, and
// the listener goes with the last one.
func TestEveryStartedProcessorHearsTheSignal(t *testing.T) {
	var w Watch
	var mu sync.Mutex
	heard := map[string]os.Signal{}
	for _, name := range []string{"a", "b", "gone"} {
		w.Add(name, func(sig os.Signal) {
			mu.Lock()
			defer mu.Unlock()
			heard[name] = sig
		})
	}
	w.Remove("gone")
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(heard) == 2
	}, 5*time.Second, time.Millisecond)
	mu.Lock()
	assert.Equal(t, map[string]os.Signal{"a": syscall.SIGHUP, "b": syscall.SIGHUP}, heard)
	mu.Unlock()
	w.Remove("a")
	assert.NotNil(t, w.ch, "b still listens")
	w.Remove("b")
	assert.Nil(t, w.ch, "the last one removes the listener")
}
