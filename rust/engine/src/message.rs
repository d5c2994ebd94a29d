//! What a processor receives: data, or a control message from the engine.

/// Control messages the engine sends a processor besides data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMsg {
    /// The component is shutting down. Sent once to every idle instance
    /// after the Collector ended every request: release what is held
    /// (connections, files). Data can no longer be sent, and the answer
    /// is not waited for: a processor that returns `Pending` is dropped.
    Shutdown,
}

/// One input to [`Processor::process`](crate::Processor::process).
#[derive(Debug, Clone)]
pub enum Message<PData> {
    /// Pipeline data.
    PData(PData),
    /// A control message.
    Control(ControlMsg),
}

impl<PData> Message<PData> {
    /// Wraps pipeline data.
    pub fn pdata(data: PData) -> Self {
        Message::PData(data)
    }

    /// True for pipeline data.
    pub fn is_pdata(&self) -> bool {
        matches!(self, Message::PData(_))
    }
}
