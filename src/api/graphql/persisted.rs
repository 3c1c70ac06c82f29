//! Apollo-style automatic persisted queries: a client sends
//! `extensions.persistedQuery.sha256Hash` instead of the document; an unknown hash answers
//! `PERSISTED_QUERY_NOT_FOUND`, and the client retries with the document, which is
//! stored (shared by all instances through the database). In allow-list mode
//! (`--graphql-persisted-only`) only stored documents run, and only admin keys may
//! register new ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Error;

use super::GraphqlApi;
use super::errors::{code, coded};
use super::http::GraphqlRequest;
use crate::domain::Scope;
use crate::error::Result;
use crate::service::{Caller, persisted_queries};
use crate::startup::AppState;

/// Hashes this instance has seen, so hot persisted queries skip the database.
#[derive(Clone, Default)]
pub struct Memo(Arc<Mutex<HashMap<String, Arc<str>>>>);

const MEMO_CAPACITY: usize = 1024;

impl Memo {
    fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.0.lock().ok()?.get(hash).cloned()
    }

    fn put(&self, hash: String, document: Arc<str>) {
        if let Ok(mut memo) = self.0.lock() {
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(hash, document);
        }
    }
}

/// The `sha256Hash` of `extensions.persistedQuery`, when present.
fn requested_hash(request: &GraphqlRequest) -> std::result::Result<Option<String>, Error> {
    let Some(pq) = request
        .extensions
        .as_ref()
        .and_then(|e| e.get("persistedQuery"))
    else {
        return Ok(None);
    };
    if pq.get("version").and_then(|v| v.as_i64()) != Some(1) {
        return Err(coded(code::BAD_REQUEST, "persistedQuery.version must be 1"));
    }
    let hash = pq
        .get("sha256Hash")
        .and_then(|h| h.as_str())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            coded(
                code::BAD_REQUEST,
                "persistedQuery.sha256Hash must be 64 hex digits",
            )
        })?;
    Ok(Some(hash.to_ascii_lowercase()))
}

/// The document to run and whether it is persisted (exempt from the size limit).
/// The outer error is a transport failure, the inner one a GraphQL request error.
pub async fn resolve(
    state: &AppState,
    api: &GraphqlApi,
    caller: &Caller,
    request: &GraphqlRequest,
) -> Result<std::result::Result<(String, bool), Error>> {
    let hash = match requested_hash(request) {
        Ok(hash) => hash,
        Err(error) => return Ok(Err(error)),
    };
    let allow_list = api.settings.graphql_persisted_only;
    match (hash, &request.query) {
        (None, None) => Ok(Err(coded(code::BAD_REQUEST, "the request has no query"))),
        (None, Some(_)) if allow_list => Ok(Err(coded(
            code::PERSISTED_QUERY_ONLY,
            "this server runs persisted queries only: send extensions.persistedQuery",
        ))),
        (None, Some(query)) => Ok(Ok((query.clone(), false))),
        (Some(hash), None) => {
            if let Some(document) = api.memo.get(&hash) {
                return Ok(Ok((document.to_string(), true)));
            }
            match persisted_queries::find(&state.db, &hash).await? {
                Some(document) => {
                    api.memo.put(hash, Arc::from(document.as_str()));
                    Ok(Ok((document, true)))
                }
                None => Ok(Err(coded(
                    code::PERSISTED_QUERY_NOT_FOUND,
                    "PersistedQueryNotFound",
                ))),
            }
        }
        (Some(hash), Some(query)) => {
            if persisted_queries::hash(query) != hash {
                return Ok(Err(coded(
                    code::PERSISTED_QUERY_HASH_MISMATCH,
                    "sha256Hash is not the SHA-256 of the query",
                )));
            }
            if api.memo.get(&hash).is_none() {
                if allow_list && !caller.scopes.contains(Scope::Admin) {
                    if persisted_queries::find(&state.db, &hash).await?.is_none() {
                        return Ok(Err(coded(
                            code::PERSISTED_QUERY_ONLY,
                            "only admin keys may register new persisted queries",
                        )));
                    }
                } else {
                    persisted_queries::store(&state.db, query).await?;
                }
                api.memo.put(hash, Arc::from(query.as_str()));
            }
            Ok(Ok((query.clone(), true)))
        }
    }
}
