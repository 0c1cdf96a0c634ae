//! Contact rules (SPEC P1): E.164 phone numbers (libphonenumber's metadata through the
//! `phonenumber` crate), IANA time zones, tags and custom fields.

use std::collections::BTreeMap;

use phonenumber::country;

/// Why a contact field is refused; the text completes "<field> …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// A phone number normalised to E.164, with the country it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub e164: String,
    /// ISO 3166-1 alpha-2 (`IN`), when the number determines one.
    pub country: Option<String>,
}

/// Parses a number written internationally (`+91 98765 43210`) or nationally
/// (`098765 43210`, read against `default_country`, an ISO alpha-2 code).
pub fn parse_phone(raw: &str, default_country: &str) -> Result<Phone, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new("phone", "must not be empty"));
    }
    if raw.len() > 40 || raw.chars().any(char::is_control) {
        return Err(FieldError::new("phone", "is not a phone number"));
    }
    let region = default_country.parse::<country::Id>().ok();
    let number = phonenumber::parse(region, raw).map_err(|_| {
        FieldError::new("phone", format!("is not a phone number (national numbers are read as {default_country})"))
    })?;
    let (code, national) = (number.code().value(), number.national().to_string());
    let valid = crate::phone_rules::check(code, &national)
        .ok_or_else(|| FieldError::new("phone", "is not a valid number for its country"))?;
    Ok(Phone { e164: format!("+{code}{national}"), country: valid.region })
}

/// A country code libphonenumber knows (`IN`, `gb` → `GB`), for reading national numbers.
pub fn parse_country(raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    match code.parse::<country::Id>() {
        Ok(_) if code.len() == 2 => Ok(code),
        _ => Err(FieldError::new("default_country", "must be an ISO 3166-1 alpha-2 country code such as IN")),
    }
}

/// A valid IANA time zone name (`Asia/Kolkata`), as the database spells it.
pub fn parse_timezone(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    match jiff::tz::db().get(name) {
        Ok(tz) => Ok(tz.iana_name().unwrap_or(name).to_owned()),
        Err(_) => Err(FieldError::new("timezone", "must be an IANA time zone such as Asia/Kolkata")),
    }
}

/// A wall-clock time (`2026-12-01T10:00`, as an HTML `datetime-local` field sends it)
/// in an IANA zone, as UTC milliseconds.
pub fn local_to_utc_ms(local: &str, zone: &str) -> Option<i64> {
    let civil: jiff::civil::DateTime = local.trim().parse().ok()?;
    let zoned = civil.in_tz(zone).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

/// UTC milliseconds as a wall-clock time in an IANA zone: (`2026-12-01`, `10:00`).
pub fn utc_ms_to_local(ms: i64, zone: &str) -> Option<(String, String)> {
    let t = jiff::Timestamp::from_millisecond(ms).ok()?.in_tz(zone).ok()?;
    Some((t.strftime("%Y-%m-%d").to_string(), t.strftime("%H:%M").to_string()))
}

/// The time zone a number determines: its country's, when the country has one.
pub fn timezone_of(phone: &Phone) -> Option<&'static str> {
    country_timezone(phone.country.as_deref()?)
}

/// A country's time zone, when the whole country keeps one (ISO 3166 alpha-2).
pub fn country_timezone(country: &str) -> Option<&'static str> {
    let zone = match country {
        "IN" => "Asia/Kolkata",
        "GB" => "Europe/London",
        "IE" => "Europe/Dublin",
        "DE" => "Europe/Berlin",
        "FR" => "Europe/Paris",
        "IT" => "Europe/Rome",
        "NL" => "Europe/Amsterdam",
        "BE" => "Europe/Brussels",
        "CH" => "Europe/Zurich",
        "AT" => "Europe/Vienna",
        "SE" => "Europe/Stockholm",
        "NO" => "Europe/Oslo",
        "DK" => "Europe/Copenhagen",
        "PL" => "Europe/Warsaw",
        "AE" => "Asia/Dubai",
        "SA" => "Asia/Riyadh",
        "SG" => "Asia/Singapore",
        "JP" => "Asia/Tokyo",
        "KR" => "Asia/Seoul",
        "HK" => "Asia/Hong_Kong",
        "PH" => "Asia/Manila",
        "PK" => "Asia/Karachi",
        "BD" => "Asia/Dhaka",
        "LK" => "Asia/Colombo",
        "NP" => "Asia/Kathmandu",
        "IL" => "Asia/Jerusalem",
        "ZA" => "Africa/Johannesburg",
        "KE" => "Africa/Nairobi",
        "NG" => "Africa/Lagos",
        // Countries spanning several zones (US, CA, AU, BR, RU, …) do not determine one.
        _ => return None,
    };
    Some(zone)
}

