//! Counters of the SIP trunk and its media, read by the server's `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static RTP_SENT: AtomicU64 = AtomicU64::new(0);
static RTP_RECEIVED: AtomicU64 = AtomicU64::new(0);
static RTP_LOST: AtomicU64 = AtomicU64::new(0);
static RTP_IGNORED: AtomicU64 = AtomicU64::new(0);
static ACTIVE: AtomicU64 = AtomicU64::new(0);
/// Ended calls by outcome, in the order of [`OUTCOMES`].
static ENDED: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
/// The outcomes a SIP call ends with.
pub const OUTCOMES: [&str; 5] = ["completed", "busy", "no-answer", "failed", "canceled"];

pub(crate) fn rtp_sent(n: u64) {
    RTP_SENT.fetch_add(n, Relaxed);
}
pub(crate) fn rtp_received(n: u64) {
    RTP_RECEIVED.fetch_add(n, Relaxed);
}
pub(crate) fn rtp_lost(n: u64) {
    RTP_LOST.fetch_add(n, Relaxed);
}
pub(crate) fn rtp_ignored(n: u64) {
    RTP_IGNORED.fetch_add(n, Relaxed);
}
pub(crate) fn call_started() {
    ACTIVE.fetch_add(1, Relaxed);
}
pub(crate) fn call_ended(outcome: &str) {
    ACTIVE.fetch_sub(1, Relaxed);
    if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
        ENDED[i].fetch_add(1, Relaxed);
    }
}

/// The counters now.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub active_calls: u64,
    pub ended: Vec<(&'static str, u64)>,
    pub rtp_sent: u64,
    pub rtp_received: u64,
    pub rtp_lost: u64,
    pub rtp_ignored: u64,
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        active_calls: ACTIVE.load(Relaxed),
        ended: OUTCOMES.iter().zip(&ENDED).map(|(o, n)| (*o, n.load(Relaxed))).collect(),
        rtp_sent: RTP_SENT.load(Relaxed),
        rtp_received: RTP_RECEIVED.load(Relaxed),
        rtp_lost: RTP_LOST.load(Relaxed),
        rtp_ignored: RTP_IGNORED.load(Relaxed),
    }
}
