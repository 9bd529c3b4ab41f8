//! The only module that speaks HTTP: through reqwest, and on loopback over
//! plain http through connections of its own ([`plain`]).
//!
//! Every request has a connect timeout and a total timeout, and a response
//! body is read up to a cap, so a slow, huge or hostile answer becomes a
//! failed check with its reason, never a hang.

use std::time::{Duration, Instant};

use crate::target::Target;

mod plain;

/// What every request says it is.
const USER_AGENT: &str = concat!("scimcheck/", env!("CARGO_PKG_VERSION"));

/// A request as sent, credentials included (redact before printing).
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: http::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl SentRequest {
    /// A body-less request to `path` below the target's base URL, with the
    /// target's credentials and headers: what the probes and cleanups send.
    pub fn to(target: &Target, method: http::Method, path: &str) -> SentRequest {
        SentRequest {
            method,
            url: format!("{}{path}", target.base_url),
            headers: target.request_headers(),
            body: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReceivedResponse {
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes of the body checked but not kept for the reports.
    pub dropped: usize,
}

/// The most bytes of a body kept once its checks are done: a run keeps
/// every exchange for its reports, and must not hold every answer whole.
pub const KEPT_BODY: usize = 64 * 1024;

impl ReceivedResponse {
    /// Keeps at most `max` bytes of the body (at a character boundary when
    /// it is text), counting what goes in [`ReceivedResponse::dropped`].
    pub fn keep_at_most(&mut self, max: usize) {
        if self.body.len() <= max {
            return;
        }
        let mut cut = max;
        // Back to the start of a UTF-8 character (at most 3 bytes back).
        while cut > 0 && (self.body[cut] & 0b1100_0000) == 0b1000_0000 {
            cut -= 1;
        }
        self.dropped += self.body.len() - cut;
        self.body.truncate(cut);
        self.body.shrink_to_fit();
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Why no complete response came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    #[error("the response body exceeds {0} bytes")]
    TooLarge(usize),
    #[error("too many redirects")]
    Redirects,
    #[error("{0}")]
    Other(String),
}

impl Exchange {
    /// See [`ReceivedResponse::keep_at_most`].
    pub fn keep_at_most(&mut self, max: usize) {
        if let Ok(response) = &mut self.response {
            response.keep_at_most(max);
        }
    }
}

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: SentRequest,
    pub response: Result<ReceivedResponse, TransportError>,
    pub elapsed: Duration,
    /// When the request was first sent (for HAR's `startedDateTime`).
    pub started_at: std::time::SystemTime,
    /// The 429 answers that came before this one, and how long was waited.
    pub retries: Vec<String>,
}

/// A response body read up to a cap, whichever transport reads it: refused
/// at once when its declared length is over, and as soon as what came is.
struct CappedBody {
    bytes: Vec<u8>,
    max: usize,
}

impl CappedBody {
    fn new(declared: Option<u64>, max: usize) -> Result<CappedBody, TransportError> {
        if declared.is_some_and(|len| len > max as u64) {
            return Err(TransportError::TooLarge(max));
        }
        Ok(CappedBody {
            bytes: Vec::with_capacity(declared.unwrap_or(0) as usize),
            max,
        })
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        if self.bytes.len() + chunk.len() > self.max {
            return Err(TransportError::TooLarge(self.max));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
}

/// Spaces requests out to at most a given rate, across every task sharing it.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    fn new(rate: f64) -> Option<Pacer> {
        (rate.is_finite() && rate > 0.0).then(|| Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: tokio::sync::Mutex::new(Instant::now()),
        })
    }

    /// Waits for this request's slot.
    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pacer: Option<std::sync::Arc<Pacer>>,
    inner: Pooled,
    /// Plain http to a loopback address goes on connections of this
    /// client's own (see [`plain`]); everything else through `inner`.
    plain: Option<std::sync::Arc<plain::Plain>>,
    timeout: Duration,
    max_body: usize,
    max_retries: u32,
    max_retry_wait: Duration,
    /// Credentials echoed in an answer are replaced before anything sees it.
    redactor: crate::target::Redactor,
    /// Requests in a row that were still 429 after every retry: a server
    /// answering nothing but 429 is not waited out request after request.
    exhausted_in_a_row: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

/// After this many requests in a row still throttled after all their
/// retries, a 429 is no longer waited out (until an answer is not a 429).
pub const THROTTLED_IN_A_ROW: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA certificate {path}: {source}")]
    CaCert {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid CA certificate: {0}")]
    InvalidCaCert(reqwest::Error),
    #[error("cannot build the HTTP client: {0}")]
    Build(reqwest::Error),
    #[error(
        "scimcheck was built without its `tls` feature: https, --insecure and --ca-cert need it"
    )]
    NoTls,
}

/// reqwest's client, built at once or when first needed.
#[derive(Clone)]
struct Pooled {
    client: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    /// What a client built later is built for.
    target: Option<std::sync::Arc<Target>>,
}

/// Without the target, whose credentials no output may show.
impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("built", &self.client.get().is_some())
            .finish()
    }
}

