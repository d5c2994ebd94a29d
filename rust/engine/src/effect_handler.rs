//! The processor's only way to act on the world outside itself.
//!
//! Processors do not know whether the next consumer is a Go component, a
//! Rust processor, or a test: they call [`EffectHandler::send_message`], and
//! the engine's owner (the bridge, or a test) decides what that does through
//! a [`MessageSink`]. The sink's error comes back as the result, so a
//! processor can retry, drop or translate what the next consumer said.

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
}

impl<PData: Send + 'static> EffectHandler<PData> {
    /// An effect handler for the processor with this component id.
    pub fn new(processor_id: impl Into<Arc<str>>, sink: Arc<dyn MessageSink<PData>>) -> Self {
        EffectHandler {
            processor_id: processor_id.into(),
            sink,
        }
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
        }
    }
}
