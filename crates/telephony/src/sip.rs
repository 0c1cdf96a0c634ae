//! The SIP trunk: one user agent (rsipstack, UDP) that places calls through a
//! gateway and answers calls from gateways. Each call runs as a task that reports
//! what happens as [`Event`]s: ringing, answered (with the codec), digits, ended
//! (with the outcome and the final SIP code, and what the media carried). The server
//! turns those into the same call steps a simulated call takes.
//!
//! Outbound: INVITE with an SDP offer (PCMU, PCMA, telephone-event), digest
//! authentication on 401/407 when credentials are given, CANCEL when the ring timeout
//! passes or the call is hung up before answer, BYE from either side. SIP failures
//! map to outcomes: 486/600 busy; 408/480 (or no answer in time) no-answer; any other
//! final failure, failed with its code.
//!
//! Inbound: every INVITE is handed to the server as an [`Incoming`] (source address,
//! dialed number) over a channel; the server answers with a [`Decision`] (refuse with a
//! code, or answer and how). Unusable offers get 488 before anyone is asked.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{Dialog, DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::prelude::*;
use rsipstack::sip::{Header, HostWithPort, Method, StatusCode, Transport, Uri};
use rsipstack::transaction::endpoint::Endpoint;
use rsipstack::transaction::Transaction;
use rsipstack::transport::{udp::UdpConnection, SipAddr, TransportLayer};
use rsipstack::EndpointBuilder;
use tokio::sync::{mpsc, oneshot};
pub use tokio_util::sync::CancellationToken;

use crate::metrics;
use crate::sdp::{self, Codec, Session, TELEPHONE_EVENT_PT};
use crate::stream::{self, Digit, MediaSocket, Plan, PortRange, Report};

/// Where the agent listens and which media ports it uses.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// The UDP address SIP is received on (and sent from).
    pub listen: SocketAddr,
    /// The address written into Contact and SDP, when `listen` is a wildcard or
    /// behind NAT (default: the listen address; 127.0.0.1 for a wildcard).
    pub advertise: Option<IpAddr>,
    pub rtp_ports: PortRange,
    /// How long an inbound caller waits for the server's decision.
    pub decide_timeout: Duration,
}

/// How a SIP call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Busy,
    NoAnswer,
    Failed,
    /// Hung up before it was answered.
    Canceled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no-answer",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
        }
    }

    /// The outcome of a final failure response.
    pub fn of_code(code: u16) -> Outcome {
        match code {
            486 | 600 => Outcome::Busy,
            408 | 480 => Outcome::NoAnswer,
            _ => Outcome::Failed,
        }
    }
}

/// Which side hung up an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Local,
    Remote,
}

/// What became of a call.
#[derive(Debug, Clone)]
pub struct Ended {
    pub outcome: Outcome,
    /// The final SIP status (200 for an answered call; none when nothing answered).
    pub sip_code: Option<u16>,
    pub sip_call_id: String,
    pub codec: Option<Codec>,
    pub hung_up_by: Option<Side>,
    /// Why it failed, in words (never a secret).
    pub error: Option<String>,
    /// The media of an answered call.
    pub media: Option<Report>,
}

/// What happens on a call, in order; `Ended` is always last.
#[derive(Debug, Clone)]
pub enum Event {
    Ringing,
    Answered { codec: Codec },
    Digit(Digit),
    Ended(Ended),
}

/// An outbound call.
#[derive(Debug, Clone)]
pub struct Dial {
    /// The gateways, `host:port`, in the order they are tried: the next one when a
    /// gateway fails on its own account (5xx, silence, unreachable).
    pub gateways: Vec<String>,
    /// `host:port` every INVITE is sent through (the Request-URI still names the
    /// gateway).
    pub proxy: Option<String>,
    /// How long a gateway may stay silent (not even 100 Trying) before the next one
    /// is tried.
    pub failover_after: Duration,
    /// The user part of the Request-URI (the number as the trunk wants it).
    pub to_user: String,
    pub from_user: String,
    /// The From domain (default: the gateway's host).
    pub from_domain: Option<String>,
    /// Digest credentials (username, password), answered to 401/407.
    pub credential: Option<(String, String)>,
    pub codecs: Vec<Codec>,
    pub ring_timeout: Duration,
    /// Hang up this long after the answer (the call's limit).
    pub talk_limit: Duration,
    /// What the agent says once answered, 8 kHz mono.
    pub prompt: Arc<[i16]>,
}

