//! Plain http to a loopback address: keep-alive connections of the client's
//! own, on hyper's connection API.
//!
//! reqwest's pooled client re-parses every URL, hands each request to a pool
//! task and back, and wraps it in its redirect and retry layers: on loopback
//! that is most of the client's time per request, and the explorer sends as
//! fast as the double answers. This transport sends the same bytes (origin
//! form, `Host` as reqwest writes it, its `User-Agent` and `Accept: */*`) and
//! follows redirects by the same rule (within the origin, at most 5). A
//! request it cannot send byte for byte as reqwest would (another origin, a
//! path reqwest would re-encode or normalize) goes through reqwest.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::{CappedBody, SentRequest, TransportError};

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
/// A connection: its sender and the driver that moves its bytes (boxed
/// once, as it moves in and out of the idle list with every request).
type Connection = Box<(
    Sender,
    hyper::client::conn::http1::Connection<TokioIo<tokio::net::TcpStream>, Full<Bytes>>,
)>;

/// The most redirects followed for one request (reqwest's policy: see
/// `same_origin_redirects`).
const MAX_REDIRECTS: usize = 5;

/// A response, whole.
pub(super) struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct Plain {
    /// `http://host:port` as the request URLs start.
    origin: String,
    /// What connect() dials.
    address: std::net::SocketAddr,
    /// The `Host` header as reqwest writes it (no port when it is 80).
    host: http::HeaderValue,
    connect_timeout: Duration,
    idle: std::sync::Mutex<Vec<Connection>>,
}

