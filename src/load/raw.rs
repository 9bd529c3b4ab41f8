//! Raw mode: match GETs as fast as the server answers, as many as
//! `max_requests`, from `concurrency` workers that each send the next
//! request when the last one answered (closed loop, as wrk measures).
//!
//! Over plain http each worker owns one keep-alive connection and drives it
//! in its own task (hyper's connection API, no pool): a request never changes
//! hands between tasks or threads, which is what costs a pooled client most
//! of its time per request on loopback. Over https the workers share the
//! run's client instead. Either way every request is admitted and recorded as
//! any load request is, a 429 is waited out for its Retry-After before that
//! worker's next request, and no answer within the timeout is a failure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::pace::{Ctx, match_request};
use super::stats::{Op, Outcome};
use super::users::user_name;

pub(super) async fn raw(ctx: &Arc<Ctx>) {
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..ctx.options.concurrency {
        let name = user_name(&ctx.options.run_id, worker, 1);
        let request = match_request(&ctx.target, "/Users", "userName", &name, "");
        let ctx = ctx.clone();
        match Plain::of(&request) {
            Some(plain) => workers.spawn(async move { plain.worker(&ctx).await }),
            None => workers.spawn(async move { pooled_worker(&ctx, request).await }),
        };
    }
    while workers.join_next().await.is_some() {}
}

/// The https worker: the run's pooled client, retries and all.
async fn pooled_worker(ctx: &Ctx, request: crate::http::SentRequest) {
    while Instant::now() < ctx.deadline {
        if ctx
            .send(Op::Match, request.clone(), Instant::now())
            .await
            .is_none()
        {
            break;
        }
    }
}

/// One plain-http GET, ready to send again and again on a connection of its own.
struct Plain {
    host: String,
    port: u16,
    request: http::Request<Empty<Bytes>>,
}

/// What one request on a worker's connection came to.
enum Answer {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No usable answer; the connection is not used again.
    Broken,
}

impl Plain {
    /// None for anything but `http://` (https goes through the client's TLS).
    fn of(sent: &crate::http::SentRequest) -> Option<Plain> {
        let uri: http::Uri = sent.url.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?.clone();
        let host = authority.host().trim_matches(['[', ']']).to_string();
        let port = authority.port_u16().unwrap_or(80);
        let mut builder = http::Request::get(uri.path_and_query()?.as_str())
            .header(http::header::HOST, authority.as_str())
            .header(
                http::header::USER_AGENT,
                concat!("scimcheck/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &sent.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Empty::new()).ok()?;
        Some(Plain {
            host,
            port,
            request,
        })
    }

    fn copy(&self) -> http::Request<Empty<Bytes>> {
        let mut request = http::Request::new(Empty::new());
        *request.uri_mut() = self.request.uri().clone();
        *request.headers_mut() = self.request.headers().clone();
        request
    }

    /// Connects (again after a broken connection) and sends until a bound stops it.
    async fn worker(&self, ctx: &Ctx) {
        let timeout = ctx.target.timeout;
        'connection: while Instant::now() < ctx.deadline && !ctx.is_stopped() {
            let scheduled = Instant::now();
            let connected = tokio::time::timeout(
                ctx.target.connect_timeout,
                tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
            )
            .await;
            let handshake = match connected {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .ok()
                }
                _ => None,
            };
            let Some((mut sender, connection)) = handshake else {
                // A request that could not even connect is a failed request.
                if !ctx.admit() {
                    return;
                }
                ctx.record(Op::Match, scheduled, &failed(scheduled));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            // The connection is driven by this task, beside its requests.
            let mut connection = std::pin::pin!(connection);
            while Instant::now() < ctx.deadline {
                if !ctx.admit() {
                    return;
                }
                let scheduled = Instant::now();
                let exchange = async {
                    sender.ready().await.ok()?;
                    let response = sender.send_request(self.copy()).await.ok()?;
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    Limited::new(response.into_body(), ctx.target.max_body)
                        .collect()
                        .await
                        .ok()?;
                    Some((status, retry_after))
                };
                let answer = tokio::select! {
                    answer = tokio::time::timeout(timeout, exchange) => match answer {
                        Ok(Some((status, retry_after))) => Answer::Status { status, retry_after },
                        _ => Answer::Broken,
                    },
                    _ = &mut connection => Answer::Broken,
                };
                match answer {
                    Answer::Status {
                        status,
                        retry_after,
                    } => {
                        ctx.record(
                            Op::Match,
                            scheduled,
                            &answered(scheduled, status, retry_after),
                        );
                        if status == 429 {
                            let backoff = Duration::from_secs(1);
                            let wait = retry_after.unwrap_or(backoff);
                            tokio::time::sleep(wait.min(ctx.target.max_retry_wait)).await;
                        }
                    }
                    Answer::Broken => {
                        ctx.record(Op::Match, scheduled, &failed(scheduled));
                        continue 'connection;
                    }
                }
            }
            return;
        }
    }
}

fn answered(scheduled: Instant, status: u16, retry_after: Option<Duration>) -> Outcome {
    Outcome {
        status: Some(status),
        throttled: u32::from(status == 429),
        throttled_without_retry_after: u32::from(status == 429 && retry_after.is_none()),
        latency: scheduled.elapsed(),
    }
}

fn failed(scheduled: Instant) -> Outcome {
    Outcome {
        status: None,
        throttled: 0,
        throttled_without_retry_after: 0,
        latency: scheduled.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(url: &str) -> crate::http::SentRequest {
        crate::http::SentRequest {
            method: http::Method::GET,
            url: url.into(),
            headers: vec![("authorization".into(), "Bearer t".into())],
            body: None,
        }
    }

    #[test]
    fn a_plain_request_keeps_the_base_path_the_query_and_the_headers() {
        let plain = Plain::of(&sent(
            "http://[::1]:8080/scim/v2/Users?filter=a%20eq%20%22b%22",
        ))
        .unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("::1", 8080));
        let request = plain.copy();
        assert_eq!(
            request.uri().to_string(),
            "/scim/v2/Users?filter=a%20eq%20%22b%22"
        );
        assert_eq!(request.headers()["host"], "[::1]:8080");
        assert_eq!(request.headers()["authorization"], "Bearer t");
        assert_eq!(Plain::of(&sent("http://localhost/Users")).unwrap().port, 80);
    }

    #[test]
    fn https_goes_through_the_client() {
        assert!(Plain::of(&sent("https://127.0.0.1:8443/Users")).is_none());
    }
}