/// How one gateway took an INVITE.
enum Attempt {
    /// It failed on its own account: the next gateway may do better.
    Next(Ended),
    /// A final answer about the call.
    Final(Ended),
    Answered(Box<Answered>),
}

struct Answered {
    dialog: rsipstack::dialog::invite_dialog::InviteDialog,
    id: rsipstack::dialog::DialogId,
    answer: Session,
    states: DialogStateReceiver,
    code: u16,
}

/// An answered call's dialog and what ends it: the far end (its dialog's states), the
/// limit, or a hang-up here.
struct Talking<'a> {
    dialog: rsipstack::dialog::invite_dialog::InviteDialog,
    dialog_id: rsipstack::dialog::DialogId,
    states: DialogStateReceiver,
    limit: Duration,
    hangup: &'a CancellationToken,
    events: &'a mpsc::UnboundedSender<Event>,
}

/// A running call: its events, and a way to hang up.
pub struct Call {
    pub sip_call_id: String,
    pub events: mpsc::UnboundedReceiver<Event>,
    hangup: CancellationToken,
}

impl Call {
    /// Hangs up: CANCEL before the answer, BYE after (the `Ended` event follows).
    pub fn hang_up(&self) {
        self.hangup.cancel();
    }

    /// Waits for the end, collecting every event (tests and benchmarks).
    pub async fn finish(mut self) -> (Vec<Event>, Ended) {
        let mut seen = Vec::new();
        while let Some(e) = self.events.recv().await {
            if let Event::Ended(end) = e {
                return (seen, end);
            }
            seen.push(e);
        }
        let end = ended(Outcome::Failed, None, &self.sip_call_id, Some("the call task stopped".into()));
        (seen, end)
    }
}

/// An inbound INVITE waiting for the server's decision.
#[derive(Debug)]
pub struct Incoming {
    /// Where it came from (the allow-list's question).
    pub source: SocketAddr,
    /// The dialed number: the Request-URI's user part.
    pub to_user: String,
    /// The caller: the From user part.
    pub from_user: String,
    pub sip_call_id: String,
    pub decide: oneshot::Sender<Decision>,
}

/// The server's answer to an inbound INVITE.
#[derive(Debug)]
pub enum Decision {
    Refuse { code: u16, reason: String },
    Answer(Answering),
}

/// How to answer an inbound call.
#[derive(Debug)]
pub struct Answering {
    pub codecs: Vec<Codec>,
    /// Ringing before the agent picks up.
    pub ring: Duration,
    pub talk_limit: Duration,
    pub prompt: Arc<[i16]>,
    /// Where the call's events go (and a token that hangs it up).
    pub events: mpsc::UnboundedSender<Event>,
    pub hangup: CancellationToken,
}

/// A registration to keep up (a `registration` trunk): REGISTER to the registrar,
/// answer its digest challenge, refresh before the binding expires, and unregister
/// when dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// The registrar, `host:port` (the Request-URI and, without a proxy, where the
    /// REGISTER goes).
    pub registrar: String,
    /// `ip:port` the REGISTER is sent through instead.
    pub proxy: Option<SocketAddr>,
    /// The user registered (the address of record's user part) and its password.
    pub username: String,
    pub password: String,
    /// The binding's lifetime asked for, in seconds.
    pub expires: u32,
}

/// Where a registration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// No answer yet.
    Pending,
    /// Bound for `expires` seconds (refreshed at three quarters of it).
    Bound { expires: u32 },
    /// The registrar refused (e.g. 403 for a wrong password); retried with backoff.
    Refused { code: u16 },
    /// No answer or the registrar is unreachable; retried with backoff.
    Unreachable { error: String },
}

