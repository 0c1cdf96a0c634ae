//! Campaign rules (SPEC P6): the calling window and its evaluation in a contact's own
//! time zone, the retry policy, and the lifecycle's allowed transitions.
//!
//! A window is a set of weekdays and a span of local wall-clock time, evaluated with
//! the IANA time-zone database (`jiff`), never a fixed offset: 09:00 in Los Angeles is
//! 17:00 UTC in winter and 16:00 UTC in summer. A span whose end is not after its start
//! crosses midnight, and belongs to the day it starts on (Friday 22:00–02:00 includes
//! Saturday 01:00 when Friday is a calling day).

use jiff::civil::{Date, Time};
pub use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::contact::FieldError;

/// Weekdays, Monday first (bit 0) to Sunday (bit 6).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Bit `i` set: `WEEKDAYS[i]` is a calling day.
    pub days: u8,
    /// Minutes after local midnight.
    pub start_min: u16,
    pub end_min: u16,
}

impl Window {
    /// Parses days (`mon`…`sun`) and `HH:MM` bounds.
    pub fn parse(days: &[String], start: &str, end: &str) -> Result<Self, FieldError> {
        let mut bits = 0u8;
        for d in days {
            let i = WEEKDAYS
                .iter()
                .position(|w| w.eq_ignore_ascii_case(d.trim()))
                .ok_or_else(|| FieldError::new("window.days", "must be weekdays: mon, tue, wed, thu, fri, sat, sun"))?;
            bits |= 1 << i;
        }
        if bits == 0 {
            return Err(FieldError::new("window.days", "must name at least one weekday"));
        }
        let minutes = |field: &'static str, raw: &str| {
            let t: Time = raw.trim().parse().map_err(|_| FieldError::new(field, "must be a time of day, HH:MM"))?;
            Ok::<_, FieldError>(t.hour() as u16 * 60 + t.minute() as u16)
        };
        Ok(Self { days: bits, start_min: minutes("window.start", start)?, end_min: minutes("window.end", end)? })
    }

    /// Every day, all day.
    pub fn always() -> Self {
        Self { days: 0x7f, start_min: 0, end_min: 0 }
    }

    pub fn day_names(&self) -> Vec<&'static str> {
        (0..7).filter(|i| self.days & (1 << i) != 0).map(|i| WEEKDAYS[i]).collect()
    }

    pub fn start(&self) -> String {
        hh_mm(self.start_min)
    }

    pub fn end(&self) -> String {
        hh_mm(self.end_min)
    }

    fn calls_on(&self, date: Date) -> bool {
        self.days & (1 << date.weekday().to_monday_zero_offset()) != 0
    }

    /// Whether the span crosses midnight (an equal start and end is the whole day).
    fn crosses_midnight(&self) -> bool {
        self.end_min <= self.start_min
    }

    /// Whether `at` (ms since the epoch) falls in the window in time zone `tz`.
    pub fn is_open(&self, tz: &TimeZone, at_ms: i64) -> bool {
        let Ok(at) = Timestamp::from_millisecond(at_ms) else { return false };
        let local = tz.to_datetime(at);
        let m = local.hour() as u16 * 60 + local.minute() as u16;
        let (today, yesterday) = (local.date(), local.date().yesterday().unwrap_or(local.date()));
        if !self.crosses_midnight() {
            return self.calls_on(today) && (self.start_min..self.end_min).contains(&m);
        }
        (self.calls_on(today) && m >= self.start_min) || (self.calls_on(yesterday) && m < self.end_min)
    }

    /// The first instant at or after `at_ms` when the window is open in `tz`. Openings
    /// are local wall-clock times: one that falls in a daylight-saving gap opens at the
    /// first valid instant after it.
    pub fn next_open(&self, tz: &TimeZone, at_ms: i64) -> i64 {
        if self.is_open(tz, at_ms) {
            return at_ms;
        }
        let Ok(at) = Timestamp::from_millisecond(at_ms) else { return at_ms };
        let today = tz.to_datetime(at).date();
        let start =
            Time::new((self.start_min / 60) as i8, (self.start_min % 60) as i8, 0, 0).unwrap_or(Time::midnight());
        for offset in 0..=7 {
            let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else { break };
            if !self.calls_on(date) {
                continue;
            }
            let Ok(opening) = tz.to_ambiguous_timestamp(date.to_datetime(start)).compatible() else { continue };
            let ms = opening.as_millisecond();
            if ms > at_ms {
                return ms;
            }
        }
        at_ms + 86_400_000 // unreachable with a calling day; retry tomorrow
    }
}

/// The IANA time zone named `name`, if the bundled database has it.
pub fn zone(name: &str) -> Option<TimeZone> {
    jiff::tz::db().get(name).ok()
}

