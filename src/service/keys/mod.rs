//! API keys: high-entropy secrets shown once, stored only as a SHA-256 hash (a fast hash
//! is enough for 190-bit random keys, unlike passwords), compared in constant time. A key
//! may expire; rotating it issues a new secret while the one it replaces stays valid for
//! an overlap window; when each was last used is recorded in batches ([`KeyUsage`]).

use chrono::{DateTime, Utc};
use entity::api_key;
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::domain::key_lifetime::{Overlap, check_expiry};
use crate::domain::rate_limit::{RateClass, RateQuota};
use crate::domain::{Scope, Scopes};
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::interchange::now;

mod admin;
mod usage;

pub use admin::KeyAdmin;
pub use usage::KeyUsage;

const KEY_PREFIX: &str = "salve";
const PUBLIC_ID_LEN: usize = 10;
const SECRET_LEN: usize = 32;
/// A hash no secret has: what a key that does not exist is compared against.
const NO_SECRET: &str = "----------------------------------------------------------------";
/// The length of every key this server issues (`salve_<id>_<secret>`).
const KEY_LEN: usize = KEY_PREFIX.len() + 1 + PUBLIC_ID_LEN + 1 + SECRET_LEN;

/// A key as listed: never its secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the secret the last rotation replaced is still accepted (null once past).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key's own rate limit (`N/<seconds>s`); null: its class's.
    pub rate_limit: Option<String>,
}

/// A newly created (or rotated) key, with the secret that is shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub info: KeyInfo,
    pub secret: String,
}

/// What may change on an existing key.
#[derive(Debug, Clone, Default)]
pub struct KeyChange {
    /// `Some(None)` removes the expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// `Some(None)` returns the key to its class's limit.
    pub rate_limit: Option<Option<RateQuota>>,
}

/// What the rate limiter needs to know of an authenticated key.
#[derive(Debug, Clone, Copy)]
pub struct KeyLimit {
    pub id: Uuid,
    pub class: RateClass,
    pub own: Option<RateQuota>,
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            "/name",
            "key name must be 1-100 characters of letters, digits, '-', '_' or '.'",
        ))
    }
}

fn info(model: api_key::Model, usage: &KeyUsage) -> KeyInfo {
    let at = now();
    let status = match (model.revoked_at, model.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(expiry)) if expiry <= at => "expired",
        _ => "active",
    };
    let last_used_at = match (model.last_used_at, usage.pending(model.id)) {
        (Some(stored), Some(pending)) => Some(stored.max(pending)),
        (stored, pending) => stored.or(pending),
    };
    KeyInfo {
        name: model.name,
        prefix: model.prefix,
        scopes: model.scopes.split(',').map(str::to_owned).collect(),
        status,
        created_at: model.created_at,
        expires_at: model.expires_at,
        last_used_at,
        rotated_at: model.rotated_at,
        previous_secret_expires_at: model
            .previous_hash
            .and(model.previous_expires_at)
            .filter(|until| *until > at),
        revoked_at: model.revoked_at,
        rate_limit: model.rate_limit,
    }
}

/// A new secret for the key with this public prefix.
fn secret(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(SECRET_LEN))
}

pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
) -> Result<NewKey> {
    create_limited(db, name, scopes, expires_at, None).await
}

/// [`create`], with the key's own rate limit.
pub async fn create_limited(
    db: &DatabaseConnection,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    rate_limit: Option<RateQuota>,
) -> Result<NewKey> {
    validate_name(name)?;
    if scopes.is_empty() {
        return Err(AppError::invalid_field(
            "/scopes",
            "at least one scope is required",
        ));
    }
    let created_at = now();
    if let Some(expiry) = expires_at {
        check_expiry(expiry, created_at).map_err(|e| AppError::invalid_field("/expires_at", e))?;
    }
    if find(db, name).await.is_ok() {
        return Err(AppError::Conflict(format!(
            "a key named {name:?} already exists"
        )));
    }
    let prefix = format!("{KEY_PREFIX}_{}", random_alphanumeric(PUBLIC_ID_LEN));
    let secret = secret(&prefix);
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        prefix: Set(prefix),
        key_hash: Set(hash(&secret)),
        scopes: Set(scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")),
        created_at: Set(created_at),
        revoked_at: Set(None),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        rotated_at: Set(None),
        previous_hash: Set(None),
        previous_expires_at: Set(None),
        rate_limit: Set(rate_limit.map(|q| q.to_string())),
    }
    .insert(db)
    .await?;
    Ok(NewKey {
        info: info(model, &KeyUsage::default()),
        secret,
    })
}

