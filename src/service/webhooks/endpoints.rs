//! Registering webhook endpoints (admin), as REST, GraphQL and the CLI all do it: every
//! change validated the same way and recorded in the audit log.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::MAX_ENDPOINTS;
use crate::domain::key_lifetime::Overlap;
use crate::domain::webhook::{EventType, SigningSecret, UrlPolicy};
use crate::domain::{Collection, Scope};
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::editing::audit;
use crate::service::interchange::now;
use crate::service::sql::{SqlBuilder, column, required};

const MAX_DESCRIPTION: usize = 500;

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EndpointInfo {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    /// Only events about (or shown on) items of these collections; null: every one.
    pub collections: Option<Vec<String>>,
    pub enabled: bool,
    /// Why the endpoint was disabled (by an admin, or after failing for the whole retry
    /// period).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Until when deliveries are also signed with the secret the last rotation replaced.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A registered endpoint with its signing secret, shown this once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub info: EndpointInfo,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub collections: Option<Vec<String>>,
    pub description: Option<String>,
}

/// What may change on an endpoint (`None`: unchanged; `Some(None)`: cleared).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub collections: Option<Option<Vec<String>>>,
    pub description: Option<Option<String>>,
    /// `true` re-enables a disabled endpoint (its pending deliveries resume).
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "id, url, description, events, collections, enabled, disabled_reason, \
    disabled_at, last_success_at, last_failure_at, previous_expires_at, created_at, updated_at";

fn info(row: &QueryResult) -> Result<EndpointInfo> {
    let words = |text: String| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    Ok(EndpointInfo {
        id: required(row, 0)?,
        url: required(row, 1)?,
        description: column(row, 2)?,
        events: words(required(row, 3)?),
        collections: column::<String>(row, 4)?.map(words),
        enabled: required(row, 5)?,
        disabled_reason: column(row, 6)?,
        disabled_at: column(row, 7)?,
        last_success_at: column(row, 8)?,
        last_failure_at: column(row, 9)?,
        previous_secret_expires_at: column::<DateTime<Utc>>(row, 10)?.filter(|t| *t > now()),
        created_at: required(row, 11)?,
        updated_at: required(row, 12)?,
    })
}

/// Who manages endpoints: an admin caller, or the command line.
pub struct WebhookAdmin<'a> {
    db: &'a DatabaseConnection,
    policy: UrlPolicy,
    actor: Option<&'a str>,
    request_id: Option<&'a str>,
}

impl<'a> WebhookAdmin<'a> {
    /// 401/403 unless the caller has the `admin` scope.
    pub fn for_caller(
        db: &'a DatabaseConnection,
        policy: UrlPolicy,
        caller: &'a Caller,
        request_id: Option<&'a str>,
    ) -> Result<Self> {
        caller.require(Scope::Admin)?;
        Ok(Self {
            db,
            policy,
            actor: caller.key_name.as_deref(),
            request_id,
        })
    }

    pub fn cli(db: &'a DatabaseConnection, policy: UrlPolicy) -> Self {
        Self {
            db,
            policy,
            actor: None,
            request_id: None,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        self.db
    }

    pub async fn list(&self) -> Result<Vec<EndpointInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints ORDER BY created_at, id");
        let mut builder = SqlBuilder::new(self.db.get_database_backend());
        builder.push(&sql);
        let rows = self.db.query_all_raw(builder.build()).await?;
        rows.iter().map(info).collect()
    }

