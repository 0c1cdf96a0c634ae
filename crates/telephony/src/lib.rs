//! Telephony providers. [`Provider`] is what callplane asks of a carrier: which
//! countries it serves, its inventory of numbers with their monthly price, placing and
//! receiving calls, and their recordings. [`Simulated`] is a real implementation for development, demos
//! and tests: a deterministic inventory of realistic numbers per country.

pub mod calls;
pub mod g711;
pub mod media;
pub mod metrics;
pub mod rtp;
pub mod sdp;
mod simulated;
pub mod sip;
pub mod stream;

pub use calls::{Answer, Outcome, Script, Speaker, Turn};
pub use simulated::Simulated;

/// A country a provider sells numbers in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: &'static str,
    pub name: &'static str,
    /// Monthly rental of a number, in minor units of `currency`.
    pub monthly_price: i64,
    pub currency: &'static str,
}

/// A number of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub e164: String,
    /// How the country writes it (`080 4123 4567`).
    pub national: String,
    pub country: &'static str,
    pub locality: &'static str,
    pub monthly_price: i64,
    pub currency: &'static str,
}

/// What an inventory search asks for.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub country: Option<String>,
    /// Digits the E.164 number starts with after the `+` (`9180`).
    pub prefix: Option<String>,
    /// Digits anywhere in the number.
    pub contains: Option<String>,
    pub limit: usize,
}

pub trait Provider: Send + Sync {
    fn id(&self) -> &'static str;
    fn countries(&self) -> &[Country];
    /// Numbers of the inventory matching `q`, in a stable order (whether someone owns
    /// them is the caller's ledger to check).
    fn search(&self, q: &Search) -> Vec<Offer>;
    /// The inventory's offer for one number, if it sells it.
    fn offer(&self, e164: &str) -> Option<Offer>;
    /// Hands an outbound call to the carrier and answers how it unfolds. The call
    /// worker plays the script out on durable state (each step a row update, so a
    /// restart resumes it); a SIP trunk will report the same steps as they happen.
    fn place(&self, to_e164: &str) -> Script;
    /// How an inbound call from `from_e164` unfolds once the agent picks up.
    fn receive(&self, from_e164: &str) -> Script;
    /// The recording of an answered call that talked `talk_secs` with `turns` said, as
    /// a WAV file. The simulated carrier renders it from the conversation; a SIP trunk
    /// records the media it carried.
    fn recording(&self, turns: &[Turn], talk_secs: i64) -> Vec<u8>;
}
