//! Requests the tests make: `TestApp` helpers for keys, JSON reads, GraphQL and ETags,
//! and `Call`, a request with a key, a precondition and a body.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::helpers::TestApp;

impl TestApp {
    /// A new API key with one scope.
    pub async fn key(&self, name: &str, scope: Scope) -> String {
        salve::service::keys::create(&self.db, name, &[scope], None)
            .await
            .unwrap()
            .secret
    }

    /// Keys for every scope, by scope name.
    pub async fn keys(&self) -> BTreeMap<&'static str, String> {
        let mut out = BTreeMap::new();
        for scope in Scope::ALL {
            out.insert(scope.as_str(), self.key(scope.as_str(), scope).await);
        }
        out
    }

    /// GETs `path`, which must answer 200, as JSON.
    pub async fn json(&self, path: &str) -> Value {
        self.json_as(None, path).await
    }

    /// GETs `path` as `key` (or anonymously), which must answer 200, as JSON.
    pub async fn json_as(&self, key: Option<&str>, path: &str) -> Value {
        let response = self.get_as(path, key).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// POSTs `body` to `/graphql`, with a key if given: (status, JSON response).
    pub async fn graphql_response(&self, key: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// POSTs `body` to `/graphql`, with a key if given: the JSON response.
    pub async fn graphql(&self, key: Option<&str>, body: &Value) -> Value {
        self.graphql_response(key, body).await.1
    }

    /// Runs a GraphQL document without variables.
    pub async fn query(&self, key: Option<&str>, document: &str) -> Value {
        self.graphql(key, &json!({ "query": document })).await
    }

    /// `method` on `path` as `key`, with `body` as JSON if given: (status, body).
    pub async fn call(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut call = Call::new(self, method, path).key(key);
        if let Some(body) = body {
            call = call.json(body);
        }
        let (status, _, body) = call.send().await;
        (status.as_u16(), body)
    }

    /// The current ETag of an item, as a preview reader sees it.
    pub async fn etag(&self, key: &str, path: &str) -> String {
        let response = self.get_with_key(path, key).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.headers()["etag"].to_str().unwrap().to_owned()
    }

    /// PATCHes `path` with `body` as `key`, with the item's current ETag: (status, body).
    pub async fn patch_current(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let tag = self.etag(key, path).await;
        let (status, _, body) = Call::new(self, Method::PATCH, path)
            .key(key)
            .if_match(&tag)
            .json(body)
            .send()
            .await;
        (status.as_u16(), body)
    }

    /// PATCHes the published item at `path` and publishes the draft the edit made, so
    /// readers see it: (status, body) of the first step that failed, else the publication's.
    pub async fn patch_live(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let (status, body) = self.patch_current(key, path, body).await;
        if status != 200 {
            return (status, body);
        }
        self.publish_current(key, path).await
    }

    /// POSTs `publish` for the item at `path` with its current ETag: (status, body).
    pub async fn publish_current(&self, key: &str, path: &str) -> (u16, Value) {
        self.step_current(key, path, "publish").await
    }

    /// POSTs a workflow step (or `discard`) for the item at `path` with its current ETag:
    /// (status, body).
    pub async fn step_current(&self, key: &str, path: &str, step: &str) -> (u16, Value) {
        let tag = self.etag(key, path).await;
        let (status, _, body) = Call::new(self, Method::POST, format!("{path}/{step}"))
            .key(key)
            .if_match(&tag)
            .send()
            .await;
        (status.as_u16(), body)
    }

    /// PUTs the link set at `path` (`…/{slug}/{relation}`) as `key`, with its item's
    /// current ETag: (status, body).
    pub async fn put_links(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let item = path.rsplit_once('/').map_or(path, |(item, _)| item);
        let tag = self.etag(key, item).await;
        let (status, _, body) = Call::new(self, Method::PUT, path)
            .key(key)
            .if_match(&tag)
            .json(body)
            .send()
            .await;
        (status.as_u16(), body)
    }
}

pub struct Call<'a> {
    pub app: &'a TestApp,
    pub method: Method,
    pub path: String,
    pub key: Option<&'a str>,
    pub if_match: Option<String>,
    pub body: Option<Value>,
}

impl<'a> Call<'a> {
    pub fn new(app: &'a TestApp, method: Method, path: impl Into<String>) -> Self {
        Self {
            app,
            method,
            path: path.into(),
            key: None,
            if_match: None,
            body: None,
        }
    }

    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    pub fn if_match(mut self, etag: &str) -> Self {
        self.if_match = Some(etag.to_owned());
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub async fn send(self) -> (StatusCode, Option<String>, Value) {
        let mut request = self
            .app
            .client
            .request(self.method, format!("{}{}", self.app.address, self.path));
        if let Some(key) = self.key {
            request = request.bearer_auth(key);
        }
        if let Some(etag) = self.if_match {
            request = request.header("if-match", etag);
        }
        if let Some(body) = self.body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, etag, body)
    }
}

/// The JSON pointers of a validation problem's `errors`, in order.
pub fn pointers(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["pointer"].as_str())
                .collect()
        })
        .unwrap_or_default()
}
