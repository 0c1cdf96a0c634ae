//! The telephony catalog (SPEC N1): providers, countries, network groups with their
//! per-minute rates and number prefixes, read from a line-oriented text file and
//! checked as a whole, every mistake reported with its line number.
//!
//! ```text
//! provider | plivo | Plivo    | carrier | default
//! provider | sip   | SIP/BYOC | sip     | -       | 90
//! country  | IN    | India    | 91
//! group    | plivo | IN | in-mobile | India mobile | 0 | 60 | default
//! prefixes | 916 917 918 919
//! ```
//!
//! Rates are integer paise per minute. Prefixes are E.164 digits, country code first;
//! within a provider a prefix belongs to one group (a longer prefix in another group is
//! how a range is carved out: the longest match wins, see [`super::routes`]).

use std::collections::HashMap;

/// What a provider is: a carrier reached through its API, or the workspace's own SIP
/// trunk (BYOC), which has one status and one flat rate instead of network groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Carrier,
    Sip,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Carrier => "carrier",
            ProviderKind::Sip => "sip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    /// The provider new workspaces start on (exactly one carrier is).
    pub default: bool,
    /// SIP/BYOC's flat rate, paise per minute, both directions.
    pub flat_rate: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    pub name: String,
    pub calling_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkGroup {
    pub provider: String,
    pub country: String,
    pub id: String,
    pub name: String,
    /// Paise per minute.
    pub inbound_rate: i64,
    pub outbound_rate: i64,
    /// Enabled in a new workspace (for the default provider).
    pub default_enabled: bool,
    pub prefixes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub providers: Vec<Provider>,
    pub countries: Vec<Country>,
    pub groups: Vec<NetworkGroup>,
}

/// A mistake in a catalog file, at a line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Longest prefix accepted: E.164 numbers have at most 15 digits.
const MAX_PREFIX: usize = 15;

