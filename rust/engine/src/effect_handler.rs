//! The processor's only way to act on the world outside itself.
//!
//! Processors do not know whether the next consumer is a Go component, a
//! Rust processor, or a test: they call [`EffectHandler::send_message`], and
//! the engine's owner (the bridge, or a test) decides what that does through
//! a [`MessageSink`]. The sink's error comes back as the result, so a
//! processor can retry, drop or translate what the next consumer said.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opentelemetry::trace::SpanContext;

use crate::ProcessingError;

/// Where a processor's emissions go. Implemented by the bridge (next Go
/// consumer) and by tests.
#[async_trait]
pub trait MessageSink<PData: Send + 'static>: Send + Sync {
    /// Delivers one emission and reports what the receiver said.
    async fn send(&self, data: PData) -> Result<(), ProcessingError>;

    /// Delivers the last emission of a message, whose answer is the
    /// message's outcome (see [`EffectHandler::forward`]), when
    /// [`try_forward`](Self::try_forward) did not take it. By default the
    /// same as [`send`](Self::send).
    async fn forward(&self, data: PData) -> Result<(), ProcessingError> {
        self.send(data).await
    }

    /// Takes the last emission of a message at once, without waiting, if
    /// this sink can: the bridge parks it and lets the Go caller take the
    /// next consumer's answer as the outcome, which saves a crossing back
    /// into Rust (and, being synchronous, the boxed future of an async
    /// trait method). Gives the data back otherwise (the default).
    fn try_forward(&self, data: PData) -> Result<(), PData> {
        Err(data)
    }
}

/// Where a processor's spans go: the host's tracer (the bridge records
/// them through the component's TracerProvider in Go).
pub trait SpanSink: Send + Sync {
    /// Starts a span under `parent`; returns the host's handle of the span
    /// and its context.
    fn start(&self, name: &str, parent: &SpanContext) -> (u64, SpanContext);
    /// Ends the span, with an error description if it failed.
    fn end(&self, handle: u64, error: Option<&str>);
}

/// A span started by a processor; it ends when dropped (or with
/// [`ProcessorSpan::end_with_error`]).
pub struct ProcessorSpan {
    handle: u64,
    context: SpanContext,
    sink: Option<Arc<dyn SpanSink>>,
    error: Option<String>,
}

impl ProcessorSpan {
    /// The span's context: parent further work (and emissions, through
    /// [`RequestContext::set_span`](crate::RequestContext::set_span)) under it.
    pub fn context(&self) -> &SpanContext {
        &self.context
    }

    /// The host's handle of the span (0 when nothing records spans).
    pub fn handle(&self) -> u64 {
        self.handle
    }

    /// Marks the span failed and ends it.
    pub fn end_with_error(mut self, error: impl Into<String>) {
        self.error = Some(error.into());
    }
}

impl Drop for ProcessorSpan {
    fn drop(&mut self) {
        if let Some(sink) = &self.sink {
            sink.end(self.handle, self.error.as_deref());
        }
    }
}

/// Handed to [`Processor::process`](crate::Processor::process) with each
/// message.
pub struct EffectHandler<PData> {
    processor_id: Arc<str>,
    sink: Arc<dyn MessageSink<PData>>,
    counters: Arc<[AtomicU64]>,
    labeled: Arc<Mutex<LabeledCounters>>,
    spans: Option<Arc<dyn SpanSink>>,
}

