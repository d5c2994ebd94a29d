//! What the Rust processors log, forwarded to the collector.
//!
//! Processors log with the `log` facade, as in the cgo bridge. Here a
//! record is sent to every open `Logs` stream (the collector keeps one per
//! server), tagged with the instance whose request the thread was polling,
//! so the Go side writes it to that component's logger with its component
//! id. With no stream open (before the collector subscribed) records go to
//! stderr, which the collector also reads.

use std::cell::Cell;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use log::{Level, LevelFilter, Log, Metadata, Record};
use tokio::sync::broadcast;

use crate::pb::LogRecord;

thread_local! {
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

static SENDER: OnceLock<broadcast::Sender<LogRecord>> = OnceLock::new();

/// The stream of log records, for a new subscriber.
pub fn subscribe() -> broadcast::Receiver<LogRecord> {
    sender().subscribe()
}

fn sender() -> &'static broadcast::Sender<LogRecord> {
    SENDER.get_or_init(|| broadcast::channel(4096).0)
}

/// Sets the most verbose level forwarded (1 error .. 4 debug).
pub fn set_level(level: u32) {
    log::set_max_level(match level {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    });
}

/// Installs the forwarding logger (once).
pub fn install() {
    static LOGGER: Forward = Forward;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Info);
    }
}

struct Forward;

impl Log for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = Fields(Vec::new());
        let _ = record.key_values().visit(&mut fields);
        let out = LogRecord {
            instance: CURRENT.with(Cell::get),
            level: match record.level() {
                Level::Error => 1,
                Level::Warn => 2,
                Level::Info => 3,
                Level::Debug | Level::Trace => 4,
            },
            message: record.args().to_string(),
            target: record.target().to_string(),
            fields: fields.0,
        };
        if let Err(broadcast::error::SendError(out)) = sender().send(out) {
            let mut line = format!("{} {} {}", record.level(), out.target, out.message);
            for kv in out.fields.chunks(2) {
                let _ = write!(line, " {}={}", kv[0], kv.get(1).map_or("", String::as_str));
            }
            eprintln!("{line}");
        }
    }

    fn flush(&self) {}
}

struct Fields(Vec<String>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        self.0.push(key.to_string());
        self.0.push(value.to_string());
        Ok(())
    }
}

/// Runs `f` as the given instance's work: what it logs is tagged with it.
pub fn with_instance<T>(instance: u64, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(instance));
    let out = f();
    CURRENT.with(|c| c.set(previous));
    out
}

/// The record a `Logs` stream starts with (level 0, never logged): the
/// collector waits for it, so that nothing logged after its processors
/// started is missed.
pub fn ready() -> LogRecord {
    LogRecord {
        instance: 0,
        level: 0,
        message: String::new(),
        target: String::new(),
        fields: Vec::new(),
    }
}

/// Polls a future as the given instance's work, so that what it logs is
/// tagged with that instance.
pub struct InInstance<F> {
    instance: u64,
    future: F,
}

impl<F> InInstance<F> {
    /// Wraps `future`.
    pub fn new(instance: u64, future: F) -> Self {
        InInstance { instance, future }
    }
}

impl<F: Future + Unpin> Future for InInstance<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = CURRENT.with(|c| c.replace(self.instance));
        let out = Pin::new(&mut self.future).poll(cx);
        CURRENT.with(|c| c.set(previous));
        out
    }
}
