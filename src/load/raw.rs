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

use futures::future::{self, Either};
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

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;
type Connection =
    hyper::client::conn::http1::Connection<TokioIo<tokio::net::TcpStream>, Empty<Bytes>>;

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

    /// Connects, and again whenever the connection closes, until a bound stops it.
    async fn worker(&self, ctx: &Ctx) {
        // The request is admitted before its connection is opened, so a
        // worker never connects for a request the bounds would refuse.
        while Instant::now() < ctx.deadline && ctx.admit() {
            // Connecting counts in the first request's latency, as for any client.
            let scheduled = Instant::now();
            let Some((sender, connection)) = self.connect(ctx).await else {
                // A request that could not even connect is a failed request.
                ctx.record(Op::Match, scheduled, &failed(scheduled));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            if !self.on_connection(ctx, sender, connection, scheduled).await {
                return;
            }
        }
    }

    async fn connect(&self, ctx: &Ctx) -> Option<(Sender, Connection)> {
        let stream = tokio::time::timeout(
            ctx.target.connect_timeout,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .ok()?
        .ok()?;
        let _ = stream.set_nodelay(true);
        hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .ok()
    }

    /// Sends on one fresh connection, starting with the request admitted at
    /// `scheduled`, until the server closes it (true: connect again) or a
    /// bound stops the worker (false). The connection is driven by this
    /// task, beside its requests. A server that closes after each answer
    /// (HTTP/1.0, `Connection: close`) is no failure: only a request
    /// admitted and not answered is.
    async fn on_connection(
        &self,
        ctx: &Ctx,
        mut sender: Sender,
        connection: Connection,
        mut scheduled: Instant,
    ) -> bool {
        let mut connection = std::pin::pin!(connection);
        let mut admitted = true;
        loop {
            if !ready(&mut sender, connection.as_mut(), ctx.target.timeout).await {
                if admitted {
                    // A fresh connection that never took its first request.
                    ctx.record(Op::Match, scheduled, &failed(scheduled));
                }
                return true;
            }
            if !admitted {
                if Instant::now() >= ctx.deadline || !ctx.admit() {
                    return false;
                }
                scheduled = Instant::now();
            }
            admitted = false;
            let exchange = std::pin::pin!(tokio::time::timeout(
                ctx.target.timeout,
                self.exchange(&mut sender, ctx.target.max_body),
            ));
            let (answer, open) = match future::select(exchange, connection.as_mut()).await {
                Either::Left((answer, _)) => (answer, true),
                // Closed: an answer that came before the close is still read.
                Either::Right((_, exchange)) => (exchange.await, false),
            };
            let Ok(Some((status, retry_after))) = answer else {
                ctx.record(Op::Match, scheduled, &failed(scheduled));
                return true;
            };
            ctx.record(
                Op::Match,
                scheduled,
                &answered(scheduled, status, retry_after),
            );
            if status == 429 {
                // Honoured as Entra does; without Retry-After, a second.
                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(wait.min(ctx.target.max_retry_wait)).await;
            }
            if !open {
                return true;
            }
        }
    }

    /// One GET and its whole body: the status and Retry-After, or None.
    async fn exchange(
        &self,
        sender: &mut Sender,
        max_body: usize,
    ) -> Option<(u16, Option<Duration>)> {
        let response = sender.send_request(self.copy()).await.ok()?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::http::retry_after);
        Limited::new(response.into_body(), max_body)
            .collect()
            .await
            .ok()?;
        Some((status, retry_after))
    }
}

/// Whether the connection takes another request (false: it closed).
async fn ready(
    sender: &mut Sender,
    connection: std::pin::Pin<&mut Connection>,
    timeout: Duration,
) -> bool {
    let ready = std::pin::pin!(tokio::time::timeout(timeout, sender.ready()));
    matches!(
        future::select(ready, connection).await,
        Either::Left((Ok(Ok(())), _))
    )
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