fn hh_mm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A campaign's status, and what may follow it.
pub const STATUSES: &[&str] = &["draft", "scheduled", "running", "paused", "completed", "cancelled"];

/// Whether an action (`start`, `pause`, `resume`, `cancel`) applies to a campaign in
/// `status`.
pub fn allows(status: &str, action: &str) -> bool {
    matches!(
        (status, action),
        ("draft", "start")
            | ("scheduled", "pause" | "cancel")
            | ("running", "pause" | "cancel")
            | ("paused", "resume" | "cancel")
            | ("draft", "cancel")
    )
}

/// Call statuses a campaign may retry.
pub const RETRYABLE: &[&str] = &["busy", "no-answer", "failed"];

/// The idempotency key of a campaign's attempt on a contact: the dialer places each
/// attempt with it, so placing it again finds the first call instead of dialing twice.
pub fn attempt_key(campaign_id: &str, contact_id: &str, attempt: i64) -> String {
    format!("campaign:{campaign_id}:{contact_id}:{attempt}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn tz(name: &str) -> TimeZone {
        jiff::tz::db().get(name).unwrap()
    }

    fn days(list: &[&str]) -> Vec<String> {
        list.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn p6_a_window_is_evaluated_in_local_time_across_a_daylight_saving_change() {
        let w = Window::parse(&days(&WEEKDAYS), "09:00", "17:00").unwrap();
        let la = tz("America/Los_Angeles");
        // 2026-03-08: clocks go forward at 02:00 in Los Angeles.
        assert!(!w.is_open(&la, ms("2026-03-07T16:30:00Z")), "08:30 PST");
        assert!(w.is_open(&la, ms("2026-03-08T16:30:00Z")), "09:30 PDT: a fixed -08:00 would say 08:30");
        assert_eq!(w.next_open(&la, ms("2026-03-07T02:00:00Z")), ms("2026-03-07T17:00:00Z"));
        assert_eq!(w.next_open(&la, ms("2026-03-08T02:00:00Z")), ms("2026-03-08T16:00:00Z"));
    }

    #[test]
    fn p6_a_window_crossing_midnight_belongs_to_the_day_it_starts() {
        let w = Window::parse(&days(&["fri"]), "22:00", "02:00").unwrap();
        let kolkata = tz("Asia/Kolkata");
        // 2026-11-27 is a Friday. 23:30 IST Friday = 18:00 UTC.
        assert!(w.is_open(&kolkata, ms("2026-11-27T18:00:00Z")));
        // Saturday 01:30 IST: still Friday's window.
        assert!(w.is_open(&kolkata, ms("2026-11-27T20:00:00Z")));
        // Saturday 02:30 IST: closed; next opening Friday 2026-12-04 22:00 IST.
        assert!(!w.is_open(&kolkata, ms("2026-11-27T21:00:00Z")));
        assert_eq!(w.next_open(&kolkata, ms("2026-11-27T21:00:00Z")), ms("2026-12-04T16:30:00Z"));
        // Saturday 23:00 IST: Saturday is not a calling day.
        assert!(!w.is_open(&kolkata, ms("2026-11-28T17:30:00Z")));
    }

    #[test]
    fn p6_an_opening_in_a_daylight_saving_gap_moves_to_the_first_valid_instant() {
        let w = Window::parse(&days(&["sun"]), "02:30", "04:00").unwrap();
        let la = tz("America/Los_Angeles");
        // 02:30 does not exist on 2026-03-08 in Los Angeles: 03:30 PDT = 10:30 UTC.
        assert_eq!(w.next_open(&la, ms("2026-03-08T00:00:00Z")), ms("2026-03-08T10:30:00Z"));
    }

    #[test]
    fn p6_window_input_is_checked() {
        assert_eq!(Window::parse(&days(&["funday"]), "09:00", "17:00").unwrap_err().field, "window.days");
        assert_eq!(Window::parse(&[], "09:00", "17:00").unwrap_err().field, "window.days");
        assert_eq!(Window::parse(&days(&["mon"]), "9am", "17:00").unwrap_err().field, "window.start");
        assert_eq!(Window::parse(&days(&["mon"]), "09:00", "25:00").unwrap_err().field, "window.end");
        let w = Window::parse(&days(&["Mon", "sat"]), "08:05", "20:00").unwrap();
        assert_eq!((w.day_names(), w.start(), w.end()), (vec!["mon", "sat"], "08:05".into(), "20:00".into()));
        assert!(Window::always().is_open(&tz("UTC"), ms("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn p6_lifecycle_transitions() {
        assert!(allows("draft", "start"));
        assert!(allows("running", "pause") && allows("paused", "resume"));
        assert!(!allows("completed", "resume") && !allows("cancelled", "start") && !allows("running", "start"));
    }
}
