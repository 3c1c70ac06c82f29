//! Key administration as every surface offers it (REST, GraphQL, the CLI): each change
//! is made and recorded in the audit log the same way.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::{Value as Json, json};

use super::{KeyChange, KeyInfo, KeyUsage, NewKey};
use crate::domain::Scope;
use crate::domain::key_lifetime::Overlap;
use crate::domain::rate_limit::RateQuota;
use crate::error::Result;
use crate::service::Caller;
use crate::service::editing::audit;

/// Who changes keys: a caller with the `admin` scope and its request, or the command line.
pub struct KeyAdmin<'a> {
    db: &'a DatabaseConnection,
    usage: &'a KeyUsage,
    /// The caller's key name; `None` for the command line.
    actor: Option<&'a str>,
    request_id: Option<&'a str>,
}

impl<'a> KeyAdmin<'a> {
    /// An API caller's administration: 401/403 unless it has the `admin` scope.
    pub fn for_caller(
        db: &'a DatabaseConnection,
        usage: &'a KeyUsage,
        caller: &'a Caller,
        request_id: Option<&'a str>,
    ) -> Result<Self> {
        caller.require(Scope::Admin)?;
        Ok(Self {
            db,
            usage,
            actor: caller.key_name.as_deref(),
            request_id,
        })
    }

    /// The command line's administration (audited as `via: cli`).
    pub fn cli(db: &'a DatabaseConnection, usage: &'a KeyUsage) -> Self {
        Self {
            db,
            usage,
            actor: None,
            request_id: None,
        }
    }

    pub async fn list(&self) -> Result<Vec<KeyInfo>> {
        super::list(self.db, self.usage).await
    }

    pub async fn get(&self, name: &str) -> Result<KeyInfo> {
        super::get(self.db, self.usage, name).await
    }

    pub async fn create(
        &self,
        name: &str,
        scopes: &[Scope],
        expires_at: Option<DateTime<Utc>>,
        rate_limit: Option<RateQuota>,
    ) -> Result<NewKey> {
        let created = super::create_limited(self.db, name, scopes, expires_at, rate_limit).await?;
        let detail = json!({
            "scopes": created.info.scopes,
            "expires_at": expires_at,
            "rate_limit": created.info.rate_limit,
        });
        self.record("key.create", name, detail).await?;
        Ok(created)
    }

    pub async fn update(&self, name: &str, change: &KeyChange) -> Result<KeyInfo> {
        let updated = super::update(self.db, self.usage, name, change).await?;
        let detail = json!({ "expires_at": updated.expires_at, "rate_limit": updated.rate_limit });
        self.record("key.update", name, detail).await?;
        Ok(updated)
    }

    pub async fn rotate(&self, name: &str, overlap: Overlap) -> Result<NewKey> {
        let rotated = super::rotate(self.db, self.usage, name, overlap).await?;
        let detail = json!({ "overlap_seconds": overlap.seconds() });
        self.record("key.rotate", name, detail).await?;
        Ok(rotated)
    }

    pub async fn revoke(&self, name: &str) -> Result<KeyInfo> {
        let revoked = super::revoke(self.db, self.usage, name).await?;
        self.record("key.revoke", name, json!({})).await?;
        Ok(revoked)
    }

    async fn record(&self, action: &str, name: &str, mut detail: Json) -> Result<()> {
        if self.actor.is_none() {
            detail["via"] = json!("cli");
        }
        audit::record_raw(
            self.db,
            self.actor,
            self.request_id,
            action,
            None,
            None,
            Some(name),
            detail,
        )
        .await
    }
}
