//! API keys: high-entropy secrets shown once, stored only as a SHA-256 hash (a fast hash
//! is enough for 190-bit random keys, unlike passwords), compared in constant time.

use chrono::Utc;
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

use crate::domain::{Scope, Scopes};
use crate::error::{AppError, Result};
use crate::service::Caller;

const KEY_PREFIX: &str = "salve";
const PUBLIC_ID_LEN: usize = 10;
const SECRET_LEN: usize = 32;

/// A key as listed: never its secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub revoked_at: Option<chrono::DateTime<Utc>>,
}

/// A newly created key, with the secret that is shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub info: KeyInfo,
    pub secret: String,
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
        Err(AppError::bad_request(
            "key name must be 1-100 characters of letters, digits, '-', '_' or '.'",
        ))
    }
}

fn info(model: api_key::Model) -> KeyInfo {
    KeyInfo {
        name: model.name,
        prefix: model.prefix,
        scopes: model.scopes.split(',').map(str::to_owned).collect(),
        created_at: model.created_at,
        revoked_at: model.revoked_at,
    }
}

pub async fn create(db: &DatabaseConnection, name: &str, scopes: &[Scope]) -> Result<NewKey> {
    validate_name(name)?;
    if scopes.is_empty() {
        return Err(AppError::bad_request("at least one scope is required"));
    }
    let exists = api_key::Entity::find()
        .filter(api_key::Column::Name.eq(name))
        .one(db)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(format!(
            "a key named {name:?} already exists"
        )));
    }
    let public_id = random_alphanumeric(PUBLIC_ID_LEN);
    let prefix = format!("{KEY_PREFIX}_{public_id}");
    let secret = format!("{prefix}_{}", random_alphanumeric(SECRET_LEN));
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
        created_at: Set(crate::service::interchange::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewKey {
        info: info(model),
        secret,
    })
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<KeyInfo>> {
    Ok(api_key::Entity::find()
        .order_by_asc(api_key::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

pub async fn revoke(db: &DatabaseConnection, name: &str) -> Result<KeyInfo> {
    let model = api_key::Entity::find()
        .filter(api_key::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no key named {name:?}")))?;
    if model.revoked_at.is_some() {
        return Ok(info(model));
    }
    let mut active: api_key::ActiveModel = model.into();
    active.revoked_at = Set(Some(crate::service::interchange::now()));
    Ok(info(active.update(db).await?))
}

/// Resolves a presented bearer token to its caller. Unknown, malformed and revoked keys
/// are all 401, with the same message, so the response does not reveal which keys exist.
pub async fn authenticate(db: &DatabaseConnection, presented: &str) -> Result<Caller> {
    let invalid = || AppError::Unauthorized("the API key is not valid".into());
    let prefix = presented
        .rsplit_once('_')
        .map(|(prefix, _)| prefix)
        .filter(|p| p.len() == KEY_PREFIX.len() + 1 + PUBLIC_ID_LEN && p.starts_with(KEY_PREFIX))
        .ok_or_else(invalid)?;
    let model = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let matches: bool = hash(presented)
        .as_bytes()
        .ct_eq(model.key_hash.as_bytes())
        .into();
    if !matches || model.revoked_at.is_some() {
        return Err(invalid());
    }
    let granted = Scopes::parse_list(&model.scopes).map_err(AppError::internal_msg)?;
    Ok(Caller {
        key_name: Some(model.name),
        scopes: Scopes::from_granted(&granted),
    })
}
