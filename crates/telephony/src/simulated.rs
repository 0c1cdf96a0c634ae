//! The simulated carrier: for each country a fixed block of numbers in real national
//! formats (so they parse and validate like real ones), priced per country.

use crate::{Country, Offer, Provider, Search};

/// A block of numbers: `+{cc}{area}{n:0width}` for n in 0..count.
struct Block {
    country: &'static str,
    locality: &'static str,
    /// Country calling code.
    cc: &'static str,
    /// Area / range digits after the country code.
    area: &'static str,
    /// Digits after the area.
    width: usize,
    start: u64,
    count: u64,
    /// National format: `{trunk}{area} ` then the rest split as `groups`.
    trunk: &'static str,
    groups: &'static [usize],
}

const BLOCKS: &[Block] = &[
    Block {
        country: "IN",
        locality: "Bengaluru",
        cc: "91",
        area: "80",
        width: 8,
        start: 41230000,
        count: 200,
        trunk: "0",
        groups: &[4, 4],
    },
    Block {
        country: "IN",
        locality: "Mumbai",
        cc: "91",
        area: "22",
        width: 8,
        start: 61230000,
        count: 200,
        trunk: "0",
        groups: &[4, 4],
    },
    Block {
        country: "IN",
        locality: "Delhi",
        cc: "91",
        area: "11",
        width: 8,
        start: 41230000,
        count: 200,
        trunk: "0",
        groups: &[4, 4],
    },
    Block {
        country: "US",
        locality: "San Francisco, CA",
        cc: "1",
        area: "415",
        width: 7,
        start: 5230000,
        count: 200,
        trunk: "",
        groups: &[3, 4],
    },
    Block {
        country: "US",
        locality: "New York, NY",
        cc: "1",
        area: "212",
        width: 7,
        start: 5230000,
        count: 200,
        trunk: "",
        groups: &[3, 4],
    },
    Block {
        country: "GB",
        locality: "London",
        cc: "44",
        area: "20",
        width: 8,
        start: 79460000,
        count: 200,
        trunk: "0",
        groups: &[4, 4],
    },
    Block {
        country: "GB",
        locality: "Manchester",
        cc: "44",
        area: "161",
        width: 7,
        start: 4960000,
        count: 200,
        trunk: "0",
        groups: &[3, 4],
    },
    Block {
        country: "AE",
        locality: "Dubai",
        cc: "971",
        area: "4",
        width: 7,
        start: 3230000,
        count: 200,
        trunk: "0",
        groups: &[3, 4],
    },
    Block {
        country: "SG",
        locality: "Singapore",
        cc: "65",
        area: "6",
        width: 7,
        start: 3230000,
        count: 200,
        trunk: "",
        groups: &[3, 4],
    },
    Block {
        country: "DE",
        locality: "Berlin",
        cc: "49",
        area: "30",
        width: 8,
        start: 12340000,
        count: 200,
        trunk: "0",
        groups: &[4, 4],
    },
];

const COUNTRIES: &[Country] = &[
    Country { code: "IN", name: "India", monthly_price: 50_000, currency: "INR" },
    Country { code: "US", name: "United States", monthly_price: 95_000, currency: "INR" },
    Country { code: "GB", name: "United Kingdom", monthly_price: 110_000, currency: "INR" },
    Country { code: "AE", name: "United Arab Emirates", monthly_price: 180_000, currency: "INR" },
    Country { code: "SG", name: "Singapore", monthly_price: 150_000, currency: "INR" },
    Country { code: "DE", name: "Germany", monthly_price: 120_000, currency: "INR" },
];

#[derive(Debug, Default, Clone, Copy)]
pub struct Simulated;

impl Block {
    fn offer(&self, n: u64) -> Offer {
        let rest = format!("{:0width$}", self.start + n, width = self.width);
        let mut national = format!("{}{}", self.trunk, self.area);
        if self.cc == "1" {
            national = format!("({}) ", self.area);
        } else {
            national.push(' ');
        }
        let mut at = 0;
        let mut parts = Vec::new();
        for g in self.groups {
            parts.push(&rest[at..at + g]);
            at += g;
        }
        national.push_str(&parts.join(if self.cc == "1" { "-" } else { " " }));
        let country = COUNTRIES.iter().find(|c| c.code == self.country).expect("every block's country is listed");
        Offer {
            e164: format!("+{}{}{}", self.cc, self.area, rest),
            national,
            country: self.country,
            locality: self.locality,
            monthly_price: country.monthly_price,
            currency: country.currency,
        }
    }
}

impl Provider for Simulated {
    fn id(&self) -> &'static str {
        "simulated"
    }

    fn countries(&self) -> &[Country] {
        COUNTRIES
    }

    fn search(&self, q: &Search) -> Vec<Offer> {
        let digits =
            |s: &Option<String>| s.as_deref().map(|v| v.chars().filter(char::is_ascii_digit).collect::<String>());
        let (prefix, contains) = (digits(&q.prefix), digits(&q.contains));
        let mut out = Vec::new();
        for b in BLOCKS {
            if q.country.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(b.country)) {
                continue;
            }
            for n in 0..b.count {
                let offer = b.offer(n);
                let plain = &offer.e164[1..];
                if prefix.as_deref().is_some_and(|p| !plain.starts_with(p))
                    || contains.as_deref().is_some_and(|c| !plain.contains(c))
                {
                    continue;
                }
                out.push(offer);
                if out.len() >= q.limit {
                    return out;
                }
            }
        }
        out
    }

    fn offer(&self, e164: &str) -> Option<Offer> {
        BLOCKS.iter().find_map(|b| {
            let rest = e164.strip_prefix('+')?.strip_prefix(b.cc)?.strip_prefix(b.area)?;
            let n: u64 = rest.parse().ok()?;
            (rest.len() == b.width && n >= b.start && n < b.start + b.count).then(|| b.offer(n - b.start))
        })
    }

    fn place(&self, to_e164: &str) -> crate::Script {
        crate::calls::simulate(to_e164)
    }

    fn receive(&self, from_e164: &str) -> crate::Script {
        crate::calls::simulate_inbound(from_e164)
    }

    fn recording(&self, turns: &[crate::Turn], talk_secs: i64) -> Vec<u8> {
        crate::media::render_wav(turns, talk_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p2_the_inventory_is_searchable_and_formatted_nationally() {
        let p = Simulated;
        let india = p.search(&Search { country: Some("in".into()), limit: 1000, ..Search::default() });
        assert_eq!(india.len(), 600);
        assert_eq!(india[0].e164, "+918041230000");
        assert_eq!(india[0].national, "080 4123 0000");
        let us = p.search(&Search { prefix: Some("+1 212".into()), limit: 3, ..Search::default() });
        assert_eq!(us[0].national, "(212) 523-0000");
        assert_eq!(us.len(), 3);
        let hit = p.search(&Search { contains: Some("7946 0042".into()), limit: 10, ..Search::default() });
        assert_eq!(hit[0].e164, "+442079460042");
        assert_eq!(p.offer("+442079460042"), Some(hit[0].clone()));
        assert_eq!(p.offer("+442079469999"), None, "outside the inventory");
    }
}
