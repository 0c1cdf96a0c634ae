//! Generates `crates/domain/data/telephony.catalog`, the telephony catalog the binary ships (SPEC N1).
//!
//! The prefixes come from libphonenumber's metadata (the `phonenumber` crate): for each
//! country, national number ranges are split digit by digit until every range holds one
//! kind of number (mobile, landline, or both where the plan does not tell them apart,
//! as in North America), sampling completions of every possible length. India's
//! landlines are further split into metro and other trunk (STD) areas. The rates in
//! the table below are the generated file's starting values; after generation the file
//! is the data: edit it and load it with `callplane admin telephony load FILE`.
//!
//! Run: `cargo run -p callplane-domain --example telephony_catalog > crates/domain/data/telephony.catalog`

use phonenumber::metadata::DATABASE;
use regex::Regex;

/// (ISO code, name, outbound and inbound paise per minute for mobile, then landline).
const COUNTRIES: &[(&str, &str, [i64; 4])] = &[
    ("IN", "India", [60, 0, 50, 0]),
    ("US", "United States", [95, 40, 95, 40]),
    ("CA", "Canada", [95, 40, 95, 40]),
    ("GB", "United Kingdom", [210, 60, 95, 60]),
    ("AE", "United Arab Emirates", [1150, 300, 950, 300]),
    ("SG", "Singapore", [160, 80, 160, 80]),
    ("DE", "Germany", [390, 90, 120, 90]),
    ("AU", "Australia", [310, 120, 140, 120]),
    ("FR", "France", [260, 90, 110, 90]),
    ("SA", "Saudi Arabia", [1320, 350, 900, 350]),
    ("MY", "Malaysia", [260, 90, 210, 90]),
    ("ZA", "South Africa", [1050, 250, 620, 250]),
    ("NL", "Netherlands", [520, 120, 130, 120]),
    ("BD", "Bangladesh", [320, 150, 320, 150]),
    ("NP", "Nepal", [780, 300, 690, 300]),
];

/// Completions tried per prefix and length: enough to find sparse ranges (a
/// North American area code opens only some exchanges).
const SAMPLES: u64 = 200;

/// India's metro trunk codes (Delhi, Pune, Mumbai, Kolkata, Hyderabad, Chennai,
/// Ahmedabad, Bengaluru): landlines under them form their own group.
const IN_METROS: &[&str] = &["11", "20", "22", "33", "40", "44", "79", "80"];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Mobile,
    Landline,
    Both,
}

struct Plan {
    lengths: Vec<usize>,
    general: Regex,
    mobile: Option<Regex>,
    fixed: Option<Regex>,
}

fn anchored(pattern: &str) -> Regex {
    // The metadata's patterns are laid out over several lines.
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .ignore_whitespace(true)
        .build()
        .expect("libphonenumber patterns compile")
}

impl Plan {
    fn of(region: &str) -> Plan {
        let meta = DATABASE.by_id(region).expect("a known region");
        let d = meta.descriptors();
        // The general descriptor carries no lengths here: take the mobile and landline ones.
        let mut lengths: Vec<usize> = [d.mobile(), d.fixed_line()]
            .into_iter()
            .flatten()
            .flat_map(|x| x.possible_length().iter().map(|&l| l as usize))
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        Plan {
            lengths,
            general: anchored(d.general().national_number().as_str()),
            mobile: d.mobile().map(|m| anchored(m.national_number().as_str())),
            fixed: d.fixed_line().map(|m| anchored(m.national_number().as_str())),
        }
    }

    fn kind(&self, national: &str) -> Option<Kind> {
        if !self.general.is_match(national) {
            return None;
        }
        let mobile = self.mobile.as_ref().is_some_and(|r| r.is_match(national));
        let fixed = self.fixed.as_ref().is_some_and(|r| r.is_match(national));
        match (mobile, fixed) {
            (true, true) => Some(Kind::Both),
            (true, false) => Some(Kind::Mobile),
            (false, true) => Some(Kind::Landline),
            (false, false) => None,
        }
    }

    /// The kinds of number found among sampled completions of `prefix`.
    fn kinds(&self, prefix: &str, seed: &mut u64) -> Vec<Kind> {
        let mut found = Vec::new();
        for &len in &self.lengths {
            if len <= prefix.len() {
                continue;
            }
            for sample in 0..SAMPLES {
                let mut n = prefix.to_owned();
                while n.len() < len {
                    // Fixed fills first (0s, 5s, 9s), then pseudo-random digits.
                    let digit = match sample {
                        0 => 0,
                        1 => 5,
                        2 => 9,
                        _ => {
                            *seed ^= *seed << 13;
                            *seed ^= *seed >> 7;
                            *seed ^= *seed << 17;
                            *seed % 10
                        }
                    };
                    n.push(char::from(b'0' + digit as u8));
                }
                if let Some(k) = self.kind(&n) {
                    if !found.contains(&k) {
                        found.push(k);
                    }
                }
            }
        }
        found
    }

