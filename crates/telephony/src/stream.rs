//! The audio of a SIP call: one UDP socket from the configured port range carrying
//! G.711 RTP both ways in 20 ms packets. The stream sends its prompt (what the agent
//! says), receives the far end, records both legs (left: the agent, right: the far
//! end) into a stereo WAV, and reports RFC 4733 digits as they arrive. Packets from
//! any address but the negotiated one, malformed or oversized ones are counted and
//! dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics;
use crate::rtp::{self, MAX_PACKET};
use crate::sdp::Codec;

/// Samples per second of G.711.
pub const RATE: usize = 8_000;
/// Samples in one 20 ms packet.
pub const FRAME: usize = 160;

/// The even UDP ports media may use (RTP convention: RTCP would take the odd one above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

/// A media socket bound in the port range.
pub struct MediaSocket {
    socket: UdpSocket,
    pub local: SocketAddr,
}

impl MediaSocket {
    /// Binds the first free even port of `range` on `ip`, starting at a random one
    /// (so concurrent calls rarely collide).
    pub async fn bind(ip: IpAddr, range: PortRange) -> std::io::Result<MediaSocket> {
        let first = range.min + (range.min % 2);
        let count = usize::from(range.max.saturating_sub(first) / 2 + 1);
        let start = rand::random::<usize>() % count.max(1);
        for i in 0..count {
            let port = first + 2 * ((start + i) % count) as u16;
            if let Ok(socket) = UdpSocket::bind(SocketAddr::new(ip, port)).await {
                let local = socket.local_addr()?;
                return Ok(MediaSocket { socket, local });
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "every RTP port of the range is taken"))
    }
}

/// What a stream does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the far end receives (the negotiated address: the only one heard).
    pub remote: SocketAddr,
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    /// What the agent says, 8 kHz mono, sent from the start.
    pub prompt: Arc<[i16]>,
    /// The recording stops growing here (a call is bounded; so is its memory).
    pub max_secs: u32,
}

/// A digit the far end pressed, `at_ms` after the stream started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digit {
    pub digit: char,
    pub at_ms: u64,
}

/// What a stream carried.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Gaps in the far end's sequence numbers.
    pub packets_lost: u64,
    /// From another address, malformed, oversized or of an unexpected payload type.
    pub packets_ignored: u64,
    pub digits: Vec<Digit>,
    /// Stereo 16-bit WAV: left what the agent said, right what the far end said.
    pub recording: Vec<u8>,
    pub duration_ms: u64,
}

/// Runs the stream until `stop` is cancelled; digits are also sent on `digits` as they
/// arrive.
pub async fn run(
    media: MediaSocket,
    plan: Plan,
    stop: CancellationToken,
    digits: Option<mpsc::UnboundedSender<Digit>>,
) -> Report {
    let started = Instant::now();
    let cap = plan.max_secs as usize * RATE;
    let mut sent_track: Vec<i16> = Vec::new();
    let mut heard_track: Vec<i16> = Vec::new();
    let mut report = Report::default();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let ssrc: u32 = rand::random();
    let (mut seq, mut ts): (u16, u32) = (rand::random(), rand::random());
    let mut offset = 0usize;
    let mut prompt_at: Option<usize> = None;
    let mut inbound = Inbound::default();
    let mut buf = vec![0u8; MAX_PACKET + 1];
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick(), if offset < plan.prompt.len() => {
                let end = (offset + FRAME).min(plan.prompt.len());
                let mut frame: Vec<i16> = plan.prompt[offset..end].to_vec();
                frame.resize(FRAME, 0);
                // The prompt is laid down whole from its first packet (its timeline is the RTP one).
                let at = *prompt_at.get_or_insert_with(|| elapsed_samples(started)) + offset;
                put(&mut sent_track, at, &frame, cap);
                let payload: Vec<u8> = frame.iter().map(|s| plan.codec.encode(*s)).collect();
                let h = rtp::Header { payload_type: plan.codec.payload_type(), marker: offset == 0, seq, timestamp: ts, ssrc };
                if media.socket.send_to(&rtp::build(&h, &payload), plan.remote).await.is_ok() {
                    report.packets_sent += 1;
                    metrics::rtp_sent(1);
                }
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(FRAME as u32);
                offset = end;
            }
            got = media.socket.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                let packet = (from == plan.remote && n <= MAX_PACKET).then(|| rtp::parse(&buf[..n])).flatten();
                let Some((h, payload)) = packet else {
                    report.packets_ignored += 1;
                    metrics::rtp_ignored(1);
                    continue;
                };
                let at = elapsed_samples(started);
                if h.payload_type == plan.codec.payload_type() {
                    inbound.count(h.seq);
                    let pos = inbound.position(h.timestamp, at);
                    let pcm: Vec<i16> = payload.iter().map(|b| plan.codec.decode(*b)).collect();
                    if let Some(pos) = pos {
                        put(&mut heard_track, pos, &pcm, cap);
                    }
                    report.packets_received += 1;
                    metrics::rtp_received(1);
                } else if Some(h.payload_type) == plan.telephone_event {
                    inbound.count(h.seq);
                    report.packets_received += 1;
                    metrics::rtp_received(1);
                    // One digit per event: its packets share a timestamp (the end is sent thrice).
                    if let Some(e) = rtp::parse_event(payload) {
                        if inbound.new_event(h.timestamp) {
                            let d = Digit { digit: e.digit, at_ms: started.elapsed().as_millis() as u64 };
                            if let Some(tx) = &digits {
                                let _ = tx.send(d.clone());
                            }
                            report.digits.push(d);
                        }
                    }
                } else {
                    report.packets_ignored += 1;
                    metrics::rtp_ignored(1);
                }
            }
        }
    }
    report.packets_lost = inbound.lost();
    metrics::rtp_lost(report.packets_lost);
    report.duration_ms = started.elapsed().as_millis() as u64;
    let len = elapsed_samples(started).min(cap).max(sent_track.len()).max(heard_track.len());
    report.recording = crate::media::stereo_wav(&sent_track, &heard_track, len);
    report
}

