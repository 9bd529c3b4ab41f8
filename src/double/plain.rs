//! The double served by hyper directly, for `scimcheck serve` and the CLI's
//! built-in target: wiremock keeps every request its mock matched for the
//! life of the server (whatever request recording says), which a long
//! `serve` or a load of thousands of users turns into hundreds of
//! megabytes. The [`Service`] is the same; only the transport differs, and
//! the tests that inject defects keep wiremock's [`super::Double`].

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;

use super::service::{Request, Response, Service};
use super::variant::Variants;

/// A running double. Dropping it stops the server.
pub struct PlainDouble {
    base_url: String,
    service: Arc<Mutex<Service>>,
    token: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PlainDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PlainDouble {
    /// Serves on `listener`, or on a free loopback port.
    pub async fn start(
        listener: Option<TcpListener>,
        token: Option<String>,
        variants: Variants,
    ) -> std::io::Result<PlainDouble> {
        Self::start_limited(listener, token, variants, Limits::default()).await
    }

    /// [`PlainDouble::start`] within `limits`.
    pub async fn start_limited(
        listener: Option<TcpListener>,
        token: Option<String>,
        variants: Variants,
        limits: Limits,
    ) -> std::io::Result<PlainDouble> {
        let listener = match listener {
            Some(l) => l,
            None => TcpListener::bind("127.0.0.1:0")?,
        };
        let base_url = format!("http://{}", listener.local_addr()?);
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let service = Arc::new(Mutex::new(
            Service::new(&base_url, token.clone())
                .with_variants(variants)
                .with_max_resources(limits.max_resources),
        ));
        let shared = Arc::clone(&service);
        let task = tokio::spawn(async move {
            let limits = limits;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = Arc::clone(&shared);
                tokio::spawn(async move {
                    let handler = hyper::service::service_fn(move |request| {
                        let service = Arc::clone(&service);
                        async move { Ok::<_, hyper::Error>(answer(&service, request).await) }
                    });
                    // A connection that sends no request for a while is
                    // closed: idle ones must not pile up.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(limits.idle)
                        .serve_connection(TokioIo::new(stream), handler)
                        .await;
                });
            }
        });
        Ok(PlainDouble {
            base_url,
            service,
            token,
            task,
        })
    }

    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn token(&self) -> Option<String> {
        self.token.clone()
    }

    pub fn service(&self) -> Arc<Mutex<Service>> {
        Arc::clone(&self.service)
    }
}

/// What a long-running double bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most users and groups held at once (a create beyond: 507).
    pub max_resources: usize,
    /// How long a connection may wait for a request's headers.
    pub idle: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_resources: super::service::MAX_RESOURCES,
            idle: std::time::Duration::from_secs(30),
        }
    }
}
/// The largest request body read.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Whether `host` (a Host header) names this loopback server: a web page
/// the user opens can reach a loopback port under its own name (DNS
/// rebinding), and is refused by its Host.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn refusal(status: u16, detail: &str) -> hyper::Response<Full<Bytes>> {
    reply(&Response {
        status,
        headers: Vec::new(),
        body: Some(serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(),
            "detail": detail,
        })),
    })
}

async fn answer(
    service: &Mutex<Service>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(parts.uri.host());
    if !host.is_some_and(loopback_host) {
        return refusal(421, "this SCIM double answers loopback host names only");
    }
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refusal(413, "the request body is larger than the double reads");
        }
        Err(_) => {
            return reply(&Response {
                status: 400,
                headers: Vec::new(),
                body: None,
            });
        }
    };
    let query = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let headers = super::service::header_map(&parts.headers);
    let scim = Request {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query,
        headers,
        body,
    };
    // A poisoned lock means an earlier request panicked; the state is still
    // the last consistent one, since every write happens at the end.
    let response = service
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .handle(&scim);
    reply(&response)
}

fn reply(response: &Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        if name != "content-type" {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    let body = match &response.body {
        Some(body) => {
            builder = builder.header("content-type", "application/scim+json");
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_connection_is_closed_and_the_store_is_bounded() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let limits = Limits {
            max_resources: 1,
            idle: std::time::Duration::from_millis(200),
        };
        let double = PlainDouble::start_limited(None, None, Variants::default(), limits)
            .await
            .unwrap();
        let address = double.base_url().trim_start_matches("http://").to_string();
        // Silent: closed by the server, not held for ever.
        let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            idle.read_to_end(&mut rest),
        )
        .await;
        assert!(closed.is_ok(), "an idle connection was kept open");
        // One resource fits; the second is refused with 507.
        let create = |n: usize| {
            format!(
                "{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"u{n}\"}}"
            )
        };
        let mut statuses = Vec::new();
        for n in 0..2 {
            let body = create(n);
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let request = format!(
                "POST /Users HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            statuses.push(answer.lines().next().unwrap_or_default().to_string());
        }
        assert!(statuses[0].contains(" 201"), "{statuses:?}");
        assert!(statuses[1].contains(" 507"), "{statuses:?}");
    }

    #[test]
    fn only_loopback_host_names_are_served() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "127.1.2.3",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1",
            "[2001:db8::1]:80",
            "",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}
