//! What a carrier does with a call: it rings, then is answered and talks for a while, or
//! ends busy, unanswered or failed. The simulated carrier decides deterministically from
//! the destination number, so demos and tests can ask for each outcome:
//!
//! | destination ends in | outcome                                      |
//! |---------------------|----------------------------------------------|
//! | `0486`              | busy after 2 s of ringing                    |
//! | `0408`              | no answer: rings 30 s, then gives up         |
//! | `0500`              | failed (the carrier refuses it) after 1 s    |
//! | `0061`              | answered after 4 s, talks 61 s               |
//! | anything else       | answered after 4 s, talks 20–179 s (from the digits) |
//!
//! A call talks at most its limit (the agent's, or what the wallet covers).

/// How a placed call unfolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Script {
    /// Ringing lasts this long (ms) before the outcome.
    pub ring_ms: i64,
    pub answer: Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Answered; talks this many seconds unless hung up earlier.
    Talk {
        seconds: i64,
    },
    Busy,
    NoAnswer,
    /// Refused by the network, with the SIP-style code it gave.
    Failed {
        code: u16,
    },
}

/// How long a call rings before the simulated callee answers.
const ANSWER_AFTER_MS: i64 = 4_000;

/// The simulated carrier's script for a call to `to_e164`.
pub fn simulate(to_e164: &str) -> Script {
    let digits: Vec<u8> = to_e164.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    let tail: String = to_e164.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    match tail.as_str() {
        "0486" => Script { ring_ms: 2_000, answer: Answer::Busy },
        "0408" => Script { ring_ms: 30_000, answer: Answer::NoAnswer },
        "0500" => Script { ring_ms: 1_000, answer: Answer::Failed { code: 503 } },
        "0061" => Script { ring_ms: ANSWER_AFTER_MS, answer: Answer::Talk { seconds: 61 } },
        _ => {
            let spread = digits.iter().fold(7u64, |h, &d| h.wrapping_mul(31).wrapping_add(u64::from(d))) % 160;
            Script { ring_ms: ANSWER_AFTER_MS, answer: Answer::Talk { seconds: 20 + spread as i64 } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p7_each_documented_test_number_gives_its_outcome() {
        assert_eq!(simulate("+919876500486").answer, Answer::Busy);
        assert_eq!(simulate("+919876500408").answer, Answer::NoAnswer);
        assert_eq!(simulate("+919876500500").answer, Answer::Failed { code: 503 });
        assert_eq!(simulate("+919876500061").answer, Answer::Talk { seconds: 61 });
        let Answer::Talk { seconds } = simulate("+919876543210").answer else { panic!("answered") };
        assert!((20..180).contains(&seconds));
        assert_eq!(simulate("+919876543210"), simulate("+919876543210"), "deterministic");
    }
}