impl Pooled {
    /// With connections of its own (`plain`), a client seldom needs
    /// reqwest's, whose certificates cost more to load than thousands of
    /// loopback requests: it is built when first needed, unless a CA
    /// certificate is given, whose errors are told at once.
    fn of(target: &Target, plain: bool) -> Result<Pooled, ClientError> {
        if plain && target.ca_cert.is_none() {
            return Ok(Pooled {
                client: Default::default(),
                target: Some(std::sync::Arc::new(target.clone())),
            });
        }
        Ok(Pooled {
            client: std::sync::Arc::new(reqwest_client(target)?.into()),
            target: None,
        })
    }

    fn get(&self) -> Result<&reqwest::Client, ClientError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let target = self
            .target
            .as_deref()
            .expect("a client built later has its target");
        let built = reqwest_client(target)?;
        Ok(self.client.get_or_init(|| built))
    }
}

fn reqwest_client(target: &Target) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(target.connect_timeout)
        .timeout(target.timeout)
        .redirect(same_origin_redirects())
        // Every request is sent once, as the suite says: a 429 is
        // retried by send_bounded, where it is seen and reported.
        .retry(reqwest::retry::never())
        .referer(false)
        .user_agent(USER_AGENT);
    builder = tls(builder, target)?;
    builder.build().map_err(ClientError::Build)
}

impl Client {
    /// A client for another runtime (its connections are that runtime's)
    /// sharing this one's pace and throttling count, so that the target
    /// sees one client's rate however many runtimes send.
    pub fn sibling(&self, target: &Target) -> Result<Client, ClientError> {
        let plain = Self::plain(target);
        Ok(Client {
            inner: Pooled::of(target, plain.is_some())?,
            plain,
            pacer: self.pacer.clone(),
            exhausted_in_a_row: self.exhausted_in_a_row.clone(),
            redactor: self.redactor.clone(),
            ..*self
        })
    }

    fn plain(target: &Target) -> Option<std::sync::Arc<plain::Plain>> {
        plain::Plain::of(&target.base_url, target.connect_timeout).map(std::sync::Arc::new)
    }

    pub fn new(target: &Target) -> Result<Client, ClientError> {
        let plain = Self::plain(target);
        Ok(Client {
            pacer: target.rate.and_then(Pacer::new).map(std::sync::Arc::new),
            inner: Pooled::of(target, plain.is_some())?,
            plain,
            timeout: target.timeout,
            max_body: target.max_body,
            max_retries: target.max_retries,
            max_retry_wait: target.max_retry_wait,
            redactor: crate::target::Redactor::new(&target.secrets()),
            exhausted_in_a_row: Default::default(),
        })
    }
}

