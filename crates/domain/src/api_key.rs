//! API key format (SPEC K1): `cp_live_` + 32 random base62 characters + a 6-character
//! base62 CRC-32 checksum. The checksum lets the server (and secret scanners) reject a
//! mistyped or made-up key without touching the database.

pub const PREFIX: &str = "cp_live_";
const BODY_LEN: usize = 32;
const CHECK_LEN: usize = 6;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Builds a key from random bytes, one character per byte below 248 (= 4 × 62, so
/// every character is equally likely). `None` if too few bytes qualified; draw again.
pub fn from_random(random: &[u8]) -> Option<String> {
    let body: String =
        random.iter().filter(|b| **b < 248).take(BODY_LEN).map(|b| ALPHABET[(*b % 62) as usize] as char).collect();
    (body.len() == BODY_LEN).then(|| format!("{PREFIX}{body}{}", checksum(&body)))
}

/// Whether `key` has the shape and checksum of a callplane key.
pub fn is_well_formed(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, check) = rest.split_at(BODY_LEN);
    checksum(body) == check
}

/// What lists show of a key: the prefix and the first four characters of the secret.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(PREFIX.len() + 4).collect::<String>() + "…"
}

fn checksum(body: &str) -> String {
    let mut n = crc32(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// CRC-32 (IEEE), bitwise; keys are short, so no table is needed.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k1_keys_have_prefix_entropy_and_checksum() {
        let random: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        let key = from_random(&random).unwrap();
        assert_eq!(from_random(&[255u8; 64]), None);
        assert!(key.starts_with("cp_live_"));
        assert_eq!(key.len(), PREFIX.len() + 38);
        assert!(is_well_formed(&key));
        // One changed character breaks the checksum.
        let mut tampered = key.clone().into_bytes();
        let i = PREFIX.len() + 3;
        tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed(&String::from_utf8(tampered).unwrap()));
        assert!(!is_well_formed("cp_live_short"));
        assert!(!is_well_formed("some-session-token"));
        assert_eq!(display_prefix(&key).chars().count(), PREFIX.len() + 5);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
