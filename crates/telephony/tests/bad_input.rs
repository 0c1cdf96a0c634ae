//! Bad input at the SIP user agent: garbage and oversized datagrams, an offer without
//! a usable codec, RTP from an address other than the negotiated one. The agent
//! answers what it can, drops the rest, and keeps serving (never a panic).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use callplane_telephony::media::tone;
use callplane_telephony::rtp;
use callplane_telephony::sdp::Codec;
use callplane_telephony::sip::{Agent, Answering, CancellationToken, Decision, Event, Incoming, SipConfig};
use callplane_telephony::stream::PortRange;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

async fn agent() -> (Arc<Agent>, mpsc::UnboundedReceiver<Event>) {
    let (tx, mut rx) = mpsc::channel::<Incoming>(8);
    let config = SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        advertise: None,
        rtp_ports: PortRange { min: 30_000, max: 30_998 },
        decide_timeout: Duration::from_secs(5),
    };
    let ua = Agent::start(config, Some(tx)).await.unwrap();
    let (events_tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(inc) = rx.recv().await {
            let _ = inc.decide.send(Decision::Answer(Answering {
                codecs: vec![Codec::Pcmu, Codec::Pcma],
                ring: Duration::from_millis(10),
                talk_limit: Duration::from_secs(20),
                prompt: tone(440.0, 200).into(),
                events: events_tx.clone(),
                hangup: CancellationToken::new(),
            }));
        }
    });
    (ua, events)
}

/// A request from `from` to the agent; `extra` headers and an SDP body.
fn request(method: &str, ua: SocketAddr, from: SocketAddr, call_id: &str, cseq: u32, extra: &str, sdp: &str) -> String {
    let content_type = if sdp.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    format!(
        "{method} sip:919800000001@{ua} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-{call_id}-{cseq};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:caller@{from}>;tag=t1\r\n{extra}Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:caller@{from}>\r\n{content_type}Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

fn offer(rtp: SocketAddr, payload_types: &str, rtpmaps: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {payload_types}\r\n{rtpmaps}",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

/// The next final response (or any message starting with `prefix`).
async fn response(sock: &UdpSocket, prefix: &str) -> String {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf)).await.expect("an answer").unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if text.starts_with(prefix) {
            return text;
        }
    }
}

fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
        .map(|l| l[name.len() + 1..].trim())
        .unwrap_or_default()
}

#[tokio::test]
async fn n2_garbage_oversized_datagrams_and_an_offer_without_a_usable_codec_are_refused_and_the_agent_keeps_serving() {
    let (ua, _events) = agent().await;
    let target = ua.local_addr();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = sock.local_addr().unwrap();
    for junk in [
        b"\x00\x01\x02 not SIP at all".to_vec(),
        b"INVITE sip:x SIP/2.0\r\nVia: broken\r\n\r\n".to_vec(),
        b"SIP/2.0 200 OK\r\n\r\n".to_vec(),
        vec![b'A'; 60_000],
    ] {
        sock.send_to(&junk, target).await.unwrap();
    }
    // Only G.729 offered: 488 Not Acceptable Here.
    let sdp = offer(me, "18", "a=rtpmap:18 G729/8000\r\n");
    let invite = request("INVITE", target, me, "bad-codec", 1, "To: <sip:919800000001@x>\r\n", &sdp);
    sock.send_to(invite.as_bytes(), target).await.unwrap();
    let answer = response(&sock, "SIP/2.0 4").await;
    assert!(answer.starts_with("SIP/2.0 488"), "{answer}");
    // Still serving.
    let options = request("OPTIONS", target, me, "alive", 1, "To: <sip:919800000001@x>\r\n", "");
    sock.send_to(options.as_bytes(), target).await.unwrap();
    assert!(response(&sock, "SIP/2.0 ").await.starts_with("SIP/2.0 200"));
}

#[tokio::test]
async fn n2_rtp_from_another_address_is_ignored_and_the_negotiated_source_is_heard() {
    let (ua, mut events) = agent().await;
    let target = ua.local_addr();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = sock.local_addr().unwrap();
    let media = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let intruder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sdp =
        offer(media.local_addr().unwrap(), "0 101", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n");
    let invite = request("INVITE", target, me, "wrong-source", 1, "To: <sip:919800000001@x>\r\n", &sdp);
    sock.send_to(invite.as_bytes(), target).await.unwrap();
    let ok = response(&sock, "SIP/2.0 200").await;
    let to = header(&ok, "To").to_owned();
    let port: u16 = ok
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("an SDP answer");
    let ours = SocketAddr::from(([127, 0, 0, 1], port));
    let ack = request("ACK", target, me, "wrong-source", 1, &format!("To: {to}\r\n"), "");
    sock.send_to(ack.as_bytes(), target).await.unwrap();

    let silence = [0xffu8; 160];
    for seq in 0..50u16 {
        let header = rtp::Header { payload_type: 0, marker: false, seq, timestamp: u32::from(seq) * 160, ssrc: 0x1234 };
        let packet = rtp::build(&header, &silence);
        media.send_to(&packet, ours).await.unwrap();
        intruder.send_to(&packet, ours).await.unwrap();
        // An oversized datagram from the right address is dropped as well.
        if seq % 10 == 0 {
            media.send_to(&vec![0x80u8; 4_000], ours).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bye = request("BYE", target, me, "wrong-source", 2, &format!("To: {to}\r\n"), "");
    sock.send_to(bye.as_bytes(), target).await.unwrap();
    assert!(response(&sock, "SIP/2.0 200").await.contains("BYE"));
    let end = loop {
        match tokio::time::timeout(WAIT, events.recv()).await.unwrap().unwrap() {
            Event::Ended(end) => break end,
            _ => continue,
        }
    };
    let media = end.media.expect("media ran");
    assert_eq!(media.packets_received, 50, "{media:?}");
    assert!(media.packets_ignored >= 55, "50 from the intruder, 5 oversized: {media:?}");
}
