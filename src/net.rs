//! The one loopback rule, for every layer that asks "does this stay on this machine?":
//! plain http may carry a token only to a loopback host, a redirect URL may be http
//! only on loopback, the demo robot follows loopback URLs only.
//!
//! Loopback is an IP address in 127.0.0.0/8 or `::1`, or the name `localhost` (any
//! case, with or without a trailing dot). Names under `.localhost` (`a.localhost`) are
//! not: RFC 6761 asks resolvers to answer them with loopback addresses, but a resolver
//! that forwards them to DNS can answer anything, and a token must not depend on that.

use url::{Host, Url};

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d
            .strip_suffix('.')
            .unwrap_or(d)
            .eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_an_address_or_localhost() {
        for u in [
            "http://127.0.0.1:1/",
            "http://127.0.0.2/",
            "http://[::1]/",
            "http://localhost/",
            "http://LOCALHOST./",
        ] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://a.localhost/",
            "http://example.com/",
            "http://10.0.0.1/",
            "http://localhost.example/",
            "http://[::2]/",
            "file:///tmp/x",
        ] {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }
}