/// A registration kept up until dropped.
pub struct Registration {
    pub status: tokio::sync::watch::Receiver<Registered>,
    stop: CancellationToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The user agent.
pub struct Agent {
    dialogs: Arc<DialogLayer>,
    endpoint: Endpoint,
    local: SocketAddr,
    advertise: IpAddr,
    config: SipConfig,
    cancel: CancellationToken,
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Agent {
    /// Binds the SIP socket and starts serving; inbound INVITEs go to `inbound` (none:
    /// every INVITE is refused with 403).
    pub async fn start(config: SipConfig, inbound: Option<mpsc::Sender<Incoming>>) -> Result<Arc<Agent>, String> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let conn = UdpConnection::create_connection(config.listen, None, Some(cancel.child_token()))
            .await
            .map_err(|e| format!("binding SIP on {}: {e}", config.listen))?;
        let local = conn.get_addr().get_socketaddr().map_err(|e| format!("the SIP socket's address: {e}"))?;
        transport.add_transport(conn.into());
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_user_agent(concat!("callplane/", env!("CARGO_PKG_VERSION")))
            .with_option(rsipstack::transaction::endpoint::EndpointOption {
                callid_suffix: Some("callplane".into()),
                ..Default::default()
            })
            .build();
        let advertise = config.advertise.unwrap_or(match local.ip() {
            ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        });
        let local = SocketAddr::new(advertise, local.port());
        let incoming = endpoint.incoming_transactions().map_err(|e| e.to_string())?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let agent = Arc::new(Agent { dialogs, endpoint, local, advertise, config, cancel });
        let serving = agent.endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = serving.serve().await {
                tracing::warn!(error = %e, "the SIP endpoint stopped");
            }
        });
        tokio::spawn(dispatch(Arc::downgrade(&agent), incoming, inbound));
        Ok(agent)
    }

    /// The address SIP peers reach this agent at.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Registers with a trunk's registrar and keeps the binding fresh until the
    /// returned [`Registration`] is dropped (then unregisters).
    pub fn register(self: &Arc<Self>, r: Register) -> Result<Registration, String> {
        use rsipstack::dialog::registration::{RefreshOutcome, Registration as Client};
        let server = Uri::try_from(format!("sip:{}", r.registrar).as_str())
            .map_err(|e| format!("the registrar {} is not host:port ({e})", r.registrar))?;
        let contact = Uri::try_from(format!("sip:{}@{}", r.username, self.local).as_str())
            .map_err(|e| format!("the contact: {e}"))?;
        let credential =
            Credential { username: r.username.clone(), password: r.password.clone(), realm: None, auth_username: None };
        let mut client = Client::new(self.endpoint.inner.clone(), Some(credential));
        client.contact = Some(rsipstack::sip::typed::Contact { display_name: None, uri: contact, params: vec![] });
        client.outbound_proxy = r.proxy;
        let (status_tx, status) = tokio::sync::watch::channel(Registered::Pending);
        let stop = self.cancel.child_token();
        let token = stop.clone();
        tokio::spawn(async move {
            client
                .keep_alive(server.clone(), r.expires, token.clone(), |outcome| {
                    let now = match outcome {
                        RefreshOutcome::Registered(resp) => Registered::Bound { expires: granted(resp, r.expires) },
                        RefreshOutcome::Rejected(resp) => Registered::Refused { code: resp.status_code.code() },
                        RefreshOutcome::Failed(e) => Registered::Unreachable { error: e.to_string() },
                    };
                    status_tx.send_replace(now);
                })
                .await;
            // Stopped: remove the binding (best effort; it expires anyway).
            let _ = tokio::time::timeout(Duration::from_secs(2), client.register(server, Some(0))).await;
        });
        Ok(Registration { status, stop })
    }

    /// Places a call; it runs on its own, reporting on [`Call::events`].
    pub fn dial(self: &Arc<Self>, d: Dial) -> Call {
        let (tx, rx) = mpsc::unbounded_channel();
        let hangup = CancellationToken::new();
        let call_id = format!("{}@callplane", uuid_like());
        let (agent, token, id) = (self.clone(), hangup.clone(), call_id.clone());
        tokio::spawn(async move {
            metrics::call_started();
            let end = agent.outbound(d, &id, &tx, token).await;
            metrics::call_ended(end.outcome.as_str());
            let _ = tx.send(Event::Ended(end));
        });
        Call { sip_call_id: call_id, events: rx, hangup }
    }

    async fn outbound(
        &self,
        d: Dial,
        call_id: &str,
        events: &mpsc::UnboundedSender<Event>,
        hangup: CancellationToken,
    ) -> Ended {
        let fail = |code: Option<u16>, why: String| ended(Outcome::Failed, code, call_id, Some(why));
        let mut media = match MediaSocket::bind(self.config.listen.ip(), self.config.rtp_ports).await {
            Ok(m) => Some(m),
            Err(e) => return fail(None, format!("no RTP port: {e}")),
        };
        let port = media.as_ref().map_or(0, |m| m.local.port());
        let offer = Session {
            addr: SocketAddr::new(self.advertise, port),
            codecs: d.codecs.clone(),
            telephone_event: Some(TELEPHONE_EVENT_PT),
        };
        let offer = sdp::write(&offer, rand::random::<u32>().into()).into_bytes();
        // One ring timeout for the whole call, whichever gateway rings.
        let ring = tokio::time::sleep(d.ring_timeout);
        tokio::pin!(ring);
        let mut last = fail(None, "no gateway to send the INVITE to".into());
        let mut rang = false;
        for (n, gateway) in d.gateways.iter().enumerate() {
            // A retry is a new call to another gateway: its own Call-ID.
            let id = match n {
                0 => call_id.to_owned(),
                _ => format!("{n}-{call_id}"),
            };
            let answered = match self.attempt(&d, gateway, &id, &offer, events, &hangup, ring.as_mut(), &mut rang).await
            {
                Attempt::Final(end) => return end,
                Attempt::Next(end) => {
                    tracing::debug!(gateway, error = ?end.error, code = ?end.sip_code, "failing over to the next gateway");
                    last = end;
                    continue;
                }
                Attempt::Answered(a) => a,
            };
            let Answered { dialog, id: dialog_id, answer, states, code } = *answered;
            let Some(media) = media.take() else { break };
            let plan = plan(&answer, &d.prompt, d.talk_limit);
            let talking = Talking { dialog, dialog_id, states, limit: d.talk_limit, hangup: &hangup, events };
            return self.converse(talking, media, plan, code, &id).await;
        }
        last
    }

    /// One INVITE to one gateway, until its final answer. A gateway that fails on its
    /// own account (5xx, no response at all within the failover time, unreachable)
    /// lets the call go on to the next; a final answer about the call (busy, 4xx, 6xx)
    /// ends it.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        d: &Dial,
        gateway: &str,
        call_id: &str,
        offer: &[u8],
        events: &mpsc::UnboundedSender<Event>,
        hangup: &CancellationToken,
        mut ring: std::pin::Pin<&mut tokio::time::Sleep>,
        rang: &mut bool,
    ) -> Attempt {
        let next = |code: Option<u16>, why: String| Attempt::Next(ended(Outcome::Failed, code, call_id, Some(why)));
        let fail = |code: Option<u16>, why: String| Attempt::Final(ended(Outcome::Failed, code, call_id, Some(why)));
        let host = gateway.rsplit_once(':').map_or(gateway, |(h, _)| h);
        let from_domain = d.from_domain.clone().unwrap_or_else(|| host.to_owned());
        let uri = |s: String| Uri::try_from(s.as_str()).map_err(|e| format!("{s}: {e}"));
        let (callee, caller, contact) = match (
            uri(format!("sip:{}@{}", d.to_user, gateway)),
            uri(format!("sip:{}@{}", d.from_user, from_domain)),
            uri(format!("sip:{}@{}", d.from_user, self.local)),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(None, format!("not a SIP address: {e}")),
        };
        // Sent to the outbound proxy when there is one; the Request-URI still names
        // the gateway, which the proxy routes by.
        let next_hop = d.proxy.as_deref().unwrap_or(gateway);
        let destination = match HostWithPort::try_from(next_hop) {
            Ok(g) => g,
            Err(e) => return next(None, format!("{next_hop} is not host:port ({e})")),
        };
        let opt = InviteOption {
            callee,
            caller,
            contact,
            destination: Some(SipAddr { r#type: Some(Transport::Udp), addr: destination }),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.to_vec()),
            credential: d.credential.clone().map(|(username, password)| Credential {
                username,
                password,
                realm: None,
                auth_username: None,
            }),
            call_id: Some(call_id.to_owned()),
            ..Default::default()
        };
        let (state_tx, mut states) = self.dialogs.new_dialog_state_channel();
        let (dialog, mut invite) = match self.dialogs.do_invite_async(opt, state_tx) {
            Ok(x) => x,
            Err(e) => return next(None, format!("sending the INVITE to {gateway}: {e}")),
        };
        // Until a final response: ringing, or give up (ring timeout, hang-up), or
        // move on when the gateway says nothing at all in time.
        let silent = tokio::time::sleep(d.failover_after);
        tokio::pin!(silent);
        let mut heard = false;
        let mut given_up: Option<Outcome> = None;
        let result = loop {
            tokio::select! {
                r = &mut invite => break r,
                Some(s) = states.recv() => match s {
                    DialogState::Trying(_) => heard = true,
                    DialogState::Early(..) => {
                        heard = true;
                        if !std::mem::replace(rang, true) {
                            let _ = events.send(Event::Ringing);
                        }
                    }
                    _ => {}
                },
                _ = &mut silent, if !heard && given_up.is_none() => {
                    invite.abort();
                    self.dialogs.remove_dialog(&dialog.id());
                    return next(None, format!("{gateway} did not answer the INVITE"));
                }
                _ = ring.as_mut(), if given_up.is_none() => {
                    given_up = Some(Outcome::NoAnswer);
                    let _ = dialog.cancel().await;
                }
                _ = hangup.cancelled(), if given_up.is_none() => {
                    given_up = Some(Outcome::Canceled);
                    let _ = dialog.cancel().await;
                }
            }
        };
        let (id, response) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) if given_up.is_none() => return next(None, format!("the INVITE to {gateway} failed: {e}")),
            Ok(Err(e)) => return fail(None, format!("the INVITE failed: {e}")),
            Err(e) => return fail(None, format!("the INVITE task stopped: {e}")),
        };
        let Some(response) = response else {
            return match given_up {
                Some(outcome) => Attempt::Final(ended(outcome, Some(408), call_id, None)),
                None => next(Some(408), format!("{gateway} did not answer the INVITE")),
            };
        };
        let code = response.status_code.code();
        if let Some(outcome) = given_up {
            // Cancelled: 487 as expected, or a 2xx that crossed the CANCEL (the stack BYEs it).
            return Attempt::Final(ended(outcome, Some(code), call_id, None));
        }
        if code != 200 {
            let end = ended(Outcome::of_code(code), Some(code), call_id, None);
            let end = Ended {
                error: (end.outcome == Outcome::Failed).then(|| format!("the gateway answered {code}")),
                ..end
            };
            return match (500..600).contains(&code) {
                true => Attempt::Next(end),
                false => Attempt::Final(end),
            };
        }
        match sdp::parse(&response.body) {
            Ok(answer) => Attempt::Answered(Box::new(Answered { dialog, id, answer, states, code })),
            Err(e) => {
                let _ = dialog.bye().await;
                self.dialogs.remove_dialog(&id);
                fail(Some(code), format!("the answer is unusable: {e}"))
            }
        }
    }

    async fn inbound(&self, mut tx: Transaction, inbound: Option<mpsc::Sender<Incoming>>) {
        let call_id = tx.original.call_id_header().map(|h| h.value().to_owned()).unwrap_or_default();
        let offer = match sdp::parse(&tx.original.body) {
            Ok(o) => o,
            Err(e) => {
                let _ = tx
                    .reply_with(
                        StatusCode::NotAcceptableHere,
                        vec![Header::Warning(format!("399 callplane \"{e}\"").into())],
                        None,
                    )
                    .await;
                return;
            }
        };
        let Some(router) = inbound else {
            let _ = tx.reply(StatusCode::Forbidden).await;
            return;
        };
        let (decide, decision) = oneshot::channel();
        let incoming = Incoming {
            source: source_of(&tx),
            to_user: tx.original.uri.auth.as_ref().map(|a| a.user.clone()).unwrap_or_default(),
            from_user: tx
                .original
                .from_header()
                .ok()
                .and_then(|f| f.uri().ok()?.auth.map(|a| a.user))
                .unwrap_or_default(),
            sip_call_id: call_id.clone(),
            decide,
        };
        if router.send(incoming).await.is_err() {
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
        let answering = match tokio::time::timeout(self.config.decide_timeout, decision).await {
            Ok(Ok(Decision::Answer(a))) => a,
            Ok(Ok(Decision::Refuse { code, reason })) => {
                let headers = vec![Header::Reason(format!("SIP;cause={code};text=\"{reason}\"").into())];
                let _ = tx.reply_with(StatusCode::from(code), headers, None).await;
                return;
            }
            _ => {
                let _ = tx.reply(StatusCode::ServiceUnavailable).await;
                return;
            }
        };
        metrics::call_started();
        let events = answering.events.clone();
        let end = self.answer(tx, offer, answering, &call_id).await;
        metrics::call_ended(end.outcome.as_str());
        let _ = events.send(Event::Ended(end));
    }

    async fn answer(&self, mut tx: Transaction, offer: Session, a: Answering, call_id: &str) -> Ended {
        let media = match MediaSocket::bind(self.config.listen.ip(), self.config.rtp_ports).await {
            Ok(m) => m,
            Err(e) => {
                let _ = tx.reply(StatusCode::ServiceUnavailable).await;
                return ended(Outcome::Failed, Some(503), call_id, Some(format!("no RTP port: {e}")));
            }
        };
        let local = SocketAddr::new(self.advertise, media.local.port());
        let answer = match sdp::answer(&offer, local, &a.codecs) {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                return ended(Outcome::Failed, Some(488), call_id, Some(e.to_string()));
            }
        };
        let contact = Uri::try_from(format!("sip:callplane@{}", self.local).as_str()).ok();
        let (state_tx, mut states) = self.dialogs.new_dialog_state_channel();
        let dialog = match self.dialogs.get_or_create_server_invite(&tx, state_tx, None, contact) {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return ended(Outcome::Failed, Some(500), call_id, Some(format!("the dialog: {e}")));
            }
        };
        let id = dialog.id();
        let mut handler = dialog.clone();
        tokio::spawn(async move {
            let _ = handler.handle(&mut tx).await;
        });
        let _ = dialog.ringing(None, None);
        let _ = a.events.send(Event::Ringing);
        // Ringing until the agent picks up, unless the caller gives up first.
        let picked_up = tokio::select! {
            _ = tokio::time::sleep(a.ring) => true,
            _ = until_terminated(&mut states) => false,
            _ = a.hangup.cancelled() => false,
        };
        if !picked_up {
            let _ = dialog.reject(Some(StatusCode::RequestTerminated), None);
            self.dialogs.remove_dialog(&id);
            return ended(Outcome::Canceled, Some(487), call_id, None);
        }
        let body = sdp::write(&answer, rand::random::<u32>().into()).into_bytes();
        if let Err(e) = dialog.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(body)) {
            self.dialogs.remove_dialog(&id);
            return ended(Outcome::Failed, None, call_id, Some(format!("answering: {e}")));
        }
        // The codec is the answer's; the far end's address and events are the offer's.
        let plan = Plan { codec: answer.codecs[0], ..plan(&offer, &a.prompt, a.talk_limit) };
        let talking =
            Talking { dialog, dialog_id: id, states, limit: a.talk_limit, hangup: &a.hangup, events: &a.events };
        self.converse(talking, media, plan, 200, call_id).await
    }

    /// An answered call, either way: reports the answer, runs the media until a side
    /// hangs up (see [`talk`]), sends BYE when it is this side, and forgets the dialog.
    async fn converse(&self, t: Talking<'_>, media: MediaSocket, plan: Plan, code: u16, call_id: &str) -> Ended {
        let Talking { dialog, dialog_id, mut states, limit, hangup, events } = t;
        let codec = plan.codec;
        let _ = events.send(Event::Answered { codec });
        let (report, by) = talk(media, plan, &mut states, limit, hangup, events).await;
        if by == Side::Local {
            let _ = dialog.bye().await;
        }
        self.dialogs.remove_dialog(&dialog_id);
        Ended {
            outcome: Outcome::Completed,
            sip_code: Some(code),
            sip_call_id: call_id.to_owned(),
            codec: Some(codec),
            hung_up_by: Some(by),
            error: None,
            media: Some(report),
        }
    }
}

