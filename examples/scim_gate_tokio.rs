//! The gate against a server that serves through its own tokio listener,
//! as an axum or hyper server does: the shape most SCIM server crates have.
//!
//! The server here is a small hyper server whose handler is scimcheck's
//! double logic ([`Service`]); yours is your own router. What matters is
//! the listener: bound with std (port 0, so the OS picks a free port and
//! the URL is known before anything runs), **made non-blocking**, then
//! handed to tokio. `tokio::net::TcpListener::from_std` panics on a
//! blocking listener (tokio 1.54 checks), so `set_nonblocking(true)` first.
//!
//! Run it: `cargo test --example scim_gate_tokio` (`-- users` filters).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use scimcheck::double::service::{Request, Service};
use scimcheck::gate::{Gate, ServerUnderTest};

/// Your server, on 127.0.0.1.
async fn start_my_server(token: &str) -> std::io::Result<ServerUnderTest> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base_url = format!("http://{}/scim/v2", listener.local_addr()?);
    // Required before from_std: tokio's listener must never block the runtime.
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = Arc::new(Mutex::new(Service::new(&base_url, Some(token.into()))));
    // Spawned in the trial's runtime: it lives exactly as long as the trial.
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let handler = hyper::service::service_fn(move |request| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, hyper::Error>(handle(&app, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    });
    Ok(ServerUnderTest::new(base_url)
        .token(token)
        .keep_alive(AbortOnDrop(server)))
}

/// Stops the server when the trial ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The SCIM routes live under `/scim/v2`, as in most real servers.
async fn handle(
    app: &Mutex<Service>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return respond(400, None, Vec::new()),
    };
    let Some(path) = parts.uri.path().strip_prefix("/scim/v2") else {
        return respond(404, None, Vec::new());
    };
    let query = url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_string(), value)
        })
        .collect();
    let scim = Request {
        method: parts.method.as_str().to_string(),
        path: path.to_string(),
        query,
        headers,
        body,
    };
    let response = app.lock().unwrap_or_else(|p| p.into_inner()).handle(&scim);
    let body = response
        .body
        .map(|b| b.to_string().into_bytes())
        .unwrap_or_default();
    respond(response.status, Some(&response.headers), body)
}

fn respond(
    status: u16,
    headers: Option<&[(String, String)]>,
    body: Vec<u8>,
) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::builder().status(status);
    for (name, value) in headers.unwrap_or_default() {
        if name != "content-type" {
            response = response.header(name, value);
        }
    }
    if !body.is_empty() {
        response = response.header("content-type", "application/scim+json");
    }
    response
        .body(Full::new(Bytes::from(body)))
        .expect("status and headers come from the service")
}

fn main() {
    Gate::new(|| start_my_server("example-token"))
        .profiles(&["rfc", "entra", "okta"])
        .main()
}
