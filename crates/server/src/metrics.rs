//! Request counters by status class and the SIP trunk's call and RTP counters,
//! rendered in the Prometheus text format (SPEC O3). `api::system` counts every
//! response into them and serves them at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

/// Request counters by status class.
#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
}

impl Metrics {
    pub fn record(&self, status: StatusCode) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP callplane_http_requests_total HTTP requests answered, by status class.\n\
             # TYPE callplane_http_requests_total counter\n",
        );
        for (i, n) in self.by_class.iter().enumerate() {
            out.push_str(&format!(
                "callplane_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str(&render_sip(&callplane_telephony::metrics::snapshot()));
        out
    }
}

/// The SIP user agent's counters (this process's calls and media).
fn render_sip(s: &callplane_telephony::metrics::Snapshot) -> String {
    let mut out = format!(
        "# HELP callplane_sip_active_calls SIP calls in progress in this process.\n\
         # TYPE callplane_sip_active_calls gauge\n\
         callplane_sip_active_calls {}\n\
         # HELP callplane_sip_calls_total SIP calls ended, by outcome.\n\
         # TYPE callplane_sip_calls_total counter\n",
        s.active_calls
    );
    for (outcome, n) in &s.ended {
        out.push_str(&format!("callplane_sip_calls_total{{outcome=\"{outcome}\"}} {n}\n"));
    }
    for (name, help, n) in [
        ("sent", "RTP packets sent.", s.rtp_sent),
        ("received", "RTP packets received from the negotiated address.", s.rtp_received),
        ("lost", "RTP packets lost (gaps in the far end's sequence numbers).", s.rtp_lost),
        ("ignored", "RTP packets dropped: another source, malformed, oversized or unexpected.", s.rtp_ignored),
    ] {
        out.push_str(&format!(
            "# HELP callplane_rtp_packets_{name}_total {help}\n\
             # TYPE callplane_rtp_packets_{name}_total counter\n\
             callplane_rtp_packets_{name}_total {n}\n"
        ));
    }
    out
}