impl Catalog {
    /// Reads and checks a catalog; every mistake is reported, in line order.
    pub fn parse(text: &str) -> Result<Catalog, Vec<CatalogError>> {
        let mut p = Parser::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                p.line(i + 1, line);
            }
        }
        p.finish()
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn default_provider(&self) -> &Provider {
        self.providers.iter().find(|p| p.default).expect("a parsed catalog has a default provider")
    }

    pub fn group(&self, id: &str) -> Option<&NetworkGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries.iter().find(|c| c.code == code)
    }

    /// Prefixes in all.
    pub fn prefix_count(&self) -> usize {
        self.groups.iter().map(|g| g.prefixes.len()).sum()
    }

    /// A short fingerprint of the content (FNV-1a over a canonical rendering): two
    /// catalogs with the same providers, countries, groups and prefixes share it.
    pub fn version(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain([0u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for p in &self.providers {
            eat(&format!("{}|{}|{}|{}|{:?}", p.id, p.name, p.kind.as_str(), p.default, p.flat_rate));
        }
        for c in &self.countries {
            eat(&format!("{}|{}|{}", c.code, c.name, c.calling_code));
        }
        for g in &self.groups {
            eat(&format!(
                "{}|{}|{}|{}|{}|{}|{}",
                g.provider, g.country, g.id, g.name, g.inbound_rate, g.outbound_rate, g.default_enabled
            ));
            for p in &g.prefixes {
                eat(p);
            }
        }
        format!("{h:016x}")
    }
}

#[derive(Default)]
struct Parser {
    providers: Vec<Provider>,
    countries: Vec<Country>,
    groups: Vec<NetworkGroup>,
    /// Where each provider, country and group was declared.
    declared: HashMap<(char, String), usize>,
    /// (provider, prefix) → (group, line).
    prefixes: HashMap<(String, String), (String, usize)>,
    errors: Vec<CatalogError>,
    /// Whether the last group line was accepted (`None` before any): the prefixes of a
    /// refused group are skipped, its mistake already reported.
    last_group: Option<bool>,
}

impl Parser {
    fn fail(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(CatalogError { line, message: message.into() });
    }

    fn declare(&mut self, kind: char, what: &str, id: &str, line: usize) -> bool {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            self.fail(line, format!("{what} id {id:?} must be letters, digits, '-' or '_'"));
            return false;
        }
        if let Some(first) = self.declared.get(&(kind, id.to_owned())) {
            self.fail(line, format!("{what} {id} is already declared on line {first}"));
            return false;
        }
        self.declared.insert((kind, id.to_owned()), line);
        true
    }

    fn line(&mut self, n: usize, line: &str) {
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        match fields.as_slice() {
            ["provider", id, name, kind, default, rest @ ..] if rest.len() <= 1 => {
                self.provider(n, id, name, kind, default, rest.first().copied())
            }
            ["country", code, name, calling] => self.country(n, code, name, calling),
            ["group", provider, country, id, name, inbound, outbound, default] => {
                self.group(n, [provider, country, id, name, inbound, outbound, default])
            }
            ["prefixes", list] => self.prefix_list(n, list),
            [kind, ..] if ["provider", "country", "group", "prefixes"].contains(kind) => {
                self.fail(n, format!("a {kind} line has {} fields; see the file's header", fields.len()))
            }
            [other, ..] => self.fail(n, format!("unknown line kind {other:?} (provider, country, group, prefixes)")),
            [] => {}
        }
    }

    fn provider(&mut self, n: usize, id: &str, name: &str, kind: &str, default: &str, flat: Option<&str>) {
        let kind = match kind {
            "carrier" => ProviderKind::Carrier,
            "sip" => ProviderKind::Sip,
            other => return self.fail(n, format!("provider kind {other:?} is neither carrier nor sip")),
        };
        let Some(default) = self.flag(n, default) else { return };
        let flat_rate = match (kind, flat) {
            (ProviderKind::Sip, Some(rate)) => match self.rate(n, "SIP flat rate", rate) {
                Some(r) => Some(r),
                None => return,
            },
            (ProviderKind::Sip, None) => return self.fail(n, "a sip provider needs its flat rate"),
            (ProviderKind::Carrier, Some(_)) => {
                return self.fail(n, "a carrier provider's rates belong to its network groups, not a flat rate")
            }
            (ProviderKind::Carrier, None) => None,
        };
        if default && kind == ProviderKind::Sip {
            return self.fail(n, "the default provider must be a carrier");
        }
        if self.declare('p', "provider", id, n) {
            self.providers.push(Provider { id: id.into(), name: name.into(), kind, default, flat_rate });
        }
    }

    fn country(&mut self, n: usize, code: &str, name: &str, calling: &str) {
        let Some(meta) = phonenumber::metadata::DATABASE.by_id(code) else {
            return self.fail(n, format!("unknown country {code:?} (an ISO 3166 code with a numbering plan)"));
        };
        if meta.country_code().to_string() != calling {
            return self.fail(n, format!("{code}'s calling code is {}, not {calling:?}", meta.country_code()));
        }
        if name.is_empty() {
            return self.fail(n, format!("country {code} needs a name"));
        }
        if self.declare('c', "country", code, n) {
            self.countries.push(Country { code: code.into(), name: name.into(), calling_code: calling.into() });
        }
    }

    fn group(&mut self, n: usize, [provider, country, id, name, inbound, outbound, default]: [&&str; 7]) {
        self.last_group = Some(false);
        let mut ok = true;
        match self.providers.iter().find(|p| p.id == **provider) {
            None => {
                self.fail(n, format!("unknown provider {provider:?} (declare it above)"));
                ok = false;
            }
            Some(p) if p.kind == ProviderKind::Sip => {
                self.fail(n, format!("{provider} is a sip provider: it has a flat rate, not network groups"));
                ok = false;
            }
            Some(_) => {}
        }
        if !self.countries.iter().any(|c| c.code == **country) {
            self.fail(n, format!("unknown country {country:?} (declare it with a country line above)"));
            ok = false;
        }
        let inbound = self.rate(n, "inbound rate", inbound);
        let outbound = self.rate(n, "outbound rate", outbound);
        let default = self.flag(n, default);
        if name.is_empty() {
            self.fail(n, "a group needs a name");
            ok = false;
        }
        let (Some(inbound_rate), Some(outbound_rate), Some(default_enabled), true) = (inbound, outbound, default, ok)
        else {
            return;
        };
        if self.declare('g', "group", id, n) {
            self.last_group = Some(true);
            self.groups.push(NetworkGroup {
                provider: provider.to_string(),
                country: country.to_string(),
                id: id.to_string(),
                name: name.to_string(),
                inbound_rate,
                outbound_rate,
                default_enabled,
                prefixes: Vec::new(),
            });
        }
    }

    fn prefix_list(&mut self, n: usize, list: &str) {
        match self.last_group {
            None => return self.fail(n, "prefixes come after the group they belong to"),
            Some(false) => return,
            Some(true) => {}
        }
        let group = self.groups.last().expect("an accepted group");
        let (provider, gid, country) = (group.provider.clone(), group.id.clone(), group.country.clone());
        let calling =
            self.countries.iter().find(|c| c.code == country).map(|c| c.calling_code.clone()).unwrap_or_default();
        let mut accepted = Vec::new();
        for prefix in list.split_whitespace() {
            if !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > MAX_PREFIX {
                self.fail(n, format!("prefix {prefix:?} is not 1 to {MAX_PREFIX} digits"));
            } else if !prefix.starts_with(&calling) {
                self.fail(n, format!("prefix {prefix} does not start with {country}'s calling code {calling}"));
            } else if let Some((other, line)) = self.prefixes.get(&(provider.clone(), prefix.to_owned())) {
                self.fail(n, format!("prefix {prefix} overlaps: it is already in group {other} (line {line})"));
            } else {
                self.prefixes.insert((provider.clone(), prefix.to_owned()), (gid.clone(), n));
                accepted.push(prefix.to_owned());
            }
        }
        if list.split_whitespace().next().is_none() {
            self.fail(n, "a prefixes line lists no prefix");
        }
        self.groups.last_mut().expect("checked above").prefixes.extend(accepted);
    }

    fn rate(&mut self, n: usize, what: &str, value: &str) -> Option<i64> {
        match value.parse::<i64>() {
            Ok(r) if r < 0 => {
                self.fail(n, format!("{what} {r} is negative"));
                None
            }
            Ok(r) => Some(r),
            Err(_) => {
                self.fail(n, format!("{what} {value:?} is not a whole number of paise"));
                None
            }
        }
    }

    fn flag(&mut self, n: usize, value: &str) -> Option<bool> {
        match value {
            "default" => Some(true),
            "-" => Some(false),
            other => {
                self.fail(n, format!("{other:?} is neither `default` nor `-`"));
                None
            }
        }
    }

    fn finish(mut self) -> Result<Catalog, Vec<CatalogError>> {
        let last = self.declared.values().copied().max().unwrap_or(1);
        match self.providers.iter().filter(|p| p.default).count() {
            1 => {}
            0 => self.fail(last, "no provider is marked `default`"),
            _ => self.fail(last, "more than one provider is marked `default`"),
        }
        for g in &self.groups {
            if g.prefixes.is_empty() {
                let line = self.declared[&('g', g.id.clone())];
                self.errors.push(CatalogError { line, message: format!("group {} has no prefixes", g.id) });
            }
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| e.line);
            return Err(self.errors);
        }
        Ok(Catalog { providers: self.providers, countries: self.countries, groups: self.groups })
    }
}