pub const MAX_TAGS: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;

/// Tags: trimmed, 1–50 characters, no commas or control characters, at most
/// [`MAX_TAGS`], duplicates (case-insensitive) dropped; sorted.
pub fn parse_tags<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, FieldError> {
    let mut tags: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 50 || t.contains(',') || t.chars().any(char::is_control) {
            return Err(FieldError::new("tags", format!("“{t}” is not a tag (1–50 characters, no commas)")));
        }
        if !tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            tags.push(t.to_owned());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(FieldError::new("tags", format!("at most {MAX_TAGS} tags")));
    }
    tags.sort_by_key(|t| t.to_lowercase());
    Ok(tags)
}

/// Custom fields: keys of 1–64 lowercase letters, digits and `_` (starting with a
/// letter), values up to 1,000 characters, at most [`MAX_CUSTOM_FIELDS`].
pub fn check_custom_fields(fields: &BTreeMap<String, String>) -> Result<(), FieldError> {
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(FieldError::new("custom_fields", format!("at most {MAX_CUSTOM_FIELDS} fields")));
    }
    for (k, v) in fields {
        let key_ok = (1..=64).contains(&k.len())
            && k.starts_with(|c: char| c.is_ascii_lowercase())
            && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(FieldError::new(
                "custom_fields",
                format!("key “{k}” must be 1–64 lowercase letters, digits or _, starting with a letter"),
            ));
        }
        if v.chars().count() > 1000 || v.contains('\0') {
            return Err(FieldError::new("custom_fields", format!("value of “{k}” must be at most 1,000 characters")));
        }
    }
    Ok(())
}

/// A contact's display name: trimmed, at most 200 characters (may be empty).
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.chars().count() > 200 || v.chars().any(char::is_control) {
        return Err(FieldError::new("name", "must be at most 200 characters, without control characters"));
    }
    Ok(v.to_owned())
}

/// The text that `q` searches: name, phone and email, lowercased.
pub fn search_text(name: &str, e164: &str, email: Option<&str>) -> String {
    format!("{} {} {}", name.to_lowercase(), e164, email.unwrap_or("").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_national_and_international_formats_normalise_to_e164() {
        assert_eq!(parse_phone("098765 43210", "IN").unwrap().e164, "+919876543210");
        assert_eq!(parse_phone("+91 98765-43210", "US").unwrap().e164, "+919876543210");
        assert_eq!(parse_phone("(201) 555-0123", "US").unwrap().e164, "+12015550123");
        assert_eq!(parse_phone("020 7946 0958", "GB").unwrap().e164, "+442079460958");
        assert_eq!(parse_phone("+91 98765 43210", "IN").unwrap().country.as_deref(), Some("IN"));
        for bad in ["", "hello", "12", "+91 12345", "+999 123456789"] {
            assert!(parse_phone(bad, "IN").is_err(), "{bad}");
        }
    }

    #[test]
    fn p1_time_zones_are_iana_and_derived_where_the_number_determines_one() {
        assert_eq!(parse_timezone("Asia/Kolkata").unwrap(), "Asia/Kolkata");
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert!(parse_timezone("").is_err());
        let india = parse_phone("+919876543210", "IN").unwrap();
        assert_eq!(timezone_of(&india), Some("Asia/Kolkata"));
        let us = parse_phone("+12015550123", "US").unwrap();
        assert_eq!(timezone_of(&us), None, "the US spans several zones");
    }

    #[test]
    fn p8_wall_clock_times_convert_through_their_zone() {
        let ms = local_to_utc_ms("2026-12-01T10:00", "Asia/Kolkata").unwrap();
        assert_eq!(utc_ms_to_local(ms, "UTC").unwrap(), ("2026-12-01".to_owned(), "04:30".to_owned()));
        assert_eq!(utc_ms_to_local(ms, "Asia/Kolkata").unwrap().1, "10:00");
        assert!(local_to_utc_ms("soon", "UTC").is_none());
    }

    #[test]
    fn p1_tags_and_custom_fields_are_checked() {
        assert_eq!(parse_tags(["vip", " VIP ", "lead", ""]).unwrap(), ["lead", "vip"]);
        assert!(parse_tags(["a,b"]).is_err());
        let mut f = BTreeMap::new();
        f.insert("plan".to_owned(), "gold".to_owned());
        assert!(check_custom_fields(&f).is_ok());
        f.insert("Bad Key".to_owned(), "x".to_owned());
        assert!(check_custom_fields(&f).is_err());
    }
}
