//! Sign-in throttling: after too many failed attempts for one email address, further
//! attempts are refused for a while, whatever the password. In memory, per process.

use std::collections::HashMap;
use std::sync::Mutex;

use callplane_domain::clock::MINUTE_MS;

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW_MS: i64 = 15 * MINUTE_MS;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginLimiter {
    /// `Some(seconds to wait)` when `key` is locked out at `now`.
    pub fn blocked(&self, key: &str, now: i64) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some(&(n, start)) if n >= MAX_FAILURES && now - start < WINDOW_MS => {
                Some((start + WINDOW_MS - now) / 1000 + 1)
            }
            _ => None,
        }
    }

    pub fn failed(&self, key: &str, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Keep the map small: forget windows that are over.
        if map.len() > 10_000 {
            map.retain(|_, (_, start)| now - *start < WINDOW_MS);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        if now - entry.1 >= WINDOW_MS {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}
