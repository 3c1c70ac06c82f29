//! Resolves `Authorization: Bearer <key>` to a [`Caller`] before any handler runs, and
//! counts the request against the caller's rate limit: its key's, or its address's when
//! it has no valid key (so guessing keys is limited too). Over the limit: 429.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::domain::{ContentVersion, Scope};
use crate::error::AppError;
use crate::service::rate_limit::Decision;
use crate::service::{Caller, keys};
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::internal_msg("AppState missing".into()))?;
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .map(|value| value.to_str().map(str::to_owned));
            let token = match header {
                None => None,
                Some(Err(_)) => {
                    count_address(&req, &state)?;
                    return Err(AppError::Unauthorized(
                        "the Authorization header is not valid text".into(),
                    ));
                }
                Some(Ok(value)) => Some(value),
            };
            let Some(value) = token else {
                count_address(&req, &state)?;
                return read_version(&req, Caller::anonymous(state.public_read()));
            };
            let bearer = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty());
            let authenticated = match bearer {
                Some(token) => keys::authenticate(&state.db, &state.key_usage, token).await,
                None => Err(AppError::Unauthorized(
                    "use `Authorization: Bearer <api key>`".into(),
                )),
            };
            match authenticated {
                Ok((caller, limit)) => {
                    if !counted(&req) {
                        let decision =
                            state
                                .rate_limits
                                .check_key(limit.id, limit.class, limit.own);
                        settle(&req, decision)?;
                    }
                    read_version(&req, caller)
                }
                Err(error @ AppError::Unauthorized(_)) => {
                    count_address(&req, &state)?;
                    Err(error)
                }
                Err(other) => Err(other),
            }
        })
    }
}

/// `?version=published` reads what readers see, drafts aside, even with the `preview`
/// scope; `?version=draft` (the default for preview readers) needs that scope.
fn read_version(req: &HttpRequest, caller: Caller) -> Result<Caller, AppError> {
    let query = req.query_string();
    if !query.contains(ContentVersion::PARAM) {
        return Ok(caller);
    }
    let Some(text) = crate::api::params::version_param(query) else {
        return Ok(caller);
    };
    match ContentVersion::parse(&text) {
        Ok(ContentVersion::Published) => Ok(Caller {
            scopes: caller.scopes.without(Scope::Preview),
            ..caller
        }),
        Ok(ContentVersion::Draft) => {
            caller.require(Scope::Preview)?;
            Ok(caller)
        }
        Err(e) => Err(crate::domain::bad(ContentVersion::PARAM, e)),
    }
}

/// Whether this request was counted already (a handler may resolve its caller twice).
fn counted(req: &HttpRequest) -> bool {
    req.extensions().get::<Decision>().is_some()
}

/// Counts the request against its client address's limit.
fn count_address(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    if counted(req) {
        return Ok(());
    }
    let peer: Option<IpAddr> = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let decision = state.rate_limits.check_address(peer, &forwarded);
    settle(req, decision)
}

/// Keeps the decision for the response's `RateLimit` fields; refuses the request if over.
fn settle(req: &HttpRequest, decision: Decision) -> Result<(), AppError> {
    let refused = decision.retry_after_s;
    req.extensions_mut().insert(decision);
    match refused {
        Some(seconds) => Err(AppError::RateLimited(seconds)),
        None => Ok(()),
    }
}
