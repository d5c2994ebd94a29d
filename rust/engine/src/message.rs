//! What a processor receives: data, or a control message from the engine.

/// Control messages the engine sends a processor besides data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMsg {
    /// A timer the processor asked for fired.
    TimerTick,
    /// The component is shutting down: flush what is held.
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
