//! Where notification requests may go. Contact URLs are user-supplied, so a URL could aim
//! Tocsin at its host's cloud metadata service or an internal admin port (server-side request
//! forgery). The guard sits in DNS resolution, so it judges the addresses actually connected
//! to (a name that resolves to a forbidden address is refused even if it changes between
//! checks), and [`check_url`] judges IP literals, which never reach the resolver.
//!
//! Always refused: unspecified, link-local (169.254.0.0/16 holds cloud metadata), multicast,
//! broadcast. Refused when `block_private`: loopback and private ranges (RFC 1918, CGNAT,
//! IPv6 unique-local). Redirects are not followed at all (see `notify::client`).

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// May Tocsin connect to `ip`?
pub fn allowed(ip: IpAddr, block_private: bool) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            let never =
                v4.is_unspecified() || v4.is_link_local() || v4.is_multicast() || v4.is_broadcast();
            let private = v4.is_loopback() || v4.is_private() || (o[0] == 100 && o[1] & 0xc0 == 64);
            !(never || (block_private && private))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let never = v6.is_unspecified() || v6.is_multicast() || (s[0] & 0xffc0) == 0xfe80;
            let private = v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00;
            !(never || (block_private && private))
        }
    }
}

/// Refuses a URL whose host is a forbidden IP literal; names are judged at resolution.
pub fn check_url(url: &str, block_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = host.parse::<IpAddr>() else {
        return Ok(());
    };
    if allowed(ip, block_private) {
        Ok(())
    } else {
        Err(format!(
            "refused: {ip} is not an address notifications may go to"
        ))
    }
}

/// The resolver that filters out forbidden addresses.
pub struct GuardedResolver {
    pub block_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let block_private = self.block_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allowed(a.ip(), block_private))
                .collect();
            if ok.is_empty() && !found.is_empty() {
                return Err(format!("refused: {host} resolves only to forbidden addresses").into());
            }
            Ok(Box::new(ok.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_are_always_refused() {
        for a in [
            "169.254.169.254",
            "0.0.0.0",
            "fe80::1",
            "::",
            "::ffff:169.254.169.254",
        ] {
            assert!(!allowed(ip(a), false), "{a}");
        }
    }

    #[test]
    fn private_and_loopback_only_when_blocking() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
        ] {
            assert!(allowed(ip(a), false), "{a}");
            assert!(!allowed(ip(a), true), "{a}");
        }
        assert!(allowed(ip("93.184.216.34"), true));
        assert!(allowed(ip("2606:4700::1"), true));
    }

    #[test]
    fn literal_urls_are_checked_names_are_left_to_resolution() {
        assert!(check_url("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_url("http://[fe80::1]/x", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_err());
        assert!(check_url("http://127.0.0.1:9/x", false).is_ok());
        assert!(check_url("https://hooks.example.com/x", true).is_ok());
    }
}
