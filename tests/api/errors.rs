use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, spawn_app};

async fn every_error_is_problem_json(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let cases: Vec<(reqwest::Method, &str, u16, &str)> = vec![
        (reqwest::Method::GET, "/no/such/route", 404, "not_found"),
        (reqwest::Method::GET, "/v1/unicorns/x", 404, "not_found"),
        (
            reqwest::Method::GET,
            "/v1/techniques/no-such-technique",
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/v1/techniques/NOT%20A%20SLUG",
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/v1/techniques/%00%27%22",
            400,
            "invalid_parameter",
        ),
        (reqwest::Method::POST, "/healthz", 405, "method_not_allowed"),
        (
            reqwest::Method::DELETE,
            "/readyz",
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::PUT,
            "/v1/techniques/foam-rolling",
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "{method} {path}");
        assert!(body["type"].as_str().unwrap().ends_with(code));
        assert!(body["title"].is_string() && body["detail"].is_string());
    }
}

async fn malformed_authorization_is_401(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    for header in [
        "Basic abc",
        "Bearer ",
        "Bearer salve_nope",
        "Bearer salve_0123456789_secret",
    ] {
        let response = app
            .client
            .get(format!("{}/v1/techniques/foam-rolling", app.address))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
}

engine_tests!(every_error_is_problem_json, malformed_authorization_is_401);

mod cors_and_limits {
    use super::*;

    async fn cors_preflight_is_answered_for_storefronts(engine: Engine) {
        let (app, _db) = spawn_app(engine).await;
        let preflight = app.preflight("https://shop.example", "GET").await;
        assert_eq!(preflight.status(), 200);
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            "https://shop.example"
        );
        assert!(
            !preflight
                .headers()
                .contains_key("access-control-allow-credentials")
        );
        let read = app
            .client
            .get(format!("{}/v1/techniques/foam-rolling", app.address))
            .header("origin", "https://shop.example")
            .send()
            .await
            .unwrap();
        assert_eq!(
            read.headers()["access-control-allow-origin"],
            "https://shop.example"
        );
        assert!(
            read.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("etag")
        );
    }

    async fn cors_can_be_limited_to_configured_origins(engine: Engine) {
        let db = crate::helpers::TestDb::new(engine).await;
        let mut config = crate::helpers::settings(&db.url);
        config.serve.cors_origins = "https://shop.example".into();
        let app = crate::helpers::TestApp::spawn(config).await;
        let foreign = app.preflight("https://elsewhere.example", "GET").await;
        assert!(
            !foreign
                .headers()
                .contains_key("access-control-allow-origin")
        );
        let write = app.preflight("https://shop.example", "DELETE").await;
        assert!(
            !write.status().is_success(),
            "only reads are allowed cross-origin"
        );
    }

    async fn overlong_query_strings_get_414(engine: Engine) {
        let (app, _db) = spawn_app(engine).await;
        let response = app
            .get(&format!("/v1/techniques?q={}", "a".repeat(5000)))
            .await;
        assert_eq!(response.status(), 414);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "uri_too_long");
    }

    engine_tests!(
        cors_preflight_is_answered_for_storefronts,
        cors_can_be_limited_to_configured_origins,
        overlong_query_strings_get_414,
    );
}