fn elapsed_samples(since: Instant) -> usize {
    (since.elapsed().as_micros() as usize) * RATE / 1_000_000
}

/// Writes `samples` into `track` at `at`, growing it, never past `cap`.
fn put(track: &mut Vec<i16>, at: usize, samples: &[i16], cap: usize) {
    let end = (at + samples.len()).min(cap);
    if at >= end {
        return;
    }
    if track.len() < end {
        track.resize(end, 0);
    }
    track[at..end].copy_from_slice(&samples[..end - at]);
}

/// The far end's sequence and timing: where a packet's audio belongs in the recording
/// (its timestamp relative to the first packet's, from when that one arrived) and how
/// many packets never came.
#[derive(Default)]
struct Inbound {
    first: Option<(u32, usize)>,
    base_seq: Option<u16>,
    /// Extended highest sequence number seen (wraps counted).
    highest: i64,
    received: u64,
    last_event_ts: Option<u32>,
}

impl Inbound {
    fn count(&mut self, seq: u16) {
        let base = *self.base_seq.get_or_insert(seq);
        self.received += 1;
        // Distance from the highest so far, in the shortest direction (RFC 3550 A.1).
        let highest16 = (self.highest as u16).wrapping_add(base);
        let delta = i64::from(seq.wrapping_sub(highest16) as i16);
        if self.received == 1 {
            self.highest = 0;
        } else if delta > 0 {
            self.highest += delta;
        }
    }

    fn lost(&self) -> u64 {
        match self.base_seq {
            Some(_) => (self.highest + 1).saturating_sub(self.received as i64).max(0) as u64,
            None => 0,
        }
    }

    fn position(&mut self, ts: u32, arrived_at: usize) -> Option<usize> {
        let (first_ts, first_at) = *self.first.get_or_insert((ts, arrived_at));
        let delta = ts.wrapping_sub(first_ts) as i32;
        usize::try_from(first_at as i64 + i64::from(delta)).ok()
    }

    fn new_event(&mut self, ts: u32) -> bool {
        let fresh = self.last_event_ts != Some(ts);
        self.last_event_ts = Some(ts);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_counts_gaps_across_the_sequence_wrap() {
        let mut i = Inbound::default();
        for seq in [65_533u16, 65_534, 65_535, 1, 2, 4] {
            i.count(seq);
        }
        assert_eq!(i.lost(), 2, "0 and 3 never came");
        let mut late = Inbound::default();
        for seq in [10u16, 12, 11, 13] {
            late.count(seq);
        }
        assert_eq!(late.lost(), 0, "a reordered packet is not lost");
    }

    #[test]
    fn audio_lands_where_its_timestamp_says_and_the_recording_is_capped() {
        let mut i = Inbound::default();
        assert_eq!(i.position(1_000, 800), Some(800));
        assert_eq!(i.position(1_160, 0), Some(960), "20 ms later by its timestamp");
        assert_eq!(i.position(500, 0), Some(300), "an earlier packet, reordered");
        let mut track = Vec::new();
        put(&mut track, 10, &[1; 160], 100);
        assert_eq!(track.len(), 100, "never past the cap");
        put(&mut track, 200, &[1; 160], 100);
        assert_eq!(track.len(), 100);
    }
}
