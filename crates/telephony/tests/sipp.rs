//! The SIP trunk against a real SIP peer: sipp (Debian's `sip-tester`), started on
//! loopback with the scenarios in `tests/sipp/`. The test command installs sipp; a
//! missing one fails here, loudly.

use std::sync::Arc;
use std::time::Duration;

use callplane_telephony::media::{stereo_channel, tone, tone_share};
use callplane_telephony::sdp::Codec;
use callplane_telephony::sip::{Agent, Answering, Decision, Dial, Event, Incoming, Outcome, Side, SipConfig};
use callplane_telephony::stream::PortRange;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use callplane_testkit::sipp::{self, spawn as sipp, Sipp, WAIT};

async fn agent(inbound: Option<mpsc::Sender<Incoming>>) -> Arc<Agent> {
    let config = SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        advertise: None,
        // Below the ephemeral range sipp's free ports come from.
        rtp_ports: PortRange { min: 20_000, max: 29_998 },
        decide_timeout: Duration::from_secs(5),
    };
    Agent::start(config, inbound).await.expect("the SIP agent starts")
}

fn dial(to: &Sipp, prompt: Vec<i16>, talk_limit: Duration) -> Dial {
    Dial {
        gateways: vec![to.sip.to_string()],
        proxy: None,
        failover_after: Duration::from_secs(5),
        to_user: "+919812345678".into(),
        from_user: "+918041234567".into(),
        from_domain: None,
        credential: None,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        ring_timeout: Duration::from_secs(10),
        talk_limit,
        prompt: prompt.into(),
    }
}

#[tokio::test]
async fn n2_an_echoed_tone_comes_back_and_is_recorded_then_bye_is_clean() {
    let peer = sipp("echo", &["-sf", "uas_echo.xml", "-rtp_echo"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let three_secs = tone(440.0, 3_000);
    let call = ua.dial(dial(&peer, three_secs, Duration::from_millis(3_600)));
    let (events, end) = call.finish().await;
    assert!(matches!(events.first(), Some(Event::Ringing)), "180 reported: {events:?}");
    assert!(events.iter().any(|e| matches!(e, Event::Answered { codec: Codec::Pcmu })));
    assert_eq!(end.outcome, Outcome::Completed, "{end:?}");
    assert_eq!(end.sip_code, Some(200));
    assert_eq!(end.hung_up_by, Some(Side::Local));
    let media = end.media.expect("media ran");
    assert_eq!(media.packets_sent, 150, "3 s of 20 ms packets");
    assert!(media.packets_received >= 145, "{} of 150 packets came back", media.packets_received);
    assert_eq!(media.packets_ignored, 0);
    let heard = stereo_channel(&media.recording, 1).expect("a stereo WAV");
    let said = stereo_channel(&media.recording, 0).unwrap();
    assert!(tone_share(&said, 440.0) > 0.5, "the agent's leg holds the tone");
    assert!(tone_share(&heard, 440.0) > 0.5, "the far end's leg holds the echoed tone");
    let energy = heard.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / heard.len() as f64;
    assert!(energy.sqrt() > 2_000.0, "the echo is loud, not silence (rms {})", energy.sqrt());
    assert_eq!(peer.exit_code().await, 0, "sipp saw a clean call");
}

#[tokio::test]
async fn n2_busy_and_a_gateway_failure_map_to_outcomes_with_their_codes() {
    let peer = sipp("busy", &["-sf", "uas_busy.xml"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let (_, end) = ua.dial(dial(&peer, Vec::new(), Duration::from_secs(5))).finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Busy, Some(486)), "{end:?}");
    assert!(end.media.is_none());
    assert_eq!(peer.exit_code().await, 0);
}

#[tokio::test]
async fn n2_an_unanswered_call_is_cancelled_at_the_ring_timeout_and_a_hang_up_cancels_too() {
    let peer = sipp("noanswer", &["-sf", "uas_no_answer.xml"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let mut d = dial(&peer, Vec::new(), Duration::from_secs(5));
    d.ring_timeout = Duration::from_secs(2);
    let (events, end) = ua.dial(d).finish().await;
    assert!(matches!(events.as_slice(), [Event::Ringing]), "{events:?}");
    assert_eq!((end.outcome, end.sip_code), (Outcome::NoAnswer, Some(487)), "{end:?}");
    assert_eq!(peer.exit_code().await, 0, "sipp got the CANCEL and ACKed its 487");

    let peer = sipp("cancel", &["-sf", "uas_no_answer.xml"]);
    sipp::ready().await;
    let mut call = ua.dial(dial(&peer, Vec::new(), Duration::from_secs(5)));
    assert!(matches!(call.events.recv().await, Some(Event::Ringing)));
    call.hang_up();
    let (_, end) = call.finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Canceled, Some(487)), "{end:?}");
    assert_eq!(peer.exit_code().await, 0);
}

#[tokio::test]
async fn n2_digest_auth_is_answered_and_a_wrong_password_fails_with_403() {
    let peer = sipp("auth-ok", &["-sf", "uas_auth.xml", "-set", "authuser", "trunk", "-set", "authpass", "s3cret"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let mut d = dial(&peer, tone(440.0, 200), Duration::from_millis(500));
    d.credential = Some(("trunk".into(), "s3cret".into()));
    let (_, end) = ua.dial(d.clone()).finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Completed, Some(200)), "{end:?}");
    assert_eq!(peer.exit_code().await, 0);

    let peer = sipp("auth-bad", &["-sf", "uas_auth.xml", "-set", "authuser", "trunk", "-set", "authpass", "s3cret"]);
    sipp::ready().await;
    let mut d = dial(&peer, Vec::new(), Duration::from_millis(500));
    d.credential = Some(("trunk".into(), "wrong".into()));
    let (_, end) = ua.dial(d).finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Failed, Some(403)), "{end:?}");
    assert!(!format!("{end:?}").contains("wrong"), "the password never shows");
    drop(peer);
}