/// Redirects are followed within the target's origin only (at most 5): every
/// request carries credentials, `--header` values included, and none may
/// reach another host, port or scheme. A redirect elsewhere is answered as it
/// came, so the step reports the redirect itself.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.stop()
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// TLS as the target asks: verified unless `insecure`, with its CA.
#[cfg(feature = "tls")]
fn tls(
    builder: reqwest::ClientBuilder,
    target: &Target,
) -> Result<reqwest::ClientBuilder, ClientError> {
    let mut builder = builder.danger_accept_invalid_certs(target.insecure);
    if let Some(path) = &target.ca_cert {
        let pem = std::fs::read(path).map_err(|source| ClientError::CaCert {
            path: path.display().to_string(),
            source,
        })?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(ClientError::InvalidCaCert)?;
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

/// Built without the `tls` feature: http only, and TLS options are refused.
#[cfg(not(feature = "tls"))]
fn tls(
    builder: reqwest::ClientBuilder,
    target: &Target,
) -> Result<reqwest::ClientBuilder, ClientError> {
    if target.insecure || target.ca_cert.is_some() || target.base_url.starts_with("https:") {
        return Err(ClientError::NoTls);
    }
    Ok(builder)
}

impl Client {
    /// Sends a request; a 429 is retried (at most `max_retries` times), after
    /// its Retry-After (capped at `max_retry_wait`) or, without one, after an
    /// exponential backoff from one second. The retries are told in the exchange.
    ///
    /// The time an exchange reports is the server's: each attempt is timed
    /// from when the rate limiter lets it go to its answer, and the waits
    /// before retries are not counted, so a vendor never reads scimcheck's own
    /// pacing as a slow endpoint.
    pub async fn send(&self, request: SentRequest) -> Exchange {
        self.send_bounded(request, None).await
    }

    /// [`Client::send`], except that once `stop` is triggered a 429 is not
    /// waited out again: the request ends with it, told in its retries.
    pub async fn send_until(
        &self,
        request: SentRequest,
        stop: &crate::interrupt::Interrupt,
    ) -> Exchange {
        self.send_bounded(request, Some(stop)).await
    }

    async fn send_bounded(
        &self,
        request: SentRequest,
        stop: Option<&crate::interrupt::Interrupt>,
    ) -> Exchange {
        let mut server_time = Duration::ZERO;
        let mut started_at = None;
        let mut retries = Vec::new();
        loop {
            if let Some(pacer) = &self.pacer {
                pacer.wait().await;
            }
            started_at.get_or_insert_with(std::time::SystemTime::now);
            let attempt = Instant::now();
            let response = self.perform(&request).await;
            server_time += attempt.elapsed();
            let throttled = matches!(&response, Ok(r) if r.status == 429);
            let stopped = stop.is_some_and(|s| s.is_set());
            let started = started_at.unwrap_or_else(std::time::SystemTime::now);
            let done = |request, response, retries| Exchange {
                request,
                response,
                elapsed: server_time,
                started_at: started,
                retries,
            };
            let in_a_row = &self.exhausted_in_a_row;
            if !throttled {
                in_a_row.store(0, std::sync::atomic::Ordering::Relaxed);
                return done(request, response, retries);
            }
            if retries.len() as u32 >= self.max_retries {
                in_a_row.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return done(request, response, retries);
            }
            if in_a_row.load(std::sync::atomic::Ordering::Relaxed) >= THROTTLED_IN_A_ROW {
                retries.push(format!(
                    "not retried after its 429: {THROTTLED_IN_A_ROW} requests in a row were still throttled after every retry"
                ));
                return done(request, response, retries);
            }
            if stopped {
                retries.push("not retried after its 429: the run is stopping".into());
                return done(request, response, retries);
            }
            let asked = response
                .as_ref()
                .ok()
                .and_then(|r| r.header("retry-after"))
                .and_then(retry_after);
            let backoff = Duration::from_secs(1 << retries.len().min(5));
            let wait = asked.unwrap_or(backoff).min(self.max_retry_wait);
            let interrupted = match stop {
                Some(stop) => tokio::select! {
                    _ = tokio::time::sleep(wait) => false,
                    _ = stop.triggered() => true,
                },
                None => {
                    tokio::time::sleep(wait).await;
                    false
                }
            };
            if interrupted {
                retries.push("not retried after its 429: the run is stopping".into());
                return done(request, response, retries);
            }
            retries.push(match asked {
                Some(a) => format!(
                    "429, Retry-After {} s, waited {} s",
                    a.as_secs(),
                    wait.as_secs()
                ),
                None => format!("429 without Retry-After, waited {} s", wait.as_secs()),
            });
        }
    }

    async fn perform(&self, request: &SentRequest) -> Result<ReceivedResponse, TransportError> {
        let plain = self
            .plain
            .as_deref()
            .and_then(|plain| Some((plain, plain.path_of(&request.url)?)));
        let Some((plain, path)) = plain else {
            return self.perform_pooled(request).await;
        };
        let answer =
            tokio::time::timeout(self.timeout, plain.perform(request, path, self.max_body))
                .await
                .map_err(|_| TransportError::Timeout(self.timeout))??;
        Ok(ReceivedResponse {
            status: answer.status,
            headers: self.received_headers(&answer.headers),
            body: self.redactor.bytes(answer.body),
            dropped: 0,
        })
    }

    /// Header names in lower case, values with any credential replaced.
    fn received_headers(&self, headers: &http::HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    self.redactor.text(match v.to_str() {
                        Ok(text) => text.to_string(),
                        Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    }),
                )
            })
            .collect()
    }

    async fn perform_pooled(
        &self,
        request: &SentRequest,
    ) -> Result<ReceivedResponse, TransportError> {
        let mut builder = self
            .inner
            .get()
            .map_err(|e| TransportError::Other(e.to_string()))?
            .request(request.method.clone(), &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        let headers = self.received_headers(response.headers());
        let mut body = CappedBody::new(response.content_length(), self.max_body)?;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            body.push(&chunk)?;
        }
        Ok(ReceivedResponse {
            status,
            headers,
            body: self.redactor.bytes(body.bytes),
            dropped: 0,
        })
    }

    fn classify(&self, error: reqwest::Error) -> TransportError {
        // reqwest's Display stops at the outermost error; the cause says what happened.
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        if error.is_timeout() {
            TransportError::Timeout(self.timeout)
        } else if error.is_redirect() {
            TransportError::Redirects
        } else if error.is_connect() {
            TransportError::Connect(text)
        } else {
            TransportError::Other(text)
        }
    }
}

