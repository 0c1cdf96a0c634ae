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
//!
//! Inbound calls from the simulator ring 1 s before the agent picks up; the caller talks
//! 20–179 s (from the caller's digits), or 61 s when the caller's number ends in `0061`.
//!
//! What is said is scripted too ([`conversation`]): the agent's first message, then one
//! of three exchanges (a booking, a call-back request, a polite refusal) chosen from the
//! call id, cut to the time the call talked.

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

/// The simulated caller of an inbound call from `from_e164`.
pub fn simulate_inbound(from_e164: &str) -> Script {
    let talk = match simulate(from_e164).answer {
        Answer::Talk { seconds } => seconds,
        // Outbound's busy/no-answer/failed numbers call in like anyone else.
        _ => 45,
    };
    Script { ring_ms: 1_000, answer: Answer::Talk { seconds: talk } }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Agent,
    Caller,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Caller => "caller",
        }
    }
}

/// One turn of a conversation: who, when it starts and ends (ms from the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub speaker: Speaker,
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// How a scripted conversation went, for the post-call analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Booked,
    CallBack,
    NotInterested,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Booked => "booked",
            Outcome::CallBack => "callback",
            Outcome::NotInterested => "not_interested",
        }
    }
}

type Line = (Speaker, &'static str);
use Speaker::{Agent, Caller};

const BOOKING: &[Line] = &[
    (Caller, "Hi, yes, this is me. What is it about?"),
    (Agent, "You asked about a consultation last week. Would you like me to book one for you?"),
    (Caller, "Yes, that would be good. Do you have anything on Thursday?"),
    (Agent, "Thursday at 4 in the afternoon is free. Shall I put you down for it?"),
    (Caller, "Perfect, Thursday at 4 works."),
    (Agent, "Done. You will get a confirmation message with the address shortly."),
    (Caller, "Great, thank you."),
    (Agent, "Thank you for your time. See you on Thursday, goodbye!"),
];

const CALL_BACK: &[Line] = &[
    (Caller, "Hello? Sorry, I am driving right now."),
    (Agent, "No problem at all. When would be a better time to call you back?"),
    (Caller, "Tomorrow morning, maybe around ten."),
    (Agent, "I will call you tomorrow at 10 in the morning. Is this number the best one?"),
    (Caller, "Yes, this number is fine."),
    (Agent, "Noted. Drive safe, and talk to you tomorrow. Goodbye!"),
];

const REFUSAL: &[Line] = &[
    (Caller, "Hello, who is calling?"),
    (Agent, "I am calling about the offer you enquired about. Do you have a minute?"),
    (Caller, "I am not interested at the moment, thanks."),
    (Agent, "Understood. May I send you the details by message, in case it helps later?"),
    (Caller, "Okay, you can send them, but please do not call again."),
    (Agent, "Of course, I will note that. Thank you for your time, goodbye!"),
];

/// The scripted conversation of an answered call: the agent's first message, then the
/// exchange `seed` picks, with turns spread over `talk_secs` and cut where it ends.
pub fn conversation(seed: &str, first_message: &str, talk_secs: i64) -> (Outcome, Vec<Turn>) {
    let pick = seed.bytes().fold(0u32, |h, b| h.wrapping_mul(33) ^ u32::from(b)) % 3;
    let (outcome, lines) = match pick {
        0 => (Outcome::Booked, BOOKING),
        1 => (Outcome::CallBack, CALL_BACK),
        _ => (Outcome::NotInterested, REFUSAL),
    };
    let total_ms = talk_secs.max(0) * 1000;
    let opening = first_message.trim();
    let opening = if opening.is_empty() { "Hello, thank you for taking my call." } else { opening };
    let all = std::iter::once((Agent, opening)).chain(lines.iter().copied());
    // Each turn takes time by its length (about 14 characters a second), with a pause
    // after it; a call shorter than the script ends mid-conversation.
    let mut turns = Vec::new();
    let mut at = 300;
    for (speaker, text) in all {
        if at >= total_ms {
            break;
        }
        let end = (at + 600 + text.len() as i64 * 70).min(total_ms);
        turns.push(Turn { speaker, start_ms: at, end_ms: end, text: text.to_owned() });
        at = end + 700;
    }
    (outcome, turns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p7_conversations_open_with_the_first_message_and_fit_the_call() {
        let (_, turns) = conversation("call_1", "Hi Asha, this is Maya from Acme.", 120);
        assert_eq!(turns[0].speaker, Speaker::Agent);
        assert_eq!(turns[0].text, "Hi Asha, this is Maya from Acme.");
        assert!(turns.len() > 5, "a two-minute call has the whole exchange");
        assert!(turns.windows(2).all(|w| w[0].end_ms < w[1].start_ms), "turns do not overlap");
        assert!(turns.iter().all(|t| t.end_ms <= 120_000));
        let (_, short) = conversation("call_1", "Hi Asha, this is Maya from Acme.", 5);
        assert!(!short.is_empty() && short.len() < turns.len(), "a short call is cut");
        assert!(short.iter().all(|t| t.end_ms <= 5_000));
        let outcomes: std::collections::BTreeSet<_> =
            (0..30).map(|i| conversation(&format!("call_{i}"), "", 60).0.as_str()).collect();
        assert_eq!(outcomes.len(), 3, "every exchange occurs");
    }

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
