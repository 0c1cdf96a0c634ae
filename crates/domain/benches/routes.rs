//! Destination validation benchmark (SPEC N3), against a baseline measured in the same
//! run: longest-prefix lookups over the shipped catalog against `HashMap` probes of the
//! same exact numbers (the cheapest lookup there is: the number is the key). Goals:
//! within 2× of the probe, and over 5 million lookups/s on one core.
//!
//! Run with `cargo bench -p callplane-domain --bench routes` (or `scripts/bench`).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use callplane_domain::telephony::{Catalog, Routes, SHIPPED};

const NUMBERS: usize = 1_000_000;
const ROUNDS: usize = 5;

fn main() {
    let catalog = Catalog::parse(SHIPPED).expect("the shipped catalog parses");
    let routes = Routes::new(catalog.clone());
    // Destinations spread over every group: a prefix, then digits up to 12 in all.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let prefixes: Vec<&String> = catalog.groups.iter().flat_map(|g| &g.prefixes).collect();
    let numbers: Vec<String> = (0..NUMBERS)
        .map(|_| {
            let p = prefixes[(next() % prefixes.len() as u64) as usize];
            let mut n = format!("+{p}");
            while n.len() < 13 {
                n.push(char::from(b'0' + (next() % 10) as u8));
            }
            n
        })
        .collect();
    let exact: HashMap<&str, u32> = numbers.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32)).collect();

    let mut best_probe = f64::MAX;
    let mut best_route = f64::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut found = 0usize;
        for n in &numbers {
            if let Some(&i) = exact.get(black_box(n.as_str())) {
                found += 1;
                black_box(i);
            }
        }
        assert_eq!(black_box(found), NUMBERS);
        best_probe = best_probe.min(start.elapsed().as_secs_f64());

        let start = Instant::now();
        let mut routed = 0usize;
        for n in &numbers {
            routed += usize::from(routes.route("plivo", black_box(n), |_| true).is_ok());
        }
        assert_eq!(black_box(routed), NUMBERS, "every generated number routes");
        best_route = best_route.min(start.elapsed().as_secs_f64());
    }
    let per_sec = |secs: f64| NUMBERS as f64 / secs;
    println!(
        "destination validation over the shipped catalog ({} groups, {} prefixes), {NUMBERS} numbers, best of {ROUNDS}:",
        catalog.groups.len(),
        catalog.prefix_count()
    );
    println!("  HashMap probe of the exact numbers: {:>6.1} M lookups/s", per_sec(best_probe) / 1e6);
    println!("  longest-prefix route (N3):          {:>6.1} M lookups/s", per_sec(best_route) / 1e6);
    println!(
        "  ratio (route / probe): {:.2}x   (goal: at least 0.5x, i.e. within 2x; and over 5 M/s on one core)",
        best_probe / best_route
    );
}