    pub async fn get(&self, id: &str) -> Result<EndpointInfo> {
        let id = parse_id(id)?;
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(&format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = "
        ))
        .bind(id);
        match self.db.query_one_raw(sql.build()).await? {
            Some(row) => info(&row),
            None => Err(not_found(id)),
        }
    }

    pub async fn create(&self, new: NewEndpoint) -> Result<Issued> {
        let url = self.check_url(&new.url)?;
        let events = check_events(&new.events)?;
        let collections = check_collections(new.collections.as_deref())?;
        let description = check_description(new.description)?;
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push("SELECT COUNT(*) FROM webhook_endpoints");
        let count: i64 = match self.db.query_one_raw(sql.build()).await? {
            Some(row) => required(&row, 0)?,
            None => 0,
        };
        if count as u64 >= MAX_ENDPOINTS {
            return Err(AppError::Conflict(format!(
                "this deployment already has {MAX_ENDPOINTS} webhook endpoints; delete one first"
            )));
        }
        let id = Uuid::now_v7();
        let secret = SigningSecret::generate().to_string();
        let at = now();
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(
            "INSERT INTO webhook_endpoints (id, url, description, events, collections, secret, \
             enabled, created_at, updated_at) VALUES (",
        );
        sql.bind(id).push(", ").bind(url.clone()).push(", ");
        sql.bind(description)
            .push(", ")
            .bind(events.clone())
            .push(", ");
        sql.bind(collections.clone())
            .push(", ")
            .bind(secret.clone());
        sql.push(", ")
            .bind(true)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at);
        sql.push(")");
        self.db.execute_raw(sql.build()).await?;
        let detail = json!({ "url": url, "events": events, "collections": collections });
        self.audit("webhook.create", id, detail).await?;
        Ok(Issued {
            info: self.get(&id.to_string()).await?,
            secret,
        })
    }

    pub async fn update(&self, id: &str, change: EndpointChange) -> Result<EndpointInfo> {
        let current = self.get(id).await?;
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push("UPDATE webhook_endpoints SET updated_at = ")
            .bind(now());
        let mut detail = json!({});
        if let Some(url) = &change.url {
            let url = self.check_url(url)?;
            sql.push(", url = ").bind(url.clone());
            detail["url"] = json!(url);
        }
        if let Some(events) = &change.events {
            let events = check_events(events)?;
            sql.push(", events = ").bind(events.clone());
            detail["events"] = json!(events);
        }
        if let Some(collections) = &change.collections {
            let collections = check_collections(collections.as_deref())?;
            sql.push(", collections = ").bind(collections.clone());
            detail["collections"] = json!(collections);
        }
        if let Some(description) = change.description {
            sql.push(", description = ")
                .bind(check_description(description)?);
        }
        match change.enabled {
            Some(true) if !current.enabled => {
                sql.push(", enabled = ").bind(true);
                sql.push(", disabled_reason = NULL, disabled_at = NULL");
                detail["enabled"] = json!(true);
            }
            Some(false) if current.enabled => {
                sql.push(", enabled = ").bind(false);
                sql.push(", disabled_reason = ")
                    .bind("disabled by an admin")
                    .push(", disabled_at = ")
                    .bind(now());
                detail["enabled"] = json!(false);
            }
            _ => {}
        }
        sql.push(" WHERE id = ").bind(current.id);
        self.db.execute_raw(sql.build()).await?;
        self.audit("webhook.update", current.id, detail).await?;
        if change.enabled == Some(true) {
            super::wake();
        }
        self.get(id).await
    }

    /// A new signing secret; deliveries carry signatures by both until `overlap` ends.
    pub async fn rotate_secret(&self, id: &str, overlap: Overlap) -> Result<Issued> {
        let current = self.get(id).await?;
        let secret = SigningSecret::generate().to_string();
        let at = now();
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push("UPDATE webhook_endpoints SET previous_secret = secret, secret = ")
            .bind(secret.clone());
        sql.push(", previous_expires_at = ")
            .bind(at + chrono::Duration::seconds(overlap.seconds()));
        sql.push(", updated_at = ").bind(at);
        sql.push(" WHERE id = ").bind(current.id);
        self.db.execute_raw(sql.build()).await?;
        let detail = json!({ "overlap_seconds": overlap.seconds() });
        self.audit("webhook.rotate", current.id, detail).await?;
        Ok(Issued {
            info: self.get(id).await?,
            secret,
        })
    }

    /// Deletes the endpoint and every delivery to it.
    pub async fn delete(&self, id: &str) -> Result<EndpointInfo> {
        let current = self.get(id).await?;
        let backend = self.db.get_database_backend();
        let txn = self.db.begin().await?;
        for table in [
            "webhook_deliveries WHERE endpoint_id",
            "webhook_endpoints WHERE id",
        ] {
            let mut sql = SqlBuilder::new(backend);
            sql.push(&format!("DELETE FROM {table} = "))
                .bind(current.id);
            txn.execute_raw(sql.build()).await?;
        }
        txn.commit().await?;
        self.audit("webhook.delete", current.id, json!({ "url": current.url }))
            .await?;
        Ok(current)
    }

    fn check_url(&self, url: &str) -> Result<String> {
        self.policy
            .check(url)
            .map(|u| u.to_string())
            .map_err(|e| AppError::invalid_field("/url", e))
    }

    pub(super) async fn audit(&self, action: &str, id: Uuid, mut detail: Json) -> Result<()> {
        if self.actor.is_none() {
            detail["via"] = json!("cli");
        }
        let name = id.to_string();
        audit::record_raw(
            self.db,
            self.actor,
            self.request_id,
            action,
            None,
            None,
            Some(&name),
            detail,
        )
        .await
    }
}

pub(super) fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| not_found_text(id))
}

fn not_found(id: Uuid) -> AppError {
    not_found_text(&id.to_string())
}

fn not_found_text(id: &str) -> AppError {
    let shown: String = id.chars().take(64).collect();
    AppError::NotFound(format!("no webhook endpoint with id {shown:?}"))
}

/// The subscribed event types, space-separated as stored.
fn check_events(events: &[String]) -> Result<String> {
    EventType::parse_list(events.iter().map(String::as_str))
        .map(|list| {
            list.iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map_err(|e| AppError::invalid_field("/events", e))
}

fn check_collections(collections: Option<&[String]>) -> Result<Option<String>> {
    let Some(names) = collections else {
        return Ok(None);
    };
    let mut list: Vec<&str> = Vec::new();
    for name in names {
        let collection = Collection::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Collection::ALL.iter().map(|c| c.as_str()).collect();
            AppError::invalid_field(
                "/collections",
                format!("{name:?} is not a collection ({})", known.join(", ")),
            )
        })?;
        if !list.contains(&collection.as_str()) {
            list.push(collection.as_str());
        }
    }
    if list.is_empty() {
        return Err(AppError::invalid_field(
            "/collections",
            "name at least one collection, or send null for every collection",
        ));
    }
    Ok(Some(list.join(" ")))
}

fn check_description(description: Option<String>) -> Result<Option<String>> {
    match description {
        Some(text)
            if text.chars().count() > MAX_DESCRIPTION || text.chars().any(char::is_control) =>
        {
            Err(AppError::invalid_field(
                "/description",
                format!("must be at most {MAX_DESCRIPTION} characters, without control characters"),
            ))
        }
        other => Ok(other.filter(|t| !t.trim().is_empty())),
    }
}
