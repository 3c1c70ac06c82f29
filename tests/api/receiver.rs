//! A webhook receiver for the tests: records every delivery and answers as told (204, 500,
//! or not at all until the test ends).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
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
