//! Outbound validation (SPEC N3): a destination's network group is the group of the
//! longest prefix of the chosen provider that it starts with; the call is allowed only
//! when that group is enabled in the workspace, and is priced by it.
//!
//! Built once per catalog version: one digit trie per provider, its nodes in a flat
//! vector (ten child indices and a group per node), so a lookup is at most fifteen
//! steps through memory that stays in cache, with no allocation and no hashing.

use std::sync::Arc;

use super::catalog::{Catalog, NetworkGroup};

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    /// Child per digit; 0 = none (the root is never a child).
    children: [u32; 10],
    /// Index into the catalog's groups of the prefix ending here.
    group: u32,
}

const EMPTY: Node = Node { children: [0; 10], group: NONE };

#[derive(Debug, Clone)]
struct Trie {
    provider: String,
    nodes: Vec<Node>,
}

impl Trie {
    fn insert(&mut self, prefix: &str, group: u32) {
        let mut at = 0usize;
        for b in prefix.bytes() {
            let d = usize::from(b - b'0');
            let next = self.nodes[at].children[d];
            at = if next == 0 {
                self.nodes.push(EMPTY);
                let new = (self.nodes.len() - 1) as u32;
                self.nodes[at].children[d] = new;
                new as usize
            } else {
                next as usize
            };
        }
        self.nodes[at].group = group;
    }

    fn longest(&self, digits: &[u8]) -> Option<u32> {
        let mut at = 0usize;
        let mut best = NONE;
        for &b in digits {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            let next = self.nodes[at].children[usize::from(d)];
            if next == 0 {
                break;
            }
            at = next as usize;
            let g = self.nodes[at].group;
            if g != NONE {
                best = g;
            }
        }
        (best != NONE).then_some(best)
    }
}

/// Why a destination may not be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The provider is not in the catalog.
    UnknownProvider(String),
    /// No prefix of the provider matches the destination.
    NoGroup { destination: String },
    /// The destination's group is disabled in the workspace.
    Disabled { group: String, group_name: String, country: String },
}

/// The catalog with its prefix tries: what outbound validation consults.
#[derive(Debug, Clone)]
pub struct Routes {
    catalog: Arc<Catalog>,
    tries: Vec<Trie>,
}

impl Routes {
    pub fn new(catalog: Catalog) -> Routes {
        let mut tries: Vec<Trie> =
            catalog.providers.iter().map(|p| Trie { provider: p.id.clone(), nodes: vec![EMPTY] }).collect();
        for (i, g) in catalog.groups.iter().enumerate() {
            let trie = tries.iter_mut().find(|t| t.provider == g.provider).expect("groups name known providers");
            for p in &g.prefixes {
                trie.insert(p, i as u32);
            }
        }
        Routes { catalog: Arc::new(catalog), tries }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The group of `provider` whose prefix is the longest one `e164` starts with
    /// (`+` optional), whether or not it is enabled anywhere.
    pub fn group_of(&self, provider: &str, e164: &str) -> Option<&NetworkGroup> {
        let digits = e164.strip_prefix('+').unwrap_or(e164).as_bytes();
        let trie = self.tries.iter().find(|t| t.provider == provider)?;
        trie.longest(digits).map(|i| &self.catalog.groups[i as usize])
    }

    /// The group a call to `e164` through `provider` is priced by, when `enabled` says
    /// the workspace has it on. A disabled longest match is refused even when a shorter
    /// prefix's group is enabled: the longest match alone decides.
    pub fn route(&self, provider: &str, e164: &str, enabled: impl Fn(&str) -> bool) -> Result<&NetworkGroup, Refusal> {
        if self.catalog.provider(provider).is_none() {
            return Err(Refusal::UnknownProvider(provider.to_owned()));
        }
        let group = self.group_of(provider, e164).ok_or_else(|| Refusal::NoGroup { destination: e164.to_owned() })?;
        if !enabled(&group.id) {
            let country = self.catalog.country(&group.country).map_or(group.country.clone(), |c| c.name.clone());
            return Err(Refusal::Disabled { group: group.id.clone(), group_name: group.name.clone(), country });
        }
        Ok(group)
    }
}

/// What a call costs (SPEC B2): every started minute is billed, so a call of 61 s
/// costs two minutes; an unanswered call (0 s) costs nothing.
pub fn cost(duration_secs: i64, rate_per_minute: i64) -> i64 {
    billed_minutes(duration_secs) * rate_per_minute
}

/// Minutes billed for a call of `duration_secs` (rounded up; 0 for 0).
pub fn billed_minutes(duration_secs: i64) -> i64 {
    (duration_secs.max(0) + 59) / 60
}
