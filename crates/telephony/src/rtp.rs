//! RTP packets (RFC 3550) and telephone events (RFC 4733): just what a G.711 call
//! needs. Parsing never panics: anything malformed is `None`, and the caller drops it.

/// The largest datagram a media socket accepts; anything longer is dropped unread.
pub const MAX_PACKET: usize = 1_500;

/// The fields of an RTP packet a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub payload_type: u8,
    pub marker: bool,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// The header and payload of a datagram, if it is an RTP version 2 packet.
pub fn parse(packet: &[u8]) -> Option<(Header, &[u8])> {
    if packet.len() < 12 || packet.len() > MAX_PACKET || packet[0] >> 6 != 2 {
        return None;
    }
    let padding = packet[0] & 0x20 != 0;
    let extension = packet[0] & 0x10 != 0;
    let csrcs = usize::from(packet[0] & 0x0F);
    let mut start = 12 + 4 * csrcs;
    if extension {
        let ext = packet.get(start..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    let mut end = packet.len();
    if padding {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    let payload = packet.get(start..end)?;
    let header = Header {
        payload_type: packet[1] & 0x7F,
        marker: packet[1] & 0x80 != 0,
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
    };
    Some((header, payload))
}

/// A packet with `h` and `payload`.
pub fn build(h: &Header, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    p.push(0x80);
    p.push(h.payload_type & 0x7F | if h.marker { 0x80 } else { 0 });
    p.extend_from_slice(&h.seq.to_be_bytes());
    p.extend_from_slice(&h.timestamp.to_be_bytes());
    p.extend_from_slice(&h.ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A telephone event's payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// `0`–`9`, `*`, `#`, `A`–`D`.
    pub digit: char,
    pub end: bool,
    /// In timestamp units (samples).
    pub duration: u16,
}

/// The DTMF event of a telephone-event payload; other events (flash, tones) are `None`.
pub fn parse_event(payload: &[u8]) -> Option<Event> {
    let [code, flags, d1, d0, ..] = *payload else { return None };
    let digit = match code {
        0..=9 => char::from(b'0' + code),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + code - 12),
        _ => return None,
    };
    Some(Event { digit, end: flags & 0x80 != 0, duration: u16::from_be_bytes([d1, d0]) })
}

/// The payload of a telephone event for `digit` (the caller sends it as RFC 4733 asks:
/// repeated while held, the end packet three times).
pub fn event_payload(digit: char, end: bool, duration: u16) -> Option<[u8; 4]> {
    let code = match digit {
        '0'..='9' => digit as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => digit as u8 - b'A' + 12,
        _ => return None,
    };
    let d = duration.to_be_bytes();
    Some([code, if end { 0x80 } else { 0 } | 10, d[0], d[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_packet_parses_back() {
        let h = Header { payload_type: 8, marker: true, seq: 65_535, timestamp: 0xDEAD_BEEF, ssrc: 42 };
        let p = build(&h, &[1, 2, 3]);
        assert_eq!(parse(&p), Some((h, &[1u8, 2, 3][..])));
    }

    #[test]
    fn malformed_truncated_and_oversized_packets_are_refused() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x80; 11]), None, "shorter than a header");
        assert_eq!(parse(&[0x40; 20]), None, "version 1");
        let mut csrc = build(&Header { payload_type: 0, marker: false, seq: 1, timestamp: 1, ssrc: 1 }, &[]);
        csrc[0] |= 0x0F;
        assert_eq!(parse(&csrc), None, "fifteen CSRCs announced, none present");
        let mut padded = build(&Header { payload_type: 0, marker: false, seq: 1, timestamp: 1, ssrc: 1 }, &[9]);
        padded[0] |= 0x20;
        *padded.last_mut().unwrap() = 200;
        assert_eq!(parse(&padded), None, "padding longer than the packet");
        let mut ext = build(&Header { payload_type: 0, marker: false, seq: 1, timestamp: 1, ssrc: 1 }, &[0, 0, 0, 9]);
        ext[0] |= 0x10;
        assert_eq!(parse(&ext), None, "an extension longer than the packet");
        let big = build(&Header { payload_type: 0, marker: false, seq: 1, timestamp: 1, ssrc: 1 }, &[0; 1_600]);
        assert_eq!(parse(&big), None, "oversized");
    }

    #[test]
    fn dtmf_events_round_trip() {
        for d in "0123456789*#ABCD".chars() {
            let p = event_payload(d, true, 800).unwrap();
            assert_eq!(parse_event(&p), Some(Event { digit: d, end: true, duration: 800 }));
        }
        assert_eq!(parse_event(&[16, 0, 0, 0]), None, "flash is not a digit");
        assert_eq!(parse_event(&[1, 0]), None, "truncated");
    }
}