/// The media of a call with `remote` (its address, first codec and telephone-event):
/// the prompt goes out, and the stream stops a little after the call's limit at most.
fn plan(remote: &Session, prompt: &Arc<[i16]>, limit: Duration) -> Plan {
    Plan {
        remote: remote.addr,
        codec: remote.codecs[0],
        telephone_event: remote.telephone_event,
        prompt: prompt.clone(),
        max_secs: limit.as_secs() as u32 + 5,
    }
}

/// Media runs until the far end hangs up (BYE), the limit passes or the call is hung up
/// here; digits are reported as they arrive.
async fn talk(
    media: MediaSocket,
    plan: Plan,
    states: &mut DialogStateReceiver,
    limit: Duration,
    hangup: &CancellationToken,
    events: &mpsc::UnboundedSender<Event>,
) -> (Report, Side) {
    let stop = CancellationToken::new();
    let (digit_tx, mut digits) = mpsc::unbounded_channel();
    let running = tokio::spawn(stream::run(media, plan, stop.clone(), Some(digit_tx)));
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let by = loop {
        tokio::select! {
            _ = &mut deadline => break Side::Local,
            _ = hangup.cancelled() => break Side::Local,
            Some(d) = digits.recv() => { let _ = events.send(Event::Digit(d)); }
            _ = until_terminated(states) => break Side::Remote,
        }
    };
    stop.cancel();
    let report = running.await.unwrap_or_default();
    while let Ok(d) = digits.try_recv() {
        let _ = events.send(Event::Digit(d));
    }
    (report, by)
}

