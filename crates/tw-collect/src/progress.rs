//! Counters a display samples while a run goes: per tenant and source, records written, time
//! throttled and state. Updated per record line (one relaxed atomic add) and per window.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// State of a row.
pub const WAITING: u8 = 0;
/// Collecting.
pub const RUNNING: u8 = 1;
/// Finished, complete.
pub const DONE: u8 = 2;
/// Finished, incomplete.
pub const INCOMPLETE: u8 = 3;

/// One tenant and source.
#[derive(Debug, Default)]
pub struct Row {
    /// Tenant id.
    pub tenant: String,
    /// Source name.
    pub source: String,
    /// Records written (windows of earlier runs included).
    pub records: Arc<AtomicU64>,
    /// Milliseconds throttled.
    pub throttled_ms: AtomicU64,
    /// [`WAITING`], [`RUNNING`], [`DONE`] or [`INCOMPLETE`].
    pub state: AtomicU8,
}

/// All rows of a run.
#[derive(Debug, Default)]
pub struct Progress {
    rows: Mutex<Vec<Arc<Row>>>,
}

impl Progress {
    /// A new row.
    pub fn row(&self, tenant: &str, source: &str) -> Arc<Row> {
        let r = Arc::new(Row {
            tenant: tenant.to_string(),
            source: source.to_string(),
            ..Default::default()
        });
        self.rows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(r.clone());
        r
    }

    /// The rows so far.
    pub fn rows(&self) -> Vec<Arc<Row>> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Row {
    /// Sets the state.
    pub fn set(&self, s: u8) {
        self.state.store(s, Ordering::Relaxed);
    }
}