#[tokio::test]
async fn n2_the_far_end_hangs_up_and_its_prompt_is_recorded() {
    let peer = sipp("prompt", &["-sf", "uas_prompt.xml"]);
    sipp::ready().await;
    let ua = agent(None).await;
    // The peer's prompt (pcap/g711a.pcap) lasts 7 s; the call hangs up at 8.
    let (_, end) = ua.dial(dial(&peer, Vec::new(), Duration::from_secs(8))).finish().await;
    assert_eq!(end.outcome, Outcome::Completed, "{end:?}");
    assert_eq!(end.codec, Some(Codec::Pcma), "the peer answered A-law");
    let media = end.media.unwrap();
    assert!(media.packets_received > 50, "the prompt arrived ({} packets)", media.packets_received);
    let heard = stereo_channel(&media.recording, 1).unwrap();
    let loud = heard.iter().filter(|s| s.unsigned_abs() > 1_000).count();
    assert!(loud > 1_000, "the far end's leg holds the prompt ({loud} loud samples)");
    let _ = peer.exit_code().await;

    let peer = sipp("farbye", &["-sf", "uas_far_bye.xml", "-d", "2000"]);
    sipp::ready().await;
    let (_, end) = ua.dial(dial(&peer, tone(440.0, 5_000), Duration::from_secs(20))).finish().await;
    assert_eq!((end.outcome, end.hung_up_by), (Outcome::Completed, Some(Side::Remote)), "{end:?}");
    assert!(end.media.unwrap().duration_ms < 10_000, "ended by the far end's BYE, not the limit");
    assert_eq!(peer.exit_code().await, 0);
}

#[tokio::test]
async fn n2_an_inbound_call_is_answered_with_its_digits_and_a_refused_one_gets_its_code() {
    let (tx, mut rx) = mpsc::channel::<Incoming>(8);
    let ua = agent(Some(tx)).await;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let router = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(inc) = rx.recv().await {
            seen.push((inc.source, inc.to_user.clone(), inc.from_user.clone()));
            let decision = if inc.to_user == "919800000001" {
                Decision::Answer(Answering {
                    codecs: vec![Codec::Pcmu, Codec::Pcma],
                    ring: Duration::from_millis(200),
                    talk_limit: Duration::from_secs(30),
                    prompt: tone(440.0, 1_000).into(),
                    events: events_tx.clone(),
                    hangup: CancellationToken::new(),
                })
            } else {
                Decision::Refuse { code: 404, reason: "no such number".into() }
            };
            let _ = inc.decide.send(decision);
        }
        seen
    });
    let target = ua.local_addr().to_string();
    let caller = sipp("inbound", &["-sf", "uac_pcap.xml", "-s", "919800000001", &target]);
    assert_eq!(caller.exit_code().await, 0, "sipp's call was answered and hung up cleanly");
    let mut digits = String::new();
    let end = loop {
        match tokio::time::timeout(WAIT, events.recv()).await.unwrap().unwrap() {
            Event::Digit(d) => digits.push(d.digit),
            Event::Ended(end) => break end,
            _ => {}
        }
    };
    assert_eq!((end.outcome, end.hung_up_by), (Outcome::Completed, Some(Side::Remote)), "{end:?}");
    assert!(!digits.is_empty(), "RFC 4733 digits reported");
    assert_eq!(end.media.as_ref().unwrap().digits.iter().map(|d| d.digit).collect::<String>(), digits);

    let unknown = sipp("inbound-404", &["-sf", "uac_pcap.xml", "-s", "919800000002", &target]);
    assert_ne!(unknown.exit_code().await, 0, "refused");
    drop(ua);
    let seen = router.await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0.ip().to_string(), "127.0.0.1", "the source is the peer's address");
}

