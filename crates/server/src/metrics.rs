//! Request counters by status class, rendered in the Prometheus text format (SPEC O3).
//! `api::system` counts every response into them and serves them at `/metrics`.

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
        out
    }
}
