//! The double on the network: a wiremock server whose one responder holds
//! the [`Service`] behind a mutex.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use wiremock::{Mock, MockServer, Respond, ResponseTemplate, matchers::any};

use super::service::{Request, Response, Service};
use super::variant::Variants;

struct Responder {
    service: Arc<Mutex<Service>>,
}

impl Respond for Responder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        // A poisoned lock means an earlier request panicked; the state is still
        // the last consistent one, since every write happens at the end.
        let response = self
            .service
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .handle(&service_request(request));
        response_template(&response)
    }
}

/// A wiremock request as the service sees it.
pub fn service_request(request: &wiremock::Request) -> Request {
    let headers = super::service::header_map(&request.headers);
    let query = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Request {
        method: request.method.as_str().to_string(),
        path: request.url.path().to_string(),
        query,
        headers,
        body: request.body.clone(),
    }
}

/// The service's response as wiremock sends it.
pub fn response_template(response: &Response) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(response.status);
    for (name, value) in &response.headers {
        if name != "content-type" {
            template = template.insert_header(name.as_str(), value.as_str());
        }
    }
    if let Some(body) = &response.body {
        // set_body_json would force application/json.
        template = template.set_body_raw(body.to_string().into_bytes(), "application/scim+json");
    }
    template
}

/// A running double. Dropping it stops the server.
pub struct Double {
    server: MockServer,
    service: Arc<Mutex<Service>>,
    token: Option<String>,
}

impl Double {
    /// Starts a double on a random loopback port.
    pub async fn start(token: Option<String>) -> Double {
        Double::start_on(MockServer::builder(), token, Variants::default()).await
    }

    /// Starts a double that makes the RFC-legal choices `variants`.
    pub async fn start_with_variants(token: Option<String>, variants: Variants) -> Double {
        Double::start_on(MockServer::builder(), token, variants).await
    }

    /// Starts a double on a given listener.
    pub async fn start_with_listener(listener: TcpListener, token: Option<String>) -> Double {
        Double::start_serving(listener, token, Variants::default()).await
    }

    /// Starts a double with `variants` on a given listener (`scimcheck serve`
    /// itself runs the same service on hyper: [`super::plain`]).
    pub async fn start_serving(
        listener: TcpListener,
        token: Option<String>,
        variants: Variants,
    ) -> Double {
        Double::start_on(MockServer::builder().listener(listener), token, variants).await
    }

    async fn start_on(
        builder: wiremock::MockServerBuilder,
        token: Option<String>,
        variants: Variants,
    ) -> Double {
        // Request recording would keep every request for the life of the server.
        let server = builder.disable_request_recording().start().await;
        let service = Arc::new(Mutex::new(
            Service::new(server.uri(), token.clone()).with_variants(variants),
        ));
        Mock::given(any())
            .respond_with(Responder {
                service: Arc::clone(&service),
            })
            .mount(&server)
            .await;
        Double {
            server,
            service,
            token,
        }
    }

    /// The bearer token it requires, if any.
    pub fn token(&self) -> Option<String> {
        self.token.clone()
    }

    /// The base URL, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// The underlying server, for tests that mount a defect over the double
    /// (a mock with a higher priority answers first).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Direct access to the state, for tests that seed or inspect it.
    pub fn service(&self) -> Arc<Mutex<Service>> {
        Arc::clone(&self.service)
    }
}