#[tokio::test]
async fn n2_a_silent_gateway_and_one_out_of_service_are_failed_over_to_the_next() {
    // Gateway 1 says nothing at all; gateway 2 answers 503; gateway 3 takes the call.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let down = sipp("unavailable", &["-sf", "uas_unavailable.xml"]);
    let up = sipp("failover-echo", &["-sf", "uas_echo.xml", "-rtp_echo"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let mut d = dial(&up, tone(440.0, 400), Duration::from_millis(600));
    d.gateways = vec![silent.local_addr().unwrap().to_string(), down.sip.to_string(), up.sip.to_string()];
    d.failover_after = Duration::from_millis(800);
    let call = ua.dial(d);
    let first_id = call.sip_call_id.clone();
    let (events, end) = call.finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Completed, Some(200)), "{end:?}");
    assert!(end.sip_call_id.starts_with("2-") && end.sip_call_id.ends_with(&first_id), "{}", end.sip_call_id);
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Ringing)).count(), 1, "{events:?}");
    let mut buf = [0u8; 4096];
    silent.set_nonblocking(true).unwrap();
    let n = silent.recv(&mut buf).expect("the silent gateway was tried first");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("INVITE "));
    assert_eq!(down.exit_code().await, 0, "the 503 was acknowledged");
    assert_eq!(up.exit_code().await, 0, "the call through the third gateway was clean");

    // A final answer about the call (busy) is not failed over.
    let busy = sipp("busy-no-failover", &["-sf", "uas_busy.xml"]);
    let never = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sipp::ready().await;
    let mut d = dial(&busy, Vec::new(), Duration::from_secs(1));
    d.gateways = vec![busy.sip.to_string(), never.local_addr().unwrap().to_string()];
    let (_, end) = ua.dial(d).finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Busy, Some(486)), "{end:?}");
    never.set_nonblocking(true).unwrap();
    assert!(never.recv(&mut buf).is_err(), "busy is the callee's answer: no second gateway");
    assert_eq!(busy.exit_code().await, 0);
}

#[tokio::test]
async fn n2_an_outbound_proxy_carries_the_invite_for_the_gateway_it_names() {
    let proxy = sipp("proxy", &["-sf", "uas_echo.xml", "-rtp_echo"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let mut d = dial(&proxy, tone(440.0, 400), Duration::from_millis(600));
    d.gateways = vec!["gw.carrier.example:5070".into()];
    d.proxy = Some(proxy.sip.to_string());
    let (_, end) = ua.dial(d).finish().await;
    assert_eq!((end.outcome, end.sip_code), (Outcome::Completed, Some(200)), "{end:?}");
    let (code, messages) = proxy.finish().await;
    assert_eq!(code, 0);
    assert!(
        messages.contains("INVITE sip:+919812345678@gw.carrier.example:5070 SIP/2.0"),
        "the Request-URI names the gateway: {messages}"
    );
}

#[tokio::test]
async fn n2_a_registration_trunk_registers_with_digest_auth_and_unregisters_when_dropped() {
    use callplane_telephony::sip::{Register, Registered};
    let registrar =
        sipp("registrar", &["-sf", "registrar.xml", "-set", "authuser", "trunk", "-set", "authpass", "s3cret"]);
    sipp::ready().await;
    let ua = agent(None).await;
    let register = |password: &str, at: &Sipp| Register {
        registrar: at.sip.to_string(),
        proxy: None,
        username: "trunk".into(),
        password: password.into(),
        expires: 300,
    };
    let mut reg = ua.register(register("s3cret", &registrar)).unwrap();
    let status = tokio::time::timeout(WAIT, reg.status.wait_for(|s| *s != Registered::Pending))
        .await
        .expect("the registrar answered")
        .unwrap()
        .clone();
    assert_eq!(status, Registered::Bound { expires: 60 }, "the registrar granted 60 s of the 300 asked");
    drop(reg);
    let (code, messages) = registrar.finish().await;
    assert_eq!(code, 0, "registered, then removed with Expires: 0: {messages}");
    assert!(messages.contains(&format!("Contact: <sip:trunk@{}>", ua.local_addr())), "{messages}");
    assert!(messages.contains("Expires: 0"), "the binding was removed: {messages}");

    let registrar =
        sipp("registrar-bad", &["-sf", "registrar.xml", "-set", "authuser", "trunk", "-set", "authpass", "s3cret"]);
    sipp::ready().await;
    let mut reg = ua.register(register("wrong", &registrar)).unwrap();
    let status = tokio::time::timeout(WAIT, reg.status.wait_for(|s| *s != Registered::Pending))
        .await
        .expect("the registrar answered")
        .unwrap()
        .clone();
    assert_eq!(status, Registered::Refused { code: 403 });
    assert!(!format!("{status:?}").contains("wrong"));
    drop(reg);
    drop(registrar);
}
