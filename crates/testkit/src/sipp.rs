//! sipp (Debian's `sip-tester`) as a real SIP peer: started on loopback with the
//! scenarios kept in `crates/telephony/tests/sipp/`. The test command installs sipp;
//! a missing one fails loudly.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// How long a scenario may take.
pub const WAIT: Duration = Duration::from_secs(40);

/// The scenario directory.
pub fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../telephony/tests/sipp")
}

/// A free UDP port on loopback (even, so sipp's media port +2 stays free too).
pub fn free_port() -> u16 {
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = s.local_addr().unwrap().port();
        if p.is_multiple_of(2) && p < 65_000 && UdpSocket::bind(("127.0.0.1", p + 2)).is_ok() {
            return p;
        }
    }
}

/// A running sipp.
pub struct Sipp {
    child: Child,
    /// Where it takes SIP.
    pub sip: SocketAddr,
    name: String,
    /// Where sipp logs every SIP message it sends and receives.
    messages: PathBuf,
}

/// Starts sipp with `args` (its SIP port and media port chosen here) for one call, in
/// the scenario directory so scenarios find their audio files.
pub fn spawn(name: &str, args: &[&str]) -> Sipp {
    spawn_calls(name, 1, args)
}

/// [`spawn`] for `calls` calls (at most that many at once).
pub fn spawn_calls(name: &str, calls: u32, args: &[&str]) -> Sipp {
    let port = free_port();
    let media = free_port();
    let messages = PathBuf::from(format!("/tmp/sipp-{name}-{port}-messages.log"));
    let child = Command::new("sipp")
        .current_dir(scenarios())
        .args(args)
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mi", "127.0.0.1", "-mp", &media.to_string()])
        .args(["-nostdin", "-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-timeout", "30s", "-timeout_error", "-trace_err"])
        .args(["-error_file", &format!("/tmp/sipp-{name}-{port}-errors.log")])
        .args(["-trace_msg", "-message_file", &messages.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("sipp could not start ({e}): install Debian's sip-tester (scripts/test does)"));
    Sipp { child, sip: SocketAddr::from(([127, 0, 0, 1], port)), name: name.to_owned(), messages }
}

impl Sipp {
    /// Waits for sipp to exit; its exit code (0: every call as the scenario says).
    pub async fn exit_code(mut self) -> i32 {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("sipp {} did not finish", self.name))
            .unwrap();
        status.code().unwrap_or(-1)
    }

    /// Waits for sipp to exit: its exit code and the SIP messages it saw.
    pub async fn finish(self) -> (i32, String) {
        let messages = self.messages.clone();
        let code = self.exit_code().await;
        (code, std::fs::read_to_string(&messages).unwrap_or_default())
    }
}

/// sipp binds within a few milliseconds; a UDP INVITE sent earlier is retransmitted
/// anyway, but waiting keeps the first attempt's timings clean.
pub async fn ready() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}
