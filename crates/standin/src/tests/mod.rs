//! Tests of the Zendesk stand-in over real HTTP with plain reqwest, one file per area; this
//! file holds the small client they share.

mod auth_users;
mod faults;
mod oauth;
mod persist;
mod shape;
mod ticket_fields;
mod tickets;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{StandIn, StandInConfig};

pub(super) async fn start() -> StandIn {
    StandIn::start(0, StandInConfig::default()).await.unwrap()
}

pub(super) fn basic(email: &str, token: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{email}/token:{token}"))
    )
}

/// A response reduced to what the tests look at.
#[derive(Debug)]
pub(super) struct Got {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) text: String,
    pub(super) json: Value,
}

impl Got {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client authenticated as the configured agent (or with whatever `auth` says).
pub(super) struct Api {
    pub(super) base: String,
    pub(super) client: reqwest::Client,
    pub(super) auth: Option<String>,
}

impl Api {
    pub(super) fn new(standin: &StandIn) -> Self {
        let config = StandInConfig::default();
        Self {
            base: standin.url(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("scenarist-tests/1")
                .build()
                .unwrap(),
            auth: Some(basic(&config.email, &config.api_token)),
        }
    }

    pub(super) fn with_auth(mut self, auth: Option<&str>) -> Self {
        self.auth = auth.map(str::to_owned);
        self
    }

    pub(super) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(auth) = &self.auth {
            builder = builder.header("authorization", auth);
        }
        builder
    }

    pub(super) async fn send(&self, builder: reqwest::RequestBuilder) -> Got {
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Got {
            status,
            headers,
            text,
            json,
        }
    }

    pub(super) async fn get(&self, path: &str) -> Got {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub(super) async fn post(&self, path: &str, body: &Value) -> Got {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub(super) async fn put(&self, path: &str, body: &Value) -> Got {
        self.send(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    /// Creates a ticket with one public comment; returns its id.
    pub(super) async fn ticket(&self, body: &str, external_id: Option<&str>) -> u64 {
        let got = self
            .post(
                "/api/v2/tickets.json",
                &json!({"ticket": {"subject": "Chat", "comment": {"body": body}, "external_id": external_id}}),
            )
            .await;
        assert_eq!(got.status, 201, "{}", got.text);
        got.json["ticket"]["id"].as_u64().unwrap()
    }
}
