//! A webhook receiver for the tests, which records every delivery and answers as told
//! (204, 500, or not at all until the test ends), and what the webhook tests share.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use serde_json::json;

use crate::helpers::{Engine, TestApp, TestDb, settings};
use crate::requests::Call;
use sha2::Sha256;

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Checks the signature the way the Standard Webhooks specification describes,
    /// computed here independently of the server's code: one of the space-separated
    /// `v1,<base64>` entries is the HMAC-SHA256 of `id.timestamp.body` under the key.
    pub fn signed_by(&self, secret: &str) -> bool {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.body);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        self.signature
            .split(' ')
            .any(|entry| entry == format!("v1,{expected}"))
    }
}

pub const ACCEPT: u8 = 0;
pub const FAIL: u8 = 1;
pub const HANG: u8 = 2;

#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    pub log: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let mode = Arc::new(AtomicU8::new(ACCEPT));
        let (shared_log, shared_mode) = (log.clone(), mode.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (log, mode) = (shared_log.clone(), shared_mode.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (log, mode) = (log.clone(), mode.clone());
                async move { receive(req, body, log, mode).await }
            }))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            log,
            mode,
        }
    }

    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// The accepted deliveries, once there are at least `count` (or panics after `wait`).
    pub async fn accepted(&self, count: usize, wait: Duration) -> Vec<Received> {
        let started = std::time::Instant::now();
        loop {
            let accepted: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.answered == 204)
                .collect();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                started.elapsed() < wait,
                "{} of {count} deliveries accepted after {wait:?}: {:?}",
                accepted.len(),
                self.received()
                    .iter()
                    .map(|r| (r.answered, r.json()["type"].clone()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    log: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let mode = mode.load(Ordering::SeqCst);
    let answered = match mode {
        ACCEPT => 204,
        FAIL => 500,
        _ => 0,
    };
    log.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        answered,
    });
    if mode == HANG {
        tokio::time::sleep(Duration::from_secs(120)).await;
    }
    match answered {
        204 => HttpResponse::NoContent().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

pub const WAIT: Duration = Duration::from_secs(15);
pub const ALL_ITEM_EVENTS: [&str; 10] = [
    "item.created",
    "item.updated",
    "draft.updated",
    "draft.discarded",
    "item.submitted",
    "item.published",
    "item.unpublished",
    "item.archived",
    "item.deleted",
    "review.recorded",
];

/// A server that may deliver to the local receiver, retrying after 100 ms for `retry_for`.
pub async fn spawn(engine: Engine, retry_for: &str) -> (TestApp, TestDb) {
    let db = TestDb::new(engine).await;
    let mut settings = settings(&db.url);
    let hooks = &mut settings.serve.webhooks;
    hooks.webhook_allow_http = true;
    hooks.webhook_allow_private = true;
    hooks.webhook_retry_first_ms = 100;
    hooks.webhook_timeout_s = 5;
    hooks.webhook_retry_for = retry_for.to_owned();
    (TestApp::spawn(settings).await, db)
}

pub async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = Call::new(app, method, path).key(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    let (status, etag, body) = request.send().await;
    (status.as_u16(), etag, body)
}

/// Registers an endpoint for `events`: (id, secret).
pub async fn register(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> (String, String) {
    let body = json!({ "url": url, "events": events });
    let (status, _, created) = call(app, admin, Method::POST, "/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let data = &created["data"];
    (
        data["id"].as_str().unwrap().to_owned(),
        data["secret"].as_str().unwrap().to_owned(),
    )
}

/// Creates a draft technique linked to the demo's `released-knots`, then publishes it.
pub async fn create_and_publish(app: &TestApp, key: &str, slug: &str) {
    let body = json!({
        "slug": slug, "name": format!("Technique {slug}"), "kind": "self",
        "pressure": "light", "summary": "A test technique.", "benefits": ["released-knots"],
    });
    let (status, etag, created) = call(app, key, Method::POST, "/v1/techniques", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, published) =
        Call::new(app, Method::POST, format!("/v1/techniques/{slug}/publish"))
            .key(key)
            .if_match(&etag.unwrap())
            .send()
            .await;
    assert_eq!(status, 200, "{published}");
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
