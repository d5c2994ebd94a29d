//! The processor's only way to act on the world outside itself.
//!
//! Processors do not know whether the next consumer is a Go component, a
//! Rust processor, or a test: they call [`EffectHandler::send_message`], and
//! the engine's owner (the bridge, or a test) decides what that does through
//! a [`MessageSink`]. The sink's error comes back as the result, so a
//! processor can retry, drop or translate what the next consumer said.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::ProcessingError;

/// Where a processor's emissions go. Implemented by the bridge (next Go
/// consumer) and by tests.
#[async_trait]
pub trait MessageSink<PData: Send + 'static>: Send + Sync {
    /// Delivers one emission and reports what the receiver said.
    async fn send(&self, data: PData) -> Result<(), ProcessingError>;
}

/// Handed to [`Processor::process`](crate::Processor::process) with each
/// message.
pub struct EffectHandler<PData> {
    processor_id: Arc<str>,
    sink: Arc<dyn MessageSink<PData>>,
    counters: Arc<[AtomicU64]>,
}

impl<PData: Send + 'static> EffectHandler<PData> {
    /// An effect handler for the processor with this component id.
    pub fn new(processor_id: impl Into<Arc<str>>, sink: Arc<dyn MessageSink<PData>>) -> Self {
        EffectHandler {
            processor_id: processor_id.into(),
            sink,
            counters: Arc::from([]),
        }
    }

    /// Gives the processor `n` counters (one per entry of its factory's
    /// `metrics`), shared by every clone of this handler.
    pub fn with_counters(mut self, n: usize) -> Self {
        self.counters = (0..n).map(|_| AtomicU64::new(0)).collect();
        self
    }

    /// Adds to the processor's counter `index` (its position in the
    /// factory's `metrics`). An atomic add, aggregated in Rust: the bridge
    /// reads the totals when the Collector collects its metrics, so this
    /// never crosses into Go. Out-of-range indexes are ignored.
    pub fn add_counter(&self, index: usize, value: u64) {
        if let Some(c) = self.counters.get(index) {
            c.fetch_add(value, Ordering::Relaxed);
        }
    }

    /// The current totals of the processor's counters.
    pub fn counter_values(&self) -> Vec<u64> {
        self.counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// The component id of the processor (`type/name`).
    pub fn processor_id(&self) -> &str {
        &self.processor_id
    }

    /// Sends data to the next consumer and returns what it answered.
    pub async fn send_message(&mut self, data: PData) -> Result<(), ProcessingError> {
        self.sink.send(data).await
    }
}

impl<PData> Clone for EffectHandler<PData> {
    fn clone(&self) -> Self {
        EffectHandler {
            processor_id: self.processor_id.clone(),
            sink: self.sink.clone(),
            counters: self.counters.clone(),
        }
    }
}