impl Plain {
    /// The transport for `base_url`, where it is plain http to a loopback
    /// IP literal and no proxy is configured (reqwest would use it).
    pub fn of(base_url: &str, connect_timeout: Duration) -> Option<Plain> {
        let url = reqwest::Url::parse(base_url).ok()?;
        if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let host_text = url.host_str()?;
        let ip: std::net::IpAddr = host_text.trim_matches(['[', ']']).parse().ok()?;
        if !ip.is_loopback() || proxy_configured() {
            return None;
        }
        let host = match url.port() {
            Some(port) => format!("{host_text}:{port}"),
            None => host_text.to_string(),
        };
        Some(Plain {
            origin: format!("http://{host}"),
            address: std::net::SocketAddr::new(ip, url.port_or_known_default()?),
            host: http::HeaderValue::from_str(&host).ok()?,
            connect_timeout,
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The path and query of `url` when this transport can send it as
    /// reqwest would: same origin, and nothing reqwest would re-encode or
    /// normalize.
    pub fn path_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        let rest = url.strip_prefix(self.origin.as_str())?;
        let as_sent = rest.starts_with('/')
            && rest.bytes().all(sent_as_is)
            && !rest
                .split(['?'])
                .next()?
                .split('/')
                .any(|s| s == "." || s == "..");
        as_sent.then_some(rest)
    }

    /// Sends `request`, following redirects within the origin.
    pub async fn perform(
        &self,
        request: &SentRequest,
        path: &str,
        max_body: usize,
    ) -> Result<Answer, TransportError> {
        let mut method = request.method.clone();
        let mut body = request.body.clone().map(Bytes::from);
        let mut path = path.to_string();
        let mut followed = 0;
        let mut body_dropped = false;
        loop {
            let answer = self
                .once(
                    &method,
                    &path,
                    &request.headers,
                    body.clone(),
                    body_dropped,
                    max_body,
                )
                .await?;
            let Some(next) = self.redirect(&answer) else {
                return Ok(answer);
            };
            if followed == MAX_REDIRECTS {
                return Err(TransportError::Redirects);
            }
            followed += 1;
            // As reqwest does: 301, 302 and 303 go on as a body-less GET.
            if matches!(answer.status, 301..=303) {
                body = None;
                body_dropped = true;
                if method != http::Method::HEAD {
                    method = http::Method::GET;
                }
            }
            path = next;
        }
    }

    /// Where a redirect answer points, when it is to be followed here.
    fn redirect(&self, answer: &Answer) -> Option<String> {
        if !matches!(answer.status, 301..=303 | 307 | 308) {
            return None;
        }
        let location = answer.headers.get(http::header::LOCATION)?.to_str().ok()?;
        let base = reqwest::Url::parse(&self.origin).ok()?;
        let next = base.join(location).ok()?;
        // Elsewhere: the redirect is the answer, as reqwest's policy stops it.
        let path = self.path_of(next.as_str())?;
        Some(path.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    async fn once(
        &self,
        method: &http::Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<Bytes>,
        body_dropped: bool,
        max_body: usize,
    ) -> Result<Answer, TransportError> {
        // In reqwest's order: the request's own headers, then its defaults
        // where the request has none, then Host.
        let mut built = http::Request::builder().method(method.clone()).uri(path);
        let body_header = |name: &str| {
            [
                "content-type",
                "content-length",
                "content-encoding",
                "transfer-encoding",
            ]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        };
        for (name, value) in headers {
            if !body_dropped || !body_header(name) {
                built = built.header(name.as_str(), value.as_str());
            }
        }
        let given = |name: &http::HeaderName| {
            headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name.as_str()))
        };
        for (name, default) in [
            (http::header::ACCEPT, "*/*"),
            (http::header::USER_AGENT, super::USER_AGENT),
        ] {
            if !given(&name) {
                built = built.header(name, default);
            }
        }
        built = built.header(http::header::HOST, self.host.clone());
        let request = built
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| TransportError::Other(format!("builder error: {e}")))?;
        let kept = self.idle.lock().expect("idle connections").pop();
        let mut connection = match kept {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        let mut request = request;
        // A kept-alive connection the server closed meanwhile: the request
        // never left, so it goes once more on a fresh connection.
        for retry in [false, true] {
            match exchange(connection, request, max_body).await {
                Sent::Answered(answer, open) => {
                    if let Some(open) = open {
                        self.idle.lock().expect("idle connections").push(open);
                    }
                    return answer;
                }
                Sent::NotSent(unsent) if !retry => {
                    request = unsent;
                    connection = self.connect().await?;
                }
                Sent::NotSent(_) => break,
            }
        }
        Err(TransportError::Other(
            "the connection closed before the request was sent".into(),
        ))
    }

    async fn connect(&self) -> Result<Connection, TransportError> {
        let refused = |why: String| TransportError::Connect(format!("{}: {why}", self.origin));
        let stream = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(self.address),
        )
        .await
        .map_err(|_| refused(format!("no connection within {:?}", self.connect_timeout)))?
        .map_err(|e| refused(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map(Box::new)
            .map_err(|e| refused(e.to_string()))
    }
}

/// What came of a request on one connection.
enum Sent {
    /// The answer (or why none came), and the connection when it stays open.
    Answered(Result<Answer, TransportError>, Option<Connection>),
    /// The connection had closed: the request was not sent.
    NotSent(http::Request<Full<Bytes>>),
}

/// Sends `request` on `connection` and reads the answer, driving the
/// connection in this same task (no hand-over to another task or thread).
async fn exchange(
    mut connection: Connection,
    request: http::Request<Full<Bytes>>,
    max_body: usize,
) -> Sent {
    type Unsent = hyper::client::conn::TrySendError<http::Request<Full<Bytes>>>;
    let (sender, driver) = &mut *connection;
    let (result, open) = {
        let work = async {
            let response: http::Response<_> = sender.try_send_request(request).await?;
            Ok::<_, Unsent>(read(response, max_body).await)
        };
        tokio::pin!(work);
        tokio::select! {
            biased;
            result = &mut work => (result, true),
            // The connection ended (the server closed it, or it failed): what
            // was in flight is settled either way, so the request ends alone.
            _ = driver => (work.await, false),
        }
    };
    match result {
        Ok(answer) => {
            let open = open && answer.is_ok() && !sender.is_closed();
            Sent::Answered(answer, open.then_some(connection))
        }
        Err(mut unsent) => match unsent.take_message() {
            Some(request) => Sent::NotSent(request),
            None => Sent::Answered(Err(other(unsent.into_error())), None),
        },
    }
}

/// The whole answer, its body read up to `max_body` bytes.
async fn read(
    response: http::Response<hyper::body::Incoming>,
    max_body: usize,
) -> Result<Answer, TransportError> {
    let (parts, mut body) = response.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut capped = CappedBody::new(declared, max_body)?;
    while let Some(frame) = body.frame().await {
        if let Some(chunk) = frame.map_err(other)?.data_ref() {
            capped.push(chunk)?;
        }
    }
    Ok(Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: capped.bytes,
    })
}

fn other(error: impl std::fmt::Display) -> TransportError {
    TransportError::Other(error.to_string())
}

/// Bytes the URL parser reqwest uses leaves as they are in a path or query
/// (unreserved, sub-delimiters but `'`, `:@/?%`); anything else it would encode.
fn sent_as_is(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'(' | b')'
        | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?' | b'%')
}

/// Whether reqwest would send through a proxy from the environment.
fn proxy_configured() -> bool {
    ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::http::{Client, SentRequest};
    use crate::target::Target;

    /// A loopback server that records each request's bytes and answers it
    /// with `answer(n)` for the n-th request; `close` closes each connection
    /// after its first answer.
    async fn recorder(
        answer: fn(usize) -> String,
        close: bool,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    loop {
                        let mut chunk = [0u8; 4096];
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buffer).to_string();
                        let Some(end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        if buffer.len() < end + 4 + length {
                            continue;
                        }
                        let count = {
                            let mut log = log.lock().unwrap();
                            log.push(text[..end + 4 + length].to_string());
                            log.len()
                        };
                        buffer.drain(..end + 4 + length);
                        stream.write_all(answer(count).as_bytes()).await.unwrap();
                        if close {
                            return;
                        }
                    }
                });
            }
        });
        (url, seen)
    }

    fn ok(_: usize) -> String {
        "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: 2\r\n\r\n{}"
            .into()
    }

    fn request(url: &str) -> SentRequest {
        let mut target = Target::new(url);
        target.auth = crate::target::Auth::Bearer("tok-plain-1234567".into());
        let mut sent = SentRequest::to(
            &target,
            http::Method::POST,
            "/Users?filter=userName%20eq%20%22a%22",
        );
        sent.headers
            .push(("Content-Type".into(), "application/scim+json".into()));
        sent.body = Some(br#"{"userName":"a"}"#.to_vec());
        sent
    }

    /// Byte for byte, header order included: reqwest and this transport
    /// put the same request on the wire, with the request's own headers and
    /// with none of those reqwest has a default for.
    #[tokio::test]
    async fn a_request_goes_out_as_reqwest_sends_it() {
        let (url, seen) = recorder(ok, false).await;
        let client = Client::new(&Target::new(&url)).unwrap();
        assert!(
            client.plain.is_some(),
            "loopback http takes the plain transport"
        );
        let plain = client.perform(&request(&url)).await.unwrap();
        let pooled = client.perform_pooled(&request(&url)).await.unwrap();
        assert_eq!((plain.status, plain.body.clone()), (200, b"{}".to_vec()));
        assert_eq!(plain.headers, pooled.headers);
        let mut bare = request(&url);
        bare.headers.clear();
        client.perform(&bare).await.unwrap();
        client.perform_pooled(&bare).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[0], seen[1], "with headers");
        assert_eq!(seen[2], seen[3], "without Accept nor User-Agent");
        assert!(
            seen[0].starts_with("POST /Users?filter=userName%20eq%20%22a%22 HTTP/1.1\r\n"),
            "{}",
            seen[0]
        );
    }

    #[tokio::test]
    async fn a_connection_is_kept_and_a_closed_one_replaced() {
        let (url, seen) = recorder(ok, false).await;
        let client = Client::new(&Target::new(&url)).unwrap();
        for _ in 0..3 {
            assert_eq!(client.perform(&request(&url)).await.unwrap().status, 200);
        }
        assert_eq!(client.plain.as_ref().unwrap().idle.lock().unwrap().len(), 1);
        assert_eq!(seen.lock().unwrap().len(), 3);
        // A server that closes after every answer costs a connection each time, no failure.
        let (url, seen) = recorder(ok, true).await;
        let client = Client::new(&Target::new(&url)).unwrap();
        for _ in 0..3 {
            assert_eq!(client.perform(&request(&url)).await.unwrap().status, 200);
        }
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    /// Within the origin a 303 is followed as a GET without the body; a
    /// redirect elsewhere is the answer; a loop ends as too many redirects.
    #[tokio::test]
    async fn redirects_are_followed_within_the_origin_only() {
        fn answer(n: usize) -> String {
            let to = match n {
                1 => "/Users/1",
                2 => return ok(n),
                3 => "http://127.0.0.2:9/Users",
                _ => "/again",
            };
            format!("HTTP/1.1 303 See Other\r\nlocation: {to}\r\ncontent-length: 0\r\n\r\n")
        }
        let (url, seen) = recorder(answer, false).await;
        let client = Client::new(&Target::new(&url)).unwrap();
        assert_eq!(client.perform(&request(&url)).await.unwrap().status, 200);
        let followed = seen.lock().unwrap()[1].clone();
        assert!(
            followed.starts_with("GET /Users/1 HTTP/1.1\r\n"),
            "{followed}"
        );
        assert!(
            !followed.contains("content-type") && !followed.ends_with('}'),
            "{followed}"
        );
        assert_eq!(client.perform(&request(&url)).await.unwrap().status, 303);
        assert_eq!(
            client.perform(&request(&url)).await.unwrap_err(),
            crate::http::TransportError::Redirects
        );
    }

    #[test]
    fn only_what_reqwest_would_send_as_is_goes_plain() {
        let plain = super::Plain::of(
            "http://127.0.0.1:8080/scim/",
            std::time::Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            plain.path_of("http://127.0.0.1:8080/scim/Users?a=%22b%22"),
            Some("/scim/Users?a=%22b%22")
        );
        for elsewhere in [
            "http://127.0.0.1:8081/scim/Users",
            "https://127.0.0.1:8080/scim/Users",
            "http://127.0.0.1:8080/scim/Users?filter=a eq \"b\"",
            "http://127.0.0.1:8080/scim/../Users",
            "http://127.0.0.1:8080/scim/Users#top",
        ] {
            assert_eq!(plain.path_of(elsewhere), None, "{elsewhere}");
        }
        for not_plain in [
            "https://127.0.0.1:1",
            "http://localhost:1",
            "http://user:pw@127.0.0.1:1",
            "http://10.1.2.3:1",
        ] {
            assert!(
                super::Plain::of(not_plain, std::time::Duration::from_secs(1)).is_none(),
                "{not_plain}"
            );
        }
        assert!(super::Plain::of("http://[::1]:8080", std::time::Duration::from_secs(1)).is_some());
    }
}
