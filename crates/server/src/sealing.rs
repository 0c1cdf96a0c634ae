//! Secrets callplane must be able to use again (a carrier's SIP password), sealed with
//! ChaCha20-Poly1305 under the server's key. The associated data names the row a
//! secret belongs to, so a sealed value copied into another workspace's row does not
//! open there.

use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// The server's sealing key.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

const PREFIX: &str = "v1:";

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) }
    }

    /// The configured key (64 hex digits), else the one in `{data_dir}/secret.key`,
    /// created (owner-readable only) when missing.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Sealer, String> {
        let parse = |hex_key: &str, from: &str| -> Result<Sealer, String> {
            let bytes = hex::decode(hex_key.trim()).map_err(|_| format!("{from} is not 64 hex digits"))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| format!("{from} is not 64 hex digits"))?;
            Ok(Sealer::new(key))
        };
        if let Some(k) = configured {
            return parse(k, "sip.secret_key");
        }
        let file = data_dir.join("secret.key");
        match std::fs::read_to_string(&file) {
            Ok(k) => parse(&k, &file.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
                let key: [u8; 32] = rand::random();
                write_private(&file, &hex::encode(key)).map_err(|e| format!("{}: {e}", file.display()))?;
                Ok(Sealer::new(key))
            }
            Err(e) => Err(format!("{}: {e}", file.display())),
        }
    }

    /// `secret` sealed for the row `bound_to` names.
    pub fn seal(&self, secret: &str, bound_to: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: bound_to.as_bytes() })
            .expect("sealing in memory cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out))
    }

    /// The secret, if `sealed` was sealed by this key for `bound_to`.
    pub fn open(&self, sealed: &str, bound_to: &str) -> Option<String> {
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let plain =
            self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: bound_to.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n2_a_sealed_password_opens_only_with_its_key_and_for_its_row() {
        let s = Sealer::new([7; 32]);
        let sealed = s.seal("carrier-pass", "ws_a/trk_1");
        assert!(!sealed.contains("carrier-pass"));
        assert_ne!(sealed, s.seal("carrier-pass", "ws_a/trk_1"), "a fresh nonce each time");
        assert_eq!(s.open(&sealed, "ws_a/trk_1").as_deref(), Some("carrier-pass"));
        assert_eq!(s.open(&sealed, "ws_b/trk_1"), None, "copied into another workspace's row");
        assert_eq!(Sealer::new([8; 32]).open(&sealed, "ws_a/trk_1"), None, "another key");
        assert_eq!(s.open("v1:garbage", "ws_a/trk_1"), None);
        assert_eq!(s.open("", "ws_a/trk_1"), None);
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("callplane-sealer-{}", rand::random::<u64>()));
        let a = Sealer::load(None, &dir).unwrap();
        let sealed = a.seal("x", "row");
        let b = Sealer::load(None, &dir).unwrap();
        assert_eq!(b.open(&sealed, "row").as_deref(), Some("x"));
        assert!(Sealer::load(Some("not hex"), &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
