//! The SSRF guard (SPEC E3): webhook URLs must not reach the service's own network.
//! Literal addresses are refused when an endpoint is saved; host names are resolved at
//! delivery time by [`GuardedResolver`], which hands the HTTP client only public
//! addresses (so a name cannot pass a check and then resolve elsewhere). The operator
//! allows private targets with `webhooks.allow_private_targets`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Why an address may not be a webhook target (`None`: it may).
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return forbidden_v4(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("a private (unique local) address")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("a multicast address")
            } else if s[0] & 0xffc0 == 0xfec0 {
                Some("a site-local address")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the cloud metadata address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("a carrier-grade NAT address")
    } else if o[0] == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("an IETF protocol address")
    } else if o[0] == 198 && (18..20).contains(&o[1]) {
        Some("a benchmarking address")
    } else {
        None
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, a, b, ..] => Some(Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8)),
        _ => None,
    }
}

/// The address a URL names literally, if it does (`http://[::1]/`, `http://127.1/`:
/// the URL parser normalizes the forms an address can be written in).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Why a URL's literal address is refused (`None`: it is a name, or a public address).
pub fn refuse_literal(url: &Url) -> Option<String> {
    let ip = literal_ip(url)?;
    forbidden(ip).map(|why| format!("{ip} is {why}; webhooks may only reach public addresses"))
}

/// The resolver of the webhook client: only public addresses come out (unless private
/// targets are allowed); a name with none fails with [`Refused`].
pub struct GuardedResolver {
    pub allow_private: bool,
}

/// A name resolved only to addresses the guard refuses.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                all.iter().copied().filter(|a| allow_private || forbidden(a.ip()).is_none()).collect();
            if allowed.is_empty() {
                let why = all.first().map_or("nothing".to_owned(), |a| {
                    format!("{} ({})", a.ip(), forbidden(a.ip()).unwrap_or("refused"))
                });
                let msg = format!("refused: {host} resolves to {why}; webhooks may only reach public addresses");
                return Err(Box::new(Refused(msg)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        refuse_literal(&Url::parse(url).unwrap()).is_some()
    }

    #[test]
    fn e3_private_loopback_link_local_cgnat_and_metadata_literals_are_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://100.100.100.200/",
            "http://0.0.0.0/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
        ] {
            assert!(refused(url), "{url} must be refused");
        }
        for url in [
            "https://93.184.215.14/",
            "http://[2606:4700::1111]/",
            "https://hooks.example.com/x",
            "http://100.128.0.1/",
        ] {
            assert!(!refused(url), "{url} is public");
        }
    }

    #[tokio::test]
    async fn e3_a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let strict = GuardedResolver { allow_private: false };
        let err = match strict.resolve("localhost".parse().unwrap()).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("localhost must be refused"),
        };
        assert!(err.contains("localhost resolves to") && err.contains("loopback"), "{err}");
        let open = GuardedResolver { allow_private: true };
        assert!(open.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