/// Totals of counters recorded with attributes, by counter index and
/// attribute set.
pub type LabeledCounters = HashMap<(usize, Vec<(&'static str, String)>), u64>;

impl<PData: Send + 'static> EffectHandler<PData> {
    /// An effect handler for the processor with this component id.
    pub fn new(processor_id: impl Into<Arc<str>>, sink: Arc<dyn MessageSink<PData>>) -> Self {
        EffectHandler {
            processor_id: processor_id.into(),
            sink,
            counters: Arc::from([]),
            labeled: Arc::default(),
            spans: None,
        }
    }

    /// Adds to counter `index` under extra attributes (a tenant, a
    /// strategy). Aggregated in Rust like [`add_counter`](Self::add_counter);
    /// keep the attribute values bounded.
    pub fn add_counter_with(&self, index: usize, attributes: &[(&'static str, &str)], value: u64) {
        if index >= self.counters.len() {
            return;
        }
        let key = (
            index,
            attributes
                .iter()
                .map(|(k, v)| (*k, (*v).to_string()))
                .collect(),
        );
        *self
            .labeled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += value;
    }

    /// The totals recorded with [`add_counter_with`](Self::add_counter_with).
    pub fn labeled_counter_values(&self) -> LabeledCounters {
        self.labeled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records the processor's spans through `spans`.
    pub fn with_spans(mut self, spans: Arc<dyn SpanSink>) -> Self {
        self.spans = Some(spans);
        self
    }

    /// Starts a span named `name` under `parent` (usually the request's
    /// `span_context()`), recorded by the Collector's TracerProvider.
    pub fn start_span(&self, name: &str, parent: &SpanContext) -> ProcessorSpan {
        match &self.spans {
            Some(sink) => {
                let (handle, context) = sink.start(name, parent);
                ProcessorSpan {
                    handle,
                    context,
                    sink: (handle != 0).then(|| sink.clone()),
                    error: None,
                }
            }
            None => ProcessorSpan {
                handle: 0,
                context: parent.clone(),
                sink: None,
                error: None,
            },
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

    /// Hands data to the next consumer as the last act of handling a
    /// message: whatever the next consumer answers is the message's
    /// outcome, and the processor does not look at it. Use it as
    /// `return effect_handler.forward(data).await;`, as most processors
    /// (attribute edits, filters, redaction) end.
    ///
    /// Why it exists: with [`send_message`](Self::send_message) the next
    /// consumer's answer comes back into the processor, which costs the
    /// bridge a second crossing per request (into Rust with the answer,
    /// then out with the outcome). With `forward` the bridge returns the
    /// data and the end of the request in one crossing, and Go returns
    /// the next consumer's answer to its caller itself: the same error, the
    /// same context, one crossing. Other owners (tests, the cgo-free
    /// server) treat it as `send_message`.
    ///
    /// The bridge's answer may therefore be `Ok(())` before the next
    /// consumer ran: anything the processor does after `forward` (another
    /// emission, a wait, returning an error) must not depend on it. If the
    /// processor returns an error after `forward`, the data is not
    /// delivered where the bridge deferred it, and the error is the
    /// outcome.
    pub async fn forward(&mut self, data: PData) -> Result<(), ProcessingError> {
        match self.sink.try_forward(data) {
            Ok(()) => Ok(()),
            Err(data) => self.sink.forward(data).await,
        }
    }
}

impl<PData> Clone for EffectHandler<PData> {
    fn clone(&self) -> Self {
        EffectHandler {
            processor_id: self.processor_id.clone(),
            sink: self.sink.clone(),
            counters: self.counters.clone(),
            labeled: self.labeled.clone(),
            spans: self.spans.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{traces, CollectSink, RefuseSink};
    use crate::{Context, OtlpData, RequestContext};

    fn data() -> crate::PData {
        Context::new(RequestContext::new(1), OtlpData::from_traces(traces(&[1])))
    }

    /// A sink that takes forwarded data early, as the bridge does.
    #[derive(Default)]
    struct EarlySink {
        taken: Mutex<Vec<crate::PData>>,
    }

    #[async_trait]
    impl MessageSink<crate::PData> for EarlySink {
        async fn send(&self, _: crate::PData) -> Result<(), ProcessingError> {
            Err(ProcessingError::permanent("send must not be called"))
        }

        fn try_forward(&self, data: crate::PData) -> Result<(), crate::PData> {
            self.taken
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(data);
            Ok(())
        }
    }

    #[tokio::test]
    async fn forward_is_send_unless_the_sink_takes_it_early() {
        let collect = CollectSink::new();
        let mut eh = EffectHandler::new("test/a", collect.clone());
        eh.forward(data()).await.unwrap();
        assert_eq!(collect.len(), 1, "delivered as send delivers");

        let refusing = Arc::new(RefuseSink(ProcessingError::retryable("full")));
        let mut eh = EffectHandler::new("test/b", refusing);
        let err = eh.forward(data()).await.unwrap_err();
        assert_eq!(err.to_string(), "full", "the next consumer's answer");

        let early = Arc::new(EarlySink::default());
        let mut eh = EffectHandler::new("test/c", early.clone());
        eh.forward(data()).await.unwrap();
        assert_eq!(early.taken.lock().unwrap().len(), 1, "taken without send");
    }
}