/// Resolves when the dialog terminates (BYE or CANCEL from the far end), never if the
/// state channel closes (a dropped dialog ends the call some other way).
async fn until_terminated(states: &mut DialogStateReceiver) -> TerminatedReason {
    loop {
        match states.recv().await {
            Some(DialogState::Terminated(_, reason)) => return reason,
            Some(_) => {}
            None => std::future::pending::<()>().await,
        }
    }
}

/// Serves incoming transactions: in-dialog requests go to their dialog, INVITEs to the
/// server's decision, OPTIONS are answered, anything else out of dialog is refused.
async fn dispatch(
    agent: std::sync::Weak<Agent>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
    inbound: Option<mpsc::Sender<Incoming>>,
) {
    while let Some(mut tx) = incoming.recv().await {
        let Some(agent) = agent.upgrade() else { return };
        if let Some(Dialog::Invite(mut dialog)) = agent.dialogs.match_dialog(&tx) {
            tokio::spawn(async move {
                let _ = dialog.handle(&mut tx).await;
            });
            continue;
        }
        match tx.original.method {
            Method::Invite => {
                let inbound = inbound.clone();
                tokio::spawn(async move { agent.inbound(tx, inbound).await });
            }
            Method::Options => {
                tokio::spawn(async move { tx.reply(StatusCode::OK).await });
            }
            Method::Ack => {}
            Method::Bye | Method::Cancel => {
                tokio::spawn(async move { tx.reply(StatusCode::CallTransactionDoesNotExist).await });
            }
            _ => {
                tokio::spawn(async move { tx.reply(StatusCode::MethodNotAllowed).await });
            }
        }
    }
}