async fn find(db: &DatabaseConnection, name: &str) -> Result<api_key::Model> {
    api_key::Entity::find()
        .filter(api_key::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no key named {name:?}")))
}

pub async fn list(db: &DatabaseConnection, usage: &KeyUsage) -> Result<Vec<KeyInfo>> {
    Ok(api_key::Entity::find()
        .order_by_asc(api_key::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|model| info(model, usage))
        .collect())
}

pub async fn get(db: &DatabaseConnection, usage: &KeyUsage, name: &str) -> Result<KeyInfo> {
    Ok(info(find(db, name).await?, usage))
}

/// Changes a key's expiry or rate limit (a revoked key cannot change).
pub async fn update(
    db: &DatabaseConnection,
    usage: &KeyUsage,
    name: &str,
    change: &KeyChange,
) -> Result<KeyInfo> {
    let model = live(db, name).await?;
    let mut active: api_key::ActiveModel = model.into();
    if let Some(expires_at) = change.expires_at {
        if let Some(expiry) = expires_at {
            check_expiry(expiry, now()).map_err(|e| AppError::invalid_field("/expires_at", e))?;
        }
        active.expires_at = Set(expires_at);
    }
    if let Some(rate_limit) = change.rate_limit {
        active.rate_limit = Set(rate_limit.map(|q| q.to_string()));
    }
    Ok(info(active.update(db).await?, usage))
}

/// A new secret for the key; the one it replaces is accepted until `overlap` has passed
/// (a secret replaced earlier stops working at once). The scopes, expiry and name stay.
pub async fn rotate(
    db: &DatabaseConnection,
    usage: &KeyUsage,
    name: &str,
    overlap: Overlap,
) -> Result<NewKey> {
    let model = live(db, name).await?;
    let at = now();
    if model.expires_at.is_some_and(|expiry| expiry <= at) {
        return Err(AppError::Conflict(format!(
            "the key {name:?} has expired; create a new one"
        )));
    }
    let secret = secret(&model.prefix);
    let replaced = model.key_hash.clone();
    let mut active: api_key::ActiveModel = model.into();
    active.key_hash = Set(hash(&secret));
    active.rotated_at = Set(Some(at));
    active.previous_hash = Set(Some(replaced));
    active.previous_expires_at = Set(Some(overlap.after(at)));
    Ok(NewKey {
        info: info(active.update(db).await?, usage),
        secret,
    })
}

/// The key, unless revoked (409: a revoked key stays revoked).
async fn live(db: &DatabaseConnection, name: &str) -> Result<api_key::Model> {
    let model = find(db, name).await?;
    if model.revoked_at.is_some() {
        return Err(AppError::Conflict(format!(
            "the key {name:?} is revoked; create a new one"
        )));
    }
    Ok(model)
}

pub async fn revoke(db: &DatabaseConnection, usage: &KeyUsage, name: &str) -> Result<KeyInfo> {
    let model = find(db, name).await?;
    if model.revoked_at.is_some() {
        return Ok(info(model, usage));
    }
    let mut active: api_key::ActiveModel = model.into();
    active.revoked_at = Set(Some(now()));
    active.previous_hash = Set(None);
    active.previous_expires_at = Set(None);
    Ok(info(active.update(db).await?, usage))
}

/// Resolves a presented bearer token to its caller. Unknown, malformed, expired and
/// revoked keys are all 401 with the same message, and every well-formed token costs the
/// same hashing and comparisons whether or not its prefix exists, so neither the response
/// nor its timing tells which keys exist.
pub async fn authenticate(
    db: &DatabaseConnection,
    usage: &KeyUsage,
    presented: &str,
) -> Result<(Caller, KeyLimit)> {
    let invalid = || AppError::Unauthorized("the API key is not valid".into());
    // Checked before anything else: the format alone decides, never the database.
    if presented.len() != KEY_LEN {
        return Err(invalid());
    }
    let prefix = presented
        .rsplit_once('_')
        .map(|(prefix, _)| prefix)
        .filter(|p| p.len() == KEY_PREFIX.len() + 1 + PUBLIC_ID_LEN && p.starts_with(KEY_PREFIX))
        .ok_or_else(invalid)?;
    let model = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?;
    let presented_hash = hash(presented);
    let at = now();
    let (current, previous, previous_until) = match &model {
        Some(m) => (
            m.key_hash.as_str(),
            m.previous_hash.as_deref().unwrap_or(NO_SECRET),
            m.previous_expires_at,
        ),
        None => (NO_SECRET, NO_SECRET, None),
    };
    let is_current: bool = presented_hash.as_bytes().ct_eq(current.as_bytes()).into();
    let is_previous: bool = presented_hash.as_bytes().ct_eq(previous.as_bytes()).into();
    let model = model.ok_or_else(invalid)?;
    let accepted = is_current || (is_previous && previous_until.is_some_and(|until| until > at));
    let expired = model.expires_at.is_some_and(|expiry| expiry <= at);
    if !accepted || expired || model.revoked_at.is_some() {
        return Err(invalid());
    }
    usage.record(model.id, at);
    let granted = Scopes::parse_list(&model.scopes).map_err(AppError::internal_msg)?;
    let limit = KeyLimit {
        id: model.id,
        class: RateClass::of_key(&granted),
        own: model
            .rate_limit
            .as_deref()
            .map(RateQuota::parse)
            .transpose()
            .map_err(AppError::internal_msg)?,
    };
    let caller = Caller {
        key_name: Some(model.name),
        scopes: Scopes::from_granted(&granted),
    };
    Ok((caller, limit))
}
