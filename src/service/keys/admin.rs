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
use crate::service::editing::audit;

/// Who changes keys: an admin key (`actor`) with its request, or the command line.
pub struct KeyAdmin<'a> {
    pub db: &'a DatabaseConnection,
    pub usage: &'a KeyUsage,
    pub actor: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

impl KeyAdmin<'_> {
    pub async fn list(&self) -> Result<Vec<KeyInfo>> {
        super::list(self.db, self.usage).await
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