/// Where a request came from: the top Via's `received`/`rport` (which the transport
/// sets when they differ from what the Via claims), else its sent-by.
fn source_of(tx: &Transaction) -> SocketAddr {
    let via = tx.original.via_header().map(|v| v.value().to_owned()).unwrap_or_default();
    parse_via_source(&via).unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn parse_via_source(via: &str) -> Option<SocketAddr> {
    let mut parts = via.split(';');
    let sent_by = parts.next()?.split_whitespace().nth(1)?;
    let (mut host, mut port) = match sent_by.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || sent_by.starts_with('[') => {
            (h.trim_matches(['[', ']']).to_owned(), p.parse().ok()?)
        }
        _ => (sent_by.trim_matches(['[', ']']).to_owned(), 5060),
    };
    for p in parts {
        match p.trim().split_once('=') {
            Some(("received", v)) => host = v.trim_matches(['[', ']']).to_owned(),
            Some(("rport", v)) => port = v.parse().unwrap_or(port),
            _ => {}
        }
    }
    Some(SocketAddr::new(host.parse().ok()?, port))
}

/// The binding's lifetime a registrar granted: its Expires header, else the
/// Contact's `expires` parameter, else what was asked.
fn granted(resp: &rsipstack::sip::Response, asked: u32) -> u32 {
    let mut expires = None;
    for h in resp.headers.iter() {
        match h {
            Header::Expires(e) => expires = expires.or_else(|| e.value().trim().parse().ok()),
            Header::Contact(c) => {
                let v = c.value().to_ascii_lowercase();
                let param = v.split(';').find_map(|p| p.trim().strip_prefix("expires=").map(str::to_owned));
                if let Some(p) = param {
                    expires = p.trim().parse().ok().or(expires);
                }
            }
            _ => {}
        }
    }
    expires.unwrap_or(asked)
}

