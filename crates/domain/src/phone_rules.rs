//! Phone number validity by libphonenumber's metadata (the `phonenumber` crate's
//! database), decided the way `phonenumber::is_valid` decides it, but with each
//! region's patterns compiled once as anchored regular expressions.
//!
//! Why: `phonenumber::is_valid` looks every pattern up in a shared cache keyed by the
//! pattern's text (hashing long strings behind a mutex) and runs unanchored searches;
//! at about 10 µs a number it was most of a contact import's time. Here a number costs
//! a read lock and a few anchored matches over ten digits. The test at the bottom
//! checks the two agree on every example number of every region and on variations.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::Regex;

/// `^(?:p)`, compiled as the metadata's patterns are written: with insignificant
/// whitespace.
fn anchored(pattern: &str) -> Option<Regex> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})")).ignore_whitespace(true).build().ok()
}

/// A descriptor: the lengths it allows and its national-number pattern, anchored.
struct Rule {
    lengths: Vec<u16>,
    pattern: Regex,
}

impl Rule {
    fn of(d: &Descriptor) -> Option<Rule> {
        // `^(?:p)`: "a match of p starts at 0", which is what the crate's
        // `find(..).start() == 0` asks of a leftmost-first search.
        let pattern = anchored(d.national_number().as_str())?;
        Some(Rule { lengths: d.possible_length().to_vec(), pattern })
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.pattern.is_match(national)
    }
}

/// One region's rules.
struct Region {
    id: String,
    leading_digits: Option<Regex>,
    general: Option<Rule>,
    /// Every number type's descriptor: a number is valid when one of them matches.
    types: Vec<Rule>,
}

impl Region {
    fn of(meta: &Metadata) -> Region {
        let d = meta.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .filter_map(Rule::of)
        .collect();
        Region {
            id: meta.id().to_owned(),
            leading_digits: meta.leading_digits().and_then(|r| anchored(r.as_str())),
            general: Rule::of(d.general()),
            types,
        }
    }

    /// `number_type(meta, national) != Unknown`.
    fn is_valid(&self, national: &str) -> bool {
        self.general.as_ref().is_some_and(|g| g.matches(national)) && self.types.iter().any(|t| t.matches(national))
    }
}

/// The regions sharing one country calling code, compiled on first use.
type Code = Arc<Vec<Region>>;

fn compiled(code: u16) -> Option<Code> {
    static CODES: OnceLock<RwLock<HashMap<u16, Option<Code>>>> = OnceLock::new();
    let codes = CODES.get_or_init(Default::default);
    if let Some(found) = codes.read().expect("not poisoned").get(&code) {
        return found.clone();
    }
    let regions: Option<Code> = DATABASE.region(&code).map(|ids| {
        let metas: Vec<&Metadata> = match ids.as_slice() {
            // Non-geographic codes (+800, +882…) are listed under "001".
            ["001"] => DATABASE.by_code(&code).unwrap_or_default().into_iter().take(1).collect(),
            _ => ids.iter().filter_map(|id| DATABASE.by_id(*id)).collect(),
        };
        Arc::new(metas.into_iter().map(Region::of).collect())
    });
    codes.write().expect("not poisoned").insert(code, regions.clone());
    regions
}

/// A valid number's region (`None` for non-geographic numbers such as +800).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub region: Option<String>,
}

/// Whether `national` (the national significant number, digits only) under the calling
/// code `code` is a valid number; `None` when it is not.
pub fn check(code: u16, national: &str) -> Option<Valid> {
    let regions = compiled(code)?;
    let region = match regions.as_slice() {
        [] => return None,
        [only] => only,
        // Several regions share the code (+1, +44, +7…): the first whose leading digits
        // match, or else the first the number is valid in (as `source_for` chooses).
        many => many.iter().find(|r| match &r.leading_digits {
            Some(lead) => lead.is_match(national),
            None => r.is_valid(national),
        })?,
    };
    region.is_valid(national).then(|| Valid { region: Some(region.id.clone()).filter(|id| id != "001") })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our verdict and region against the crate's, for one number.
    fn agree(code: u16, national: &str) {
        let Ok(number) = phonenumber::parse(None, format!("+{code}{national}")) else { return };
        let nsn = number.national().to_string();
        let theirs = phonenumber::is_valid(&number);
        let ours = check(code, &nsn);
        assert_eq!(ours.is_some(), theirs, "+{code} {nsn}: ours {ours:?}, the crate's {theirs}");
        // The crate picks the region of a number with leading zeros (Italy's 06…) from
        // its digits without the zeros; ours reads the whole number (06698… is VA).
        if theirs && number.national().zeros() == 0 {
            let ours = ours.unwrap().region;
            match number.country().id() {
                Some(id) => assert_eq!(ours.as_deref(), Some(id.as_ref()), "+{code} {nsn}: region"),
                // The crate answers no region when its `Id` enum lacks the region (VA):
                // ours names it all the same.
                None => assert!(
                    ours.as_deref().is_none_or(|r| r.parse::<phonenumber::country::Id>().is_err()),
                    "+{code} {nsn}: region {ours:?}"
                ),
            }
        }
    }

    #[test]
    fn p1_agrees_with_libphonenumber_on_every_example_and_its_neighbours() {
        let mut checked = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let all = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ];
            for example in all.into_iter().flatten().filter_map(|d| d.example()) {
                let code = meta.country_code();
                agree(code, example);
                // Neighbours: one digit more, one less, the last digit changed, the
                // first digit changed (often out of the numbering plan).
                agree(code, &format!("{example}0"));
                agree(code, &example[..example.len().saturating_sub(1)]);
                let last = example.chars().last().map_or('0', |c| if c == '9' { '0' } else { '9' });
                agree(code, &format!("{}{last}", &example[..example.len().saturating_sub(1)]));
                agree(code, &format!("1{}", example.get(1..).unwrap_or("")));
                checked += 5;
            }
        }
        assert!(checked > 2_000, "the database lists examples ({checked})");
    }
}