/// How long a Retry-After asks to wait: delay-seconds, or an HTTP-date
/// (RFC 9110 10.2.3; a date already past asks for no wait). None when the
/// value is neither.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::{Pacer, retry_after};
    use std::time::{Duration, Instant, SystemTime};

    #[test]
    fn retry_after_is_read_in_seconds_and_as_an_http_date() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        let wait = retry_after(&in_a_minute).unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
    }

    /// A lower bound (politeness), not a speed goal: 6 requests at 50/s span at least 100 ms.
    #[tokio::test]
    async fn the_pacer_spaces_requests_out() {
        let pacer = Pacer::new(50.0).unwrap();
        let started = Instant::now();
        for _ in 0..6 {
            pacer.wait().await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
        assert!(Pacer::new(0.0).is_none(), "0 means no limit");
    }

    /// What an exchange reports is the server's time, not the pacer's wait:
    /// at 2 requests a second the second request waits about 500 ms, which a
    /// loopback answer never takes.
    #[tokio::test]
    async fn the_time_reported_leaves_out_the_rate_limit_wait() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let mut target = crate::target::Target::new(&server.uri());
        target.rate = Some(2.0);
        let client = super::Client::new(&target).unwrap();
        let get = || super::SentRequest {
            method: http::Method::GET,
            url: format!("{}/Users", server.uri()),
            headers: Vec::new(),
            body: None,
        };
        let started = Instant::now();
        client.send(get()).await;
        let second = client.send(get()).await;
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert!(
            second.elapsed < Duration::from_millis(400),
            "{:?}",
            second.elapsed
        );
    }
}
