//! Standard Webhooks signing (SPEC E2): `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{webhook-id}.{webhook-timestamp}.{body}">`, keyed by the base64 body of a `whsec_`
//! secret. During a rotation's overlap the header carries one signature per secret,
//! separated by spaces, and receivers accept any that verifies.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;

const PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{PREFIX}{}", B64.encode(key))
}

/// The HMAC key of a secret (`None`: not a secret this service made).
fn key(secret: &str) -> Option<Vec<u8>> {
    B64.decode(secret.strip_prefix(PREFIX).unwrap_or(secret)).ok()
}

/// One `v1,<signature>` for `secret`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key(secret)?);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(msg_id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    Some(format!("v1,{}", B64.encode(ctx.sign().as_ref())))
}

/// The `webhook-signature` header: a signature per secret in force.
pub fn header(secrets: &[&str], msg_id: &str, timestamp: i64, body: &str) -> String {
    secrets.iter().filter_map(|s| sign(s, msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e2_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn e2_new_secrets_are_random_and_usable() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && key(&a).is_some_and(|k| k.len() == 32));
        assert_eq!(header(&[&a, &b], "msg", 1, "{}").split(' ').count(), 2);
    }
}
