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
        let listener = match listener {
            Some(l) => l,
            None => TcpListener::bind("127.0.0.1:0")?,
        };
        let base_url = format!("http://{}", listener.local_addr()?);
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let service = Arc::new(Mutex::new(
            Service::new(&base_url, token.clone()).with_variants(variants),
        ));
        let shared = Arc::clone(&service);
        let task = tokio::spawn(async move {
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
                    let _ = hyper::server::conn::http1::Builder::new()
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

async fn answer(
    service: &Mutex<Service>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
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
