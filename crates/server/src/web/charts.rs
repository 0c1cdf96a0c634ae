//! Charts drawn by the server as inline SVG (no script, no chart library): calls per
//! day, stacked answered / not answered, and horizontal bars for a breakdown.

use std::fmt::Write;

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round axis maximum at or above `max` (1, 2, 5 × 10ⁿ).
fn nice(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max.max(1) {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// Calls per day: each bar is the day's calls, its lower part the answered ones.
/// `days` is `(date, calls, answered)`, oldest first.
pub fn daily_calls(days: &[(String, i64, i64)]) -> String {
    const W: f64 = 720.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 24.0;
    let top = nice(days.iter().map(|d| d.1).max().unwrap_or(0));
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - 10.0;
    let slot = plot_w / days.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let y = |v: i64| 10.0 + plot_h - plot_h * v as f64 / top as f64;
    let mut svg = format!(
        r#"<svg class="chart" id="chart-daily" viewBox="0 0 {W} {H}" role="img" aria-label="Calls per day, answered and not answered" xmlns="http://www.w3.org/2000/svg">"#
    );
    for frac in [0.0, 0.5, 1.0] {
        let v = (top as f64 * frac).round() as i64;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#6b7280">{v}</text>"##,
            W - 8.0,
            LEFT - 4.0,
            y(v) + 3.0,
            y = y(v)
        );
    }
    let label_every = (days.len() / 8).max(1);
    for (i, (date, calls, answered)) in days.iter().enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
        let _ = write!(
            svg,
            r##"<g class="day" data-date="{d}" data-calls="{calls}" data-answered="{answered}"><title>{d}: {calls} calls, {answered} answered</title><rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#cbd5e1"/><rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#2563eb"/></g>"##,
            y(*calls),
            y(0) - y(*calls),
            y(*answered),
            y(0) - y(*answered),
            d = esc(date)
        );
        if i % label_every == 0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#6b7280">{}</text>"##,
                x + bar / 2.0,
                H - 8.0,
                esc(date.get(5..).unwrap_or(date))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars: one per `(label, value)`, longest first as given.
pub fn bars(id: &str, items: &[(String, i64)]) -> String {
    const W: f64 = 360.0;
    const ROW: f64 = 22.0;
    const LABEL: f64 = 110.0;
    let h = ROW * items.len().max(1) as f64 + 4.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let mut svg = format!(
        r#"<svg class="chart" id="{}" viewBox="0 0 {W} {h}" role="img" xmlns="http://www.w3.org/2000/svg">"#,
        esc(id)
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 2.0 + i as f64 * ROW;
        let w = (W - LABEL - 50.0) * *value as f64 / max as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#374151">{l}</text><rect x="{LABEL}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="#2563eb" data-label="{l}" data-value="{value}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#374151">{value}</text>"##,
            LABEL - 6.0,
            y + 14.0,
            y + 3.0,
            ROW - 8.0,
            LABEL + w + 4.0,
            y + 14.0,
            l = esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p9_charts_scale_to_their_data_and_escape_labels() {
        assert_eq!((nice(0), nice(7), nice(11), nice(480)), (1, 10, 20, 500));
        let svg = daily_calls(&[("2026-11-01".into(), 10, 4), ("2026-11-02".into(), 5, 5)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"day\"").count(), 2);
        assert!(svg.contains("data-calls=\"10\" data-answered=\"4\""));
        let b = bars("outcomes", &[("<busy>".into(), 3)]);
        assert!(b.contains("&lt;busy&gt;") && !b.contains("<busy>"));
    }
}
