//! Rate limits: per key (its scope's quota or its own), per client address without one
//! (behind trusted proxies, by `X-Forwarded-For`), cached reads and GraphQL included, with
//! the `RateLimit` fields and 429 + `Retry-After` over the limit.

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings};
use crate::requests::Call;

const READ: &str = "/v1/techniques/foam-rolling";

fn field(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn get(app: &TestApp, key: Option<&str>, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{READ}", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(hop) = forwarded_for {
        request = request.header("x-forwarded-for", hop);
    }
    request.send().await.unwrap()
}

async fn limited_app(engine: Engine, anonymous: &str, trusted: &str) -> (TestApp, TestDb) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.rate_limit_anonymous = anonymous.into();
    config.serve.trusted_proxies = trusted.into();
    (TestApp::spawn(config).await, db)
}

async fn a_key_with_its_own_quota_is_refused_past_it(engine: Engine) {
    let (app, _db) = limited_app(engine, "1000/1s", "").await;
    let admin = app.key("root", Scope::Admin).await;
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/keys")
        .key(&admin)
        .json(json!({ "name": "shop", "scopes": ["read"], "rate_limit": "3/1m" }))
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["rate_limit"], "3/60s");
    let key = created["data"]["key"].as_str().unwrap().to_owned();
    for remaining in [2, 1, 0] {
        let response = get(&app, Some(&key), None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(field(&response, "ratelimit-policy"), "\"key\";q=3;w=60");
        assert!(
            field(&response, "ratelimit").starts_with(&format!("\"key\";r={remaining};t=")),
            "{}",
            field(&response, "ratelimit")
        );
    }
    let refused = get(&app, Some(&key), None).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = field(&refused, "retry-after").parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert!(field(&refused, "ratelimit").starts_with("\"key\";r=0;"));
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited", "{problem}");

    // The same key over GraphQL is the same caller.
    let (status, _) = app
        .graphql_response(
            Some(&key),
            &json!({ "query": "{ techniques(first: 1) { nodes { slug } } }" }),
        )
        .await;
    assert_eq!(status, 429);

    // Other keys keep their scope's quota; removing the key's own brings it back to its
    // scope's (a fresh state under another policy).
    let response = get(&app, Some(&admin), None).await;
    assert_eq!(
        field(&response, "ratelimit-policy"),
        "\"admin\";q=100000;w=10"
    );
    let (status, _, body) = Call::new(&app, Method::PATCH, "/v1/keys/shop")
        .key(&admin)
        .json(json!({ "rate_limit": null }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let response = get(&app, Some(&key), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        field(&response, "ratelimit-policy"),
        "\"read\";q=1000000;w=10"
    );

    for bad in [json!("0/1m"), json!("600"), json!("600/2d"), json!(600)] {
        let (status, _, problem) = Call::new(&app, Method::PATCH, "/v1/keys/shop")
            .key(&admin)
            .json(json!({ "rate_limit": bad }))
            .send()
            .await;
        assert_eq!(status, 422, "{bad}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/rate_limit");
    }
}

async fn anonymous_callers_are_limited_by_address_even_on_cached_reads(engine: Engine) {
    let (app, _db) = limited_app(engine, "4/1m", "").await;
    for _ in 0..4 {
        let response = get(&app, None, Some("203.0.113.1")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            field(&response, "ratelimit-policy"),
            "\"anonymous\";q=4;w=60"
        );
    }
    // The peer is not a trusted proxy: its X-Forwarded-For is not believed.
    let refused = get(&app, None, Some("198.51.100.7")).await;
    assert_eq!(refused.status(), 429);
    // Guessing keys counts against the address too.
    assert_eq!(get(&app, Some("salve_guess"), None).await.status(), 429);
    // Health checks are never limited.
    assert_eq!(app.get("/readyz").await.status(), 200);
}

async fn behind_trusted_proxies_each_forwarded_client_has_its_quota(engine: Engine) {
    let (app, _db) = limited_app(engine, "2/1m", "127.0.0.1/32").await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            assert_eq!(
                get(&app, None, Some(client)).await.status(),
                200,
                "{client}"
            );
        }
        assert_eq!(
            get(&app, None, Some(client)).await.status(),
            429,
            "{client}"
        );
    }
    // A client cannot pose as a fresh one by prepending addresses: the rightmost wins.
    let posing = get(&app, None, Some("192.0.2.50, 203.0.113.1")).await;
    assert_eq!(posing.status(), 429);
    // IPv6 clients are counted by their /64.
    assert_eq!(get(&app, None, Some("2001:db8:1:2::1")).await.status(), 200);
    assert_eq!(
        get(&app, None, Some("2001:db8:1:2::ffff")).await.status(),
        200
    );
    assert_eq!(
        get(&app, None, Some("2001:db8:1:2:aaaa::9")).await.status(),
        429
    );
}

async fn invalid_limits_stop_the_server_from_starting(engine: Engine) {
    let db = TestDb::new(engine).await;
    for (flag, value) in [
        ("read", "lots"),
        ("anonymous", "0/1s"),
        ("proxies", "10.0.0.0/40"),
    ] {
        let mut config = settings(&db.url);
        match flag {
            "read" => config.serve.rate_limit_read = value.into(),
            "anonymous" => config.serve.rate_limit_anonymous = value.into(),
            _ => config.serve.trusted_proxies = value.into(),
        }
        let error = match salve::startup::Application::build(config).await {
            Ok(_) => panic!("{flag}={value} was accepted"),
            Err(error) => error.to_string(),
        };
        assert!(error.contains(flag), "{flag}: {error}");
    }
}

engine_tests!(
    a_key_with_its_own_quota_is_refused_past_it,
    anonymous_callers_are_limited_by_address_even_on_cached_reads,
    behind_trusted_proxies_each_forwarded_client_has_its_quota,
    invalid_limits_stop_the_server_from_starting,
);