    /// National prefixes, each holding one kind of number, at least `min` digits long
    /// (area codes, where the plan has them) and at most `max`.
    fn split(&self, prefix: &str, min: usize, max: usize, seed: &mut u64, out: &mut Vec<(String, Kind)>) {
        let kinds = self.kinds(prefix, seed);
        let depth = max - prefix.len();
        match kinds.as_slice() {
            [] => {}
            [one] if prefix.len() >= min => out.push((prefix.to_owned(), *one)),
            _ if depth == 0 => {
                // Still mixed: the most specific kind wins a tie (both, then mobile).
                let k = if kinds.contains(&Kind::Both) { Kind::Both } else { Kind::Mobile };
                out.push((prefix.to_owned(), k));
            }
            _ => {
                for d in 0..10 {
                    self.split(&format!("{prefix}{d}"), min, max, seed, out);
                }
            }
        }
    }
}

/// Merges ten siblings of one kind back into their parent, bottom up.
fn compact(mut prefixes: Vec<(String, Kind)>) -> Vec<(String, Kind)> {
    loop {
        prefixes.sort();
        let mut merged = Vec::new();
        let mut changed = false;
        let mut i = 0;
        while i < prefixes.len() {
            let (p, k) = &prefixes[i];
            let parent = &p[..p.len() - 1];
            let siblings = prefixes[i..]
                .iter()
                .take(10)
                .take_while(|(q, kk)| q.len() == p.len() && q.starts_with(parent) && kk == k)
                .count();
            if p.len() > 1 && siblings == 10 && p.ends_with('0') {
                merged.push((parent.to_owned(), *k));
                i += 10;
                changed = true;
            } else {
                merged.push((p.clone(), *k));
                i += 1;
            }
        }
        prefixes = merged;
        if !changed {
            return prefixes;
        }
    }
}

fn main() {
    println!("# callplane telephony catalog (SPEC N1): providers, countries, network groups, prefixes.");
    println!("# Generated by `cargo run -p callplane-domain --example telephony_catalog` from");
    println!("# libphonenumber's metadata; edit freely and load with `callplane admin telephony load`.");
    println!("# Rates are INR paise per minute. Prefixes are E.164 digits (country code first);");
    println!("# the longest matching prefix of a provider decides a destination's group.");
    println!("#");
    println!("# provider | id | name | carrier or sip | default or - | SIP flat rate (sip only)");
    println!("# country  | ISO code | name | calling code");
    println!("# group    | provider | country | id | name | inbound | outbound | default or -");
    println!("# prefixes | prefix prefix ... (of the group above)");
    println!();
    println!("provider | plivo | Plivo | carrier | default");
    println!("provider | sip | SIP/BYOC | sip | - | 90");
    println!();
    for (iso, name, _) in COUNTRIES {
        let code = DATABASE.by_id(*iso).expect("known").country_code();
        println!("country | {iso} | {name} | {code}");
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for (iso, name, [mob_out, mob_in, land_out, land_in]) in COUNTRIES {
        let code = DATABASE.by_id(*iso).expect("known").country_code();
        let plan = Plan::of(iso);
        let mut national = Vec::new();
        // North American area codes are three digits. India's numbers are allotted in
        // four-digit series (mobile series, trunk codes with their first exchange
        // digit): they stay at that grain, as operators rate them.
        let (min, max) = match *iso {
            "US" | "CA" => (3, 3),
            "IN" => (4, 4),
            _ => (2, 4),
        };
        plan.split("", min, max, &mut seed, &mut national);
        let national = if *iso == "IN" { national } else { compact(national) };
        let slug = iso.to_lowercase();
        let mut groups: Vec<(String, String, i64, i64, bool, Vec<String>)> = Vec::new();
        let mut add = |id: String, gname: String, inbound: i64, outbound: i64, default: bool, p: String| {
            if let Some(g) = groups.iter_mut().find(|g| g.0 == id) {
                g.5.push(p);
            } else {
                groups.push((id, gname, inbound, outbound, default, vec![p]));
            }
        };
        for (p, kind) in national {
            let full = format!("{code}{p}");
            let home = *iso == "IN";
            match kind {
                Kind::Mobile => add(format!("{slug}-mobile"), format!("{name} mobile"), *mob_in, *mob_out, home, full),
                Kind::Both => {
                    add(format!("{slug}-all"), format!("{name} landline and mobile"), *land_in, *land_out, home, full)
                }
                Kind::Landline if home && IN_METROS.iter().any(|m| p.starts_with(m)) => add(
                    "in-landline-metro".into(),
                    "India landline, metro areas".into(),
                    *land_in,
                    *land_out,
                    true,
                    full,
                ),
                Kind::Landline if home => add(
                    "in-landline-other".into(),
                    "India landline, other areas".into(),
                    *land_in,
                    *land_out + 10,
                    true,
                    full,
                ),
                Kind::Landline => {
                    add(format!("{slug}-landline"), format!("{name} landline"), *land_in, *land_out, false, full)
                }
            }
        }
        for (id, gname, inbound, outbound, default, prefixes) in groups {
            println!();
            let flag = if default { "default" } else { "-" };
            println!("group | plivo | {iso} | {id} | {gname} | {inbound} | {outbound} | {flag}");
            for chunk in prefixes.chunks(16) {
                println!("prefixes | {}", chunk.join(" "));
            }
        }
    }
}
