//! Email addresses: the shape callplane accepts for sign-up, invitations and account
//! users. (Uniqueness compares a normalised key, which is the store's business:
//! `store::users::email_key`.)

use thiserror::Error;

/// Longest address accepted, in bytes (RFC 5321's path limit less the angle brackets).
pub const MAX_LEN: usize = 254;

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("must be a valid email address")]
pub struct InvalidEmail;

/// An address as typed, trimmed: at most 254 bytes, no whitespace or control
/// characters, a non-empty local part and one `@` before a dotted domain that neither
/// starts nor ends with a dot.
pub fn parse_email(raw: &str) -> Result<String, InvalidEmail> {
    let v = raw.trim();
    let valid = v.len() <= MAX_LEN
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(v.to_owned())
    } else {
        Err(InvalidEmail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(parse_email("ana@example.com"), Ok("ana@example.com".to_owned()));
        assert_eq!(
            parse_email("  Ana.Lopez+team@mail.example.co.uk \n"),
            Ok("Ana.Lopez+team@mail.example.co.uk".to_owned())
        );
    }

    #[test]
    fn keeps_case_as_typed() {
        assert_eq!(parse_email("Ana@Example.COM").as_deref(), Ok("Ana@Example.COM"));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ana",
            "@example.com",
            "ana@",
            "ana@localhost",
            "ana@.example.com",
            "ana@example.com.",
            "ana@exa@mple.com",
            "ana lopez@example.com",
            "ana@exam ple.com",
            "ana\u{7}@example.com",
        ] {
            assert_eq!(parse_email(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn length_is_limited_to_254_bytes() {
        let domain = "@example.com";
        let fits = format!("{}{domain}", "a".repeat(MAX_LEN - domain.len()));
        assert_eq!(fits.len(), MAX_LEN);
        assert!(parse_email(&fits).is_ok());
        let over = format!("a{fits}");
        assert_eq!(parse_email(&over), Err(InvalidEmail));
    }

    #[test]
    fn the_message_is_the_one_forms_show() {
        assert_eq!(InvalidEmail.to_string(), "must be a valid email address");
    }
}
