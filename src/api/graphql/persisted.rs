//! Apollo-style automatic persisted queries: a client sends
//! `extensions.persistedQuery.sha256Hash` instead of the document; an unknown hash answers
//! `PERSISTED_QUERY_NOT_FOUND`, and the client retries with the document, which is
//! stored once it has passed every limit (shared by all instances through the database,
//! within a quota, least recently used dropped first) when the caller may register
//! (`--graphql-apq-register`). In allow-list mode (`--graphql-persisted-only`) only stored
//! documents run, and only admin keys may register new ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Error;

use super::GraphqlApi;
use super::errors::coded;
use super::http::GraphqlRequest;
use crate::config::ApqRegister;
use crate::domain::Scope;
use crate::error::Result;
use crate::error::codes;
use crate::service::{Caller, persisted_queries};
use crate::state::AppState;

/// Hashes this instance has seen, so hot persisted queries skip the database; each with
/// when this instance last told the database it was used.
#[derive(Clone, Default)]
pub struct Memo(Arc<Mutex<HashMap<String, Remembered>>>);

/// A document, and when its use was last written to the database.
type Remembered = (Arc<str>, Instant);

const MEMO_CAPACITY: usize = 1024;

/// How often a document served from the memo refreshes its last use in the database (the
/// quota drops the least recently used first).
const TOUCH_EVERY: Duration = Duration::from_secs(600);

impl Memo {
    /// The document, and whether its last use should be written to the database now.
    fn get(&self, hash: &str) -> Option<(Arc<str>, bool)> {
        let mut memo = self.0.lock().ok()?;
        let (document, touched) = memo.get_mut(hash)?;
        let stale = touched.elapsed() >= TOUCH_EVERY;
        if stale {
            *touched = Instant::now();
        }
        Some((document.clone(), stale))
    }

    fn put(&self, hash: String, document: Arc<str>) {
        if let Ok(mut memo) = self.0.lock() {
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(hash, (document, Instant::now()));
        }
    }
}

/// The document a request runs, and the hash to store it under once it has passed every
/// limit (a registration the caller may make).
pub struct Resolved {
    pub document: String,
    pub register: Option<String>,
}

impl Resolved {
    fn run(document: String) -> Self {
        Self {
            document,
            register: None,
        }
    }
}

/// Whether `caller` may register new documents.
fn may_register(state: &AppState, api: &GraphqlApi, caller: &Caller) -> bool {
    let settings = &api.settings;
    if settings.graphql_persisted_only {
        return caller.scopes.contains(Scope::Admin)
            && settings.graphql_apq_register != Some(ApqRegister::None);
    }
    let mode = settings
        .graphql_apq_register
        .unwrap_or(if state.settings.serve.no_public_read {
            ApqRegister::Keys
        } else {
            ApqRegister::Anyone
        });
    match mode {
        ApqRegister::Anyone => true,
        ApqRegister::Keys => caller.key_name.is_some(),
        ApqRegister::None => false,
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
        return Err(coded(
            &codes::BAD_REQUEST,
            "persistedQuery.version must be 1",
        ));
    }
    let hash = pq
        .get("sha256Hash")
        .and_then(|h| h.as_str())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            coded(
                &codes::BAD_REQUEST,
                "persistedQuery.sha256Hash must be 64 hex digits",
            )
        })?;
    Ok(Some(hash.to_ascii_lowercase()))
}

/// The document to run. The outer error is a transport failure, the inner one a GraphQL
/// request error.
pub async fn resolve(
    state: &AppState,
    api: &GraphqlApi,
    caller: &Caller,
    request: &GraphqlRequest,
) -> Result<std::result::Result<Resolved, Error>> {
    let hash = match requested_hash(request) {
        Ok(hash) => hash,
        Err(error) => return Ok(Err(error)),
    };
    let allow_list = api.settings.graphql_persisted_only;
    match (hash, &request.query) {
        (None, None) => Ok(Err(coded(&codes::BAD_REQUEST, "the request has no query"))),
        (None, Some(_)) if allow_list => Ok(Err(coded(
            &codes::PERSISTED_QUERY_ONLY,
            "this server runs persisted queries only: send extensions.persistedQuery",
        ))),
        (None, Some(query)) => Ok(Ok(Resolved::run(query.clone()))),
        (Some(hash), None) => match stored(state, api, &hash).await? {
            Some(document) => Ok(Ok(Resolved::run(document))),
            None => Ok(Err(coded(
                &codes::PERSISTED_QUERY_NOT_FOUND,
                "PersistedQueryNotFound",
            ))),
        },
        (Some(hash), Some(query)) => {
            if persisted_queries::hash(query) != hash {
                return Ok(Err(coded(
                    &codes::PERSISTED_QUERY_HASH_MISMATCH,
                    "sha256Hash is not the SHA-256 of the query",
                )));
            }
            if stored(state, api, &hash).await?.is_some() {
                return Ok(Ok(Resolved::run(query.clone())));
            }
            if may_register(state, api, caller) {
                return Ok(Ok(Resolved {
                    document: query.clone(),
                    register: Some(hash),
                }));
            }
            if allow_list {
                return Ok(Err(coded(
                    &codes::PERSISTED_QUERY_ONLY,
                    "only admin keys may register new persisted queries",
                )));
            }
            Ok(Ok(Resolved::run(query.clone())))
        }
    }
}

/// A stored document by hash: from the memo, else from the database (noting its use).
async fn stored(state: &AppState, api: &GraphqlApi, hash: &str) -> Result<Option<String>> {
    if let Some((document, touch)) = api.memo.get(hash) {
        if touch {
            persisted_queries::touch(&state.db, hash).await?;
        }
        return Ok(Some(document.to_string()));
    }
    let found = persisted_queries::find(&state.db, hash).await?;
    if let Some(document) = &found {
        api.memo.put(hash.to_owned(), Arc::from(document.as_str()));
    }
    Ok(found)
}

/// Stores a document that passed every limit, keeping the store within its quota.
pub async fn register(
    state: &AppState,
    api: &GraphqlApi,
    hash: String,
    document: &str,
) -> Result<()> {
    persisted_queries::store(&state.db, document, api.settings.graphql_apq_max_bytes).await?;
    api.memo.put(hash, Arc::from(document));
    Ok(())
}
