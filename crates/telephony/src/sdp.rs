//! SDP offer/answer (RFC 3264) for one G.711 audio stream with RFC 4733 digits.
//! Parsing is lenient about what it does not use and strict about what it does: a
//! description without an audio address or a codec both sides speak is refused.

use std::net::{IpAddr, SocketAddr};

/// The codecs callplane speaks, by their static RTP payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    pub fn parse(name: &str) -> Option<Codec> {
        match name.to_ascii_uppercase().as_str() {
            "PCMU" => Some(Codec::Pcmu),
            "PCMA" => Some(Codec::Pcma),
            _ => None,
        }
    }

    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => crate::g711::ulaw_encode(sample),
            Codec::Pcma => crate::g711::alaw_encode(sample),
        }
    }

    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => crate::g711::ulaw_decode(byte),
            Codec::Pcma => crate::g711::alaw_decode(byte),
        }
    }
}

/// Where and how one side receives audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub addr: SocketAddr,
    /// The codecs offered or chosen, in preference order.
    pub codecs: Vec<Codec>,
    /// The payload type of `telephone-event`, if digits are sent as RFC 4733 events.
    pub telephone_event: Option<u8>,
}

/// What a description lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    NotUtf8,
    NoAudio,
    NoAddress,
    /// No codec both sides speak (a 488 Not Acceptable Here).
    NoCommonCodec,
}

impl std::fmt::Display for SdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SdpError::NotUtf8 => "the session description is not text",
            SdpError::NoAudio => "the session description has no audio stream",
            SdpError::NoAddress => "the session description has no usable audio address",
            SdpError::NoCommonCodec => "no codec in common (callplane speaks PCMU and PCMA)",
        })
    }
}

/// The payload type callplane offers for telephone events.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// The description of `s` (an offer lists every codec of `s`; an answer the one chosen).
pub fn write(s: &Session, session_id: u64) -> String {
    let ip = s.addr.ip();
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut pts: Vec<String> = s.codecs.iter().map(|c| c.payload_type().to_string()).collect();
    if let Some(te) = s.telephone_event {
        pts.push(te.to_string());
    }
    let mut out = format!(
        "v=0\r\no=callplane {session_id} {session_id} IN {family} {ip}\r\ns=callplane\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {pts}\r\n",
        port = s.addr.port(),
        pts = pts.join(" ")
    );
    for c in &s.codecs {
        out.push_str(&format!("a=rtpmap:{} {}/8000\r\n", c.payload_type(), c.name()));
    }
    if let Some(te) = s.telephone_event {
        out.push_str(&format!("a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-15\r\n"));
    }
    out.push_str("a=ptime:20\r\na=sendrecv\r\n");
    out
}

/// The audio session a description offers or answers: its address, the codecs it
/// lists that callplane speaks (in its order), and its telephone-event type.
pub fn parse(body: &[u8]) -> Result<Session, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
    let mut session_ip: Option<IpAddr> = None;
    let mut media_ip: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    let mut pts: Vec<u8> = Vec::new();
    let mut rtpmap: Vec<(u8, String)> = Vec::new();
    let mut in_audio = false;
    let mut seen_audio = false;
    for line in text.lines().map(str::trim) {
        let Some((kind, value)) = line.split_once('=') else { continue };
        match kind {
            "m" => {
                let mut f = value.split_whitespace();
                in_audio = f.next() == Some("audio") && !seen_audio;
                if in_audio {
                    seen_audio = true;
                    port = f.next().and_then(|p| p.parse().ok());
                    let _proto = f.next();
                    pts = f.filter_map(|p| p.parse().ok()).collect();
                }
            }
            "c" => {
                let ip = value.split_whitespace().nth(2).and_then(|a| a.split('/').next()?.parse().ok());
                if in_audio {
                    media_ip = ip;
                } else if !seen_audio {
                    session_ip = ip;
                }
            }
            "a" if in_audio => {
                if let Some(map) = value.strip_prefix("rtpmap:") {
                    if let Some((pt, enc)) = map.split_once(' ') {
                        if let Ok(pt) = pt.trim().parse() {
                            rtpmap.push((pt, enc.split('/').next().unwrap_or("").to_owned()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !seen_audio {
        return Err(SdpError::NoAudio);
    }
    let ip = media_ip.or(session_ip).ok_or(SdpError::NoAddress)?;
    let port = port.filter(|p| *p != 0).ok_or(SdpError::NoAddress)?;
    let name_of = |pt: u8| rtpmap.iter().find(|(p, _)| *p == pt).map(|(_, n)| n.as_str());
    let mut codecs = Vec::new();
    let mut telephone_event = None;
    for pt in pts {
        let codec = match (pt, name_of(pt)) {
            (_, Some(name)) if name.eq_ignore_ascii_case("telephone-event") => {
                telephone_event = telephone_event.or(Some(pt));
                None
            }
            (_, Some(name)) => Codec::parse(name),
            (0, None) => Some(Codec::Pcmu),
            (8, None) => Some(Codec::Pcma),
            _ => None,
        };
        if let Some(c) = codec.filter(|c| !codecs.contains(c)) {
            codecs.push(c);
        }
    }
    if codecs.is_empty() {
        return Err(SdpError::NoCommonCodec);
    }
    Ok(Session { addr: SocketAddr::new(ip, port), codecs, telephone_event })
}

/// The answer to `offer` from `local` audio address, choosing the offer's first codec
/// among `allowed`.
pub fn answer(offer: &Session, local: SocketAddr, allowed: &[Codec]) -> Result<Session, SdpError> {
    let codec = offer.codecs.iter().copied().find(|c| allowed.contains(c)).ok_or(SdpError::NoCommonCodec)?;
    Ok(Session { addr: local, codecs: vec![codec], telephone_event: offer.telephone_event })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_parses_back_with_its_codecs_and_digits() {
        let s = Session {
            addr: "192.0.2.7:40000".parse().unwrap(),
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(TELEPHONE_EVENT_PT),
        };
        assert_eq!(parse(write(&s, 1).as_bytes()), Ok(s));
    }

    #[test]
    fn a_peers_answer_with_session_level_address_and_dynamic_types() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
                   m=audio 6000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n";
        let s = parse(sdp.as_bytes()).unwrap();
        assert_eq!(s.addr, "10.0.0.1:6000".parse().unwrap());
        assert_eq!(s.codecs, vec![Codec::Pcma]);
        assert_eq!(s.telephone_event, Some(96));
    }

    #[test]
    fn descriptions_without_a_usable_codec_or_address_are_refused() {
        let g729 = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
        assert_eq!(parse(g729.as_bytes()), Err(SdpError::NoCommonCodec));
        assert_eq!(parse(b"v=0\r\nm=audio 6000 RTP/AVP 0\r\n"), Err(SdpError::NoAddress));
        assert_eq!(parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 6000 RTP/AVP 96\r\n"), Err(SdpError::NoAudio));
        assert_eq!(parse(b"\xff\xfe garbage"), Err(SdpError::NotUtf8));
        assert_eq!(parse(b"c=IN IP4 not-an-ip\r\nm=audio 1 RTP/AVP 0\r\n"), Err(SdpError::NoAddress));
        let offer = parse(b"c=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 8\r\n").unwrap();
        let local = "127.0.0.1:7000".parse().unwrap();
        assert_eq!(answer(&offer, local, &[Codec::Pcmu]), Err(SdpError::NoCommonCodec));
        assert_eq!(answer(&offer, local, &[Codec::Pcmu, Codec::Pcma]).unwrap().codecs, vec![Codec::Pcma]);
    }
}
