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
            404,
            "not_found",
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
