//! Waking the goroutine that waits for a request.
//!
//! Go drives every request: it polls the processor's future itself, on the
//! caller's goroutine. When the future waits (a timer, a queue), the poll
//! returns PENDING and the goroutine parks on a Go channel; the future's
//! waker must then wake that goroutine, from whatever thread calls it (a
//! tokio worker whose timer fired, another request's thread). It does so
//! with one short callback, `GoBridge::wake`, which only sends on a
//! channel: no Go consumer runs on the waking thread, and the future is
//! polled again on the goroutine's own thread.
//!
//! The state machine makes sure a wake-up is neither lost nor sent to a
//! goroutine that is not waiting:
//!
//! ```text
//! POLLING --wake--> NOTIFIED            (the poll loop sees it and polls again)
//! POLLING --poll returns Pending--> POLLING, PENDING returned to Go
//! POLLING --arm (Go registered its waiter)--> ARMED
//! ARMED   --wake--> NOTIFIED + callback to Go
//! NOTIFIED --arm--> stays, arm says "poll now"
//! any     --request ends--> DEAD        (wakes are ignored)
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::Wake;

use crate::ffi::{GoBridge, GoBridgeImpl, Wake as WakeMsg};

const POLLING: u32 = 0;
/// A wake-up came in: Go reads this value at [`WakeCell::state_ptr`] while
/// it spins briefly before parking.
pub const NOTIFIED: u32 = 1;
const ARMED: u32 = 2;
const DEAD: u32 = 3;

/// The wake-up state of one request (or of a component's emitter).
pub struct WakeCell {
    state: AtomicU32,
    kind: u8,
    id: u64,
}

impl WakeCell {
    /// A cell that wakes Go's waiter of kind `kind` and id `id`.
    pub fn new(kind: u8, id: u64) -> Arc<Self> {
        Arc::new(WakeCell {
            state: AtomicU32::new(POLLING),
            kind,
            id,
        })
    }

    /// Where the state lives, for Go to watch with an atomic load.
    pub fn state_ptr(&self) -> *const u32 {
        self.state.as_ptr().cast_const()
    }

    /// Called before each poll: wake-ups from now on are seen by the poll
    /// loop.
    pub fn begin_poll(&self) {
        self.state.store(POLLING, Ordering::SeqCst);
    }

    /// Called after a poll returned Pending: true when a wake-up came in
    /// during the poll (poll again), false when the request really waits.
    pub fn woken_during_poll(&self) -> bool {
        self.state.load(Ordering::SeqCst) == NOTIFIED
    }

    /// Go has registered its waiter. Returns true when Go should wait
    /// (the next wake-up calls it back), false when a wake-up already came
    /// (Go polls at once).
    pub fn arm(&self) -> bool {
        self.state
            .compare_exchange(POLLING, ARMED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// For a component's emitter, which drains its queue between waits:
    /// arms like [`arm`](Self::arm), or, when a wake-up already came,
    /// clears it and returns false (drain again).
    /// A dead cell arms: nothing will come, and the emitter waits for its
    /// stop.
    pub fn arm_or_clear(&self) -> bool {
        match self
            .state
            .compare_exchange(POLLING, ARMED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) | Err(DEAD) | Err(ARMED) => true,
            Err(_) => {
                let _ = self.state.compare_exchange(
                    NOTIFIED,
                    POLLING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                false
            }
        }
    }

    /// The request ended: later wake-ups are ignored.
    pub fn kill(&self) {
        self.state.store(DEAD, Ordering::SeqCst);
    }
}

impl Wake for WakeCell {
    fn wake(self: Arc<Self>) {
        wake_cell(&self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_cell(self);
    }
}

/// Wakes whoever waits on `cell` (see the module docs).
pub fn wake_cell(cell: &WakeCell) {
    let mut current = cell.state.load(Ordering::SeqCst);
    loop {
        let next = match current {
            POLLING | ARMED => NOTIFIED,
            _ => return,
        };
        match cell
            .state
            .compare_exchange(current, next, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
    if current == ARMED {
        GoBridgeImpl::wake(&WakeMsg {
            kind: cell.kind,
            id: cell.id,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_during_the_poll_is_seen_by_the_poll_loop() {
        let cell = WakeCell::new(1, 7);
        cell.begin_poll();
        Arc::clone(&cell).wake();
        assert!(cell.woken_during_poll());
        assert!(!cell.arm(), "already notified: poll at once");
    }

    #[test]
    fn an_emitter_drains_again_after_a_wake_and_waits_once_dead() {
        let cell = WakeCell::new(2, 1);
        cell.wake_by_ref();
        assert!(!cell.arm_or_clear(), "woken: drain again");
        assert!(cell.arm_or_clear(), "nothing new: wait");
        cell.kill();
        assert!(cell.arm_or_clear(), "dead: wait for the stop, never spin");
    }

    #[test]
    fn a_wake_before_arming_is_not_lost_and_dead_cells_ignore_wakes() {
        let cell = WakeCell::new(1, 7);
        cell.begin_poll();
        assert!(!cell.woken_during_poll());
        cell.wake_by_ref();
        assert!(!cell.arm());
        cell.begin_poll();
        assert!(cell.arm());
        cell.kill();
        cell.wake_by_ref();
        assert!(!cell.woken_during_poll());
    }
}