fn ended(outcome: Outcome, sip_code: Option<u16>, call_id: &str, error: Option<String>) -> Ended {
    Ended { outcome, sip_code, sip_call_id: call_id.to_owned(), codec: None, hung_up_by: None, error, media: None }
}

/// A random Call-ID part (32 hex digits).
fn uuid_like() -> String {
    format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n2_sip_failures_map_to_call_outcomes() {
        assert_eq!(Outcome::of_code(486), Outcome::Busy);
        assert_eq!(Outcome::of_code(600), Outcome::Busy);
        assert_eq!(Outcome::of_code(408), Outcome::NoAnswer);
        assert_eq!(Outcome::of_code(480), Outcome::NoAnswer);
        for code in [403, 404, 488, 500, 503, 603] {
            assert_eq!(Outcome::of_code(code), Outcome::Failed, "{code}");
        }
    }

    #[test]
    fn the_source_of_a_request_is_its_vias_received_and_rport() {
        let at = |v: &str| parse_via_source(v);
        assert_eq!(at("SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1"), Some("127.0.0.1:5061".parse().unwrap()));
        assert_eq!(
            at("SIP/2.0/UDP 10.0.0.5:5060;branch=z9;received=203.0.113.9;rport=40000"),
            Some("203.0.113.9:40000".parse().unwrap())
        );
        assert_eq!(
            at("SIP/2.0/UDP gw.example;branch=z9;received=198.51.100.1"),
            Some("198.51.100.1:5060".parse().unwrap())
        );
        assert_eq!(at("garbage"), None);
        assert_eq!(at(""), None);
    }
}
