//! The accept loop. It bounds what connections can hold: at most `max_connections` are open at
//! once (further clients wait in the kernel's backlog until one closes), a client must send a
//! request's headers within `header_read_timeout` (idle keep-alive connections included), and
//! the read buffer of a connection is capped. Each request carries the client's address as
//! axum's `ConnectInfo<SocketAddr>`: the peer's, or behind a trusted reverse proxy the one it
//! forwarded (`X-Forwarded-For`). Shutdown stops accepting and lets open connections finish
//! their requests.

use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderMap, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::util::MapRequest;

/// The read buffer limit of a connection, which bounds request headers (a larger head is
/// answered 431) and the chunk a body is read in. hyper checks it between reads, so a buffer
/// can reach about twice this before a head is refused.
pub const MAX_READ_BUFFER_BYTES: usize = 64 * 1024;

/// Counts the open connections against their limit; `/metrics` reports it.
#[derive(Debug)]
pub struct Connections {
    slots: Arc<Semaphore>,
    limit: usize,
}

impl Connections {
    pub fn new(limit: usize) -> Arc<Self> {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
        })
    }

    pub fn open(&self) -> usize {
        self.limit - self.slots.available_permits()
    }
}

/// How connections are accepted and served.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub connections: Arc<Connections>,
    pub header_read_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    pub trusted_proxies: Arc<[IpNet]>,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the open
/// connections to finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ListenOptions,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(MAX_READ_BUFFER_BYTES);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = options.connections.slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // wait a moment rather than spin, as hyper's own servers do.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let trusted = options.trusted_proxies.clone();
        let with_address = MapRequest::new(app.clone(), move |mut request: Request<Incoming>| {
            let client = client_ip(address.ip(), request.headers(), &trusted);
            let client = SocketAddr::new(client, address.port());
            request.extensions_mut().insert(ConnectInfo(client));
            request
        });
        let service = TowerToHyperService::new(with_address);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %address, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The client's address: `peer`, unless `peer` is a trusted proxy; then the nearest address
/// in `X-Forwarded-For` (read from the right, as each proxy appends the one it saw) that is
/// not itself a trusted proxy. An entry that is not an address ends the walk at the proxy that
/// added it, so a client cannot pass a made-up address through a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// Parses one `--trusted-proxies` entry: an address (`10.0.0.7`, `::1`) or a network
/// (`10.0.0.0/8`).
pub fn parse_trusted_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{entry:?} is not an IP address or network (such as 10.0.0.0/8)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("header value"));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    /// The client of a request from `peer` carrying the `X-Forwarded-For` lines `forwarded`,
    /// with `trusted` proxies.
    fn client(peer: &str, forwarded: &[&str], trusted: &[&str]) -> IpAddr {
        let trusted: Vec<IpNet> = trusted
            .iter()
            .map(|entry| parse_trusted_proxy(entry).expect("entry"))
            .collect();
        client_ip(ip(peer), &headers(forwarded), &trusted)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let lan = &["10.0.0.0/8"];
        assert_eq!(client("203.0.113.9", &["1.2.3.4"], lan), ip("203.0.113.9"));
        assert_eq!(client("10.0.0.2", &["1.2.3.4"], &[]), ip("10.0.0.2"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = &["10.0.0.0/8", "192.168.1.1"];
        // The client forged the first entry; the two proxies appended what they saw.
        let chain = ["6.6.6.6, 198.51.100.7", "192.168.1.1"];
        assert_eq!(client("10.1.2.3", &chain, proxies), ip("198.51.100.7"));
        let one_line = ["6.6.6.6, 198.51.100.7, 192.168.1.1"];
        assert_eq!(client("10.1.2.3", &one_line, proxies), ip("198.51.100.7"));
        // No header: the proxy itself.
        assert_eq!(client("10.1.2.3", &[], proxies), ip("10.1.2.3"));
        // Every hop trusted: the farthest one.
        assert_eq!(client("10.1.2.3", &["10.9.9.9"], proxies), ip("10.9.9.9"));
    }

    #[test]
    fn a_malformed_entry_stops_at_the_proxy_that_added_it() {
        let garbled = ["6.6.6.6, not-an-address, 10.0.0.5"];
        assert_eq!(
            client("10.1.2.3", &garbled, &["10.0.0.0/8"]),
            ip("10.0.0.5")
        );
        let v6 = ["2001:db8::1"];
        assert_eq!(client("::1", &v6, &["::1"]), ip("2001:db8::1"));
    }

    #[test]
    fn trusted_proxy_entries_are_addresses_or_networks() {
        assert_eq!(
            parse_trusted_proxy(" 10.0.0.7 ").expect("address"),
            "10.0.0.7/32".parse::<IpNet>().expect("net")
        );
        assert!(parse_trusted_proxy("fd00::/8").is_ok());
        let error = parse_trusted_proxy("proxy.local").expect_err("a name");
        assert!(error.contains("proxy.local"), "{error}");
    }
}
