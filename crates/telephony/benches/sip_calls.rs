//! SIP calls per second, against sipp calling sipp on the same machine in the same run.
//!
//! Two loads, each run by sipp (the baseline) and by callplane's user agent, both
//! calling a sipp UAS on loopback at the same rates:
//! - signaling only: INVITE, 180, 200, ACK, BYE, 200 (no RTP sent);
//! - media: 3 s of G.711 each way (sipp echoes what it receives) with the stereo
//!   recording kept, as every answered callplane call does.
//!
//! Each side climbs a ladder of rates, holding each for a few seconds; a rate is
//! sustained when every call completed and the run kept its pace. The figure is the
//! highest rate sustained, and its ratio to sipp's.
//! `cargo bench -p callplane-telephony --bench sip_calls` (scripts/bench runs it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use callplane_telephony::media::tone;
use callplane_telephony::sdp::Codec;
use callplane_telephony::sip::{Agent, Dial, Outcome, SipConfig};
use callplane_telephony::stream::PortRange;
use callplane_testkit::sipp::{free_port, scenarios};
use tokio::process::Command;

/// A sipp UAS for `calls` calls on a port of its own: the built-in `uas`, or the
/// echoing scenario for media.
fn uas(calls: usize, media: bool) -> (tokio::process::Child, u16) {
    let port = free_port();
    let media_port = free_port();
    let mut cmd = Command::new("sipp");
    cmd.current_dir(scenarios());
    match media {
        true => cmd.args(["-sf", "uas_echo.xml", "-rtp_echo"]),
        false => cmd.args(["-sn", "uas"]),
    };
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mi", "127.0.0.1", "-mp", &media_port.to_string()])
        .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "300s", "-timeout_error", "-max_socket", "5000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    (cmd.spawn().expect("sipp starts (install Debian's sip-tester)"), port)
}

/// How long each rate is held.
const HOLD_SECS: usize = 5;

/// sipp calling sipp at `rate` calls per second for `HOLD_SECS`; whether every call
/// completed in time.
async fn sipp_to_sipp(rate: usize, media: bool) -> bool {
    let calls = rate * HOLD_SECS;
    let (mut server, port) = uas(calls, media);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut cmd = Command::new("sipp");
    cmd.current_dir(scenarios());
    match media {
        // Streams 2 s of PCMU, waits 3 s (sipp echoes meanwhile), hangs up.
        true => cmd.args(["-sf", "uac_stream_ulaw.xml"]),
        false => cmd.args(["-sn", "uac"]),
    };
    let (p, mp) = (free_port(), free_port());
    cmd.arg(format!("127.0.0.1:{port}"))
        .args(["-i", "127.0.0.1", "-p", &p.to_string(), "-mi", "127.0.0.1", "-mp", &mp.to_string()])
        .args(["-m", &calls.to_string(), "-r", &rate.to_string()])
        .args(["-nostdin", "-timeout", "60s", "-timeout_error", "-max_socket", "5000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let started = Instant::now();
    let status = cmd.status().await.expect("sipp runs");
    let elapsed = started.elapsed();
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    let _ = server.kill().await;
    if !status.success() {
        eprintln!("    sipp exited {status} after {elapsed:?}");
    }
    status.success() && in_time(elapsed, media)
}

/// Whether a run kept its pace: placing took the hold, plus the last call's length and
/// a second's slack.
fn in_time(elapsed: Duration, media: bool) -> bool {
    let call = if media { 5.0 } else { 0.2 };
    elapsed.as_secs_f64() <= HOLD_SECS as f64 + call + 1.0
}

/// callplane's user agent calling sipp at `rate` calls per second for `HOLD_SECS`.
async fn ours(rate: usize, media: bool) -> bool {
    let calls = rate * HOLD_SECS;
    let (mut server, port) = uas(calls, media);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let config = SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        advertise: None,
        rtp_ports: PortRange { min: 20_000, max: 29_998 },
        decide_timeout: Duration::from_secs(5),
    };
    let agent = Agent::start(config, None).await.expect("the agent starts");
    let prompt: Arc<[i16]> = if media { tone(440.0, 3_000).into() } else { Vec::new().into() };
    let started = Instant::now();
    let mut running = Vec::with_capacity(calls);
    // Paced in 10 ms ticks, like sipp's rate.
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut placed = 0;
    while placed < calls {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as usize + 1).min(calls);
        while placed < due {
            let call = agent.dial(Dial {
                gateways: vec![format!("127.0.0.1:{port}")],
                proxy: None,
                failover_after: Duration::from_secs(30),
                to_user: format!("9198{placed:08}"),
                from_user: "918041234567".into(),
                from_domain: None,
                credential: None,
                codecs: vec![Codec::Pcmu],
                ring_timeout: Duration::from_secs(30),
                talk_limit: Duration::from_millis(if media { 3_000 } else { 0 }),
                prompt: prompt.clone(),
            });
            placed += 1;
            running.push(tokio::spawn(async move {
                let (_, end) = call.finish().await;
                // Media calls count when the prompt went out and its echo came back.
                let recorded = end.media.as_ref().is_some_and(|m| {
                    m.packets_sent >= 145 && m.packets_received * 10 >= m.packets_sent * 9 && m.recording.len() > 44
                });
                (end.outcome, recorded, end.error)
            }));
        }
    }
    let mut failed = 0;
    for r in running {
        let (outcome, recorded, error) = r.await.unwrap();
        if outcome != Outcome::Completed || (media && !recorded) {
            failed += 1;
            if failed <= 2 {
                eprintln!("    a call ended {outcome:?}: {error:?}");
            }
        }
    }
    let elapsed = started.elapsed();
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    let _ = server.kill().await;
    if failed > 0 {
        eprintln!("    {failed} of {calls} calls failed");
    }
    failed == 0 && in_time(elapsed, media)
}

/// The highest rate of `ladder` each side sustains (every call completed, in time);
/// a side stops climbing at its first miss.
async fn climb(ladder: &[usize], media: bool) -> (usize, usize) {
    let (mut base, mut mine) = (0, 0);
    let (mut base_done, mut mine_done) = (false, false);
    for &rate in ladder {
        if !base_done {
            let ok = sipp_to_sipp(rate, media).await;
            println!("  sipp→sipp      {rate:>5}/s: {}", if ok { "sustained" } else { "missed" });
            if ok {
                base = rate
            } else {
                base_done = true
            }
        }
        if !mine_done {
            let ok = ours(rate, media).await;
            println!("  callplane→sipp {rate:>5}/s: {}", if ok { "sustained" } else { "missed" });
            if ok {
                mine = rate
            } else {
                mine_done = true
            }
        }
        if base_done && mine_done {
            break;
        }
    }
    (base, mine)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists harness-less benches; nothing to list.
    }
    println!(
        "SIP calls per second sustained for {HOLD_SECS} s on loopback, both sides on this machine ({} cores)",
        num_cpus()
    );
    println!("signaling only (INVITE, 180, 200, ACK, BYE, 200):");
    let (base, mine) = climb(&[500, 1000, 2000, 3000, 4000, 6000], false).await;
    println!("  => sipp→sipp {base}/s, callplane→sipp {mine}/s, ratio {:.2}× (goal ≥500/s)", mine as f64 / base as f64);
    println!("3 s of G.711 each way (echoed) + the stereo recording:");
    let (base, mine) = climb(&[50, 100, 200, 300, 400, 600], true).await;
    println!("  => sipp→sipp {base}/s, callplane→sipp {mine}/s, ratio {:.2}× (goal ≥50/s)", mine as f64 / base as f64);
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
