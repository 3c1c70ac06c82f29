//! The deliveries of an endpoint (newest first), and replaying one.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::WebhookAdmin;
use super::endpoints::parse_id;
use crate::domain::PageSize;
use crate::error::{AppError, Result};
use crate::service::interchange::now;
use crate::service::sql::{SqlBuilder, column, required};

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryInfo {
    pub id: Uuid,
    /// The `webhook-id` header of every attempt (and replay).
    pub message_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed` (retries exhausted).
    pub status: String,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer; null if none came (see `last_error`).
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The body every attempt sends.
    pub payload: Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            _ => Err(AppError::invalid_parameter(format!(
                "status: {:?} is not pending, succeeded or failed",
                text.chars().take(40).collect::<String>()
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub limit: PageSize,
    /// Deliveries older than this one (the previous page's `next_before`).
    pub before: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryInfo>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<String>,
}

/// An endpoint's deliveries: `WHERE endpoint_id = ` the value bound next.
fn select(db: &sea_orm::DatabaseConnection) -> SqlBuilder {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(
        "SELECT id, event_type, status, attempts, next_attempt_at, last_attempt_at, \
         last_status, last_error, delivered_at, created_at, payload \
         FROM webhook_deliveries WHERE endpoint_id = ",
    );
    sql
}

fn info(row: &QueryResult) -> Result<DeliveryInfo> {
    let id: Uuid = required(row, 0)?;
    let status: String = required(row, 2)?;
    let payload: String = required(row, 10)?;
    Ok(DeliveryInfo {
        id,
        message_id: format!("msg_{}", id.simple()),
        event_type: required(row, 1)?,
        next_attempt_at: column::<DateTime<Utc>>(row, 4)?.filter(|_| status == "pending"),
        status,
        attempts: required(row, 3)?,
        last_attempt_at: column(row, 5)?,
        last_status: column(row, 6)?,
        last_error: column(row, 7)?,
        delivered_at: column(row, 8)?,
        created_at: required(row, 9)?,
        payload: serde_json::from_str(&payload).unwrap_or(Json::Null),
    })
}

impl WebhookAdmin<'_> {
    pub async fn deliveries(
        &self,
        endpoint: &str,
        filter: &DeliveryFilter,
    ) -> Result<DeliveryPage> {
        let endpoint = self.get(endpoint).await?.id;
        let db = self.db();
        let mut sql = select(db);
        sql.bind(endpoint);
        if let Some(status) = filter.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        if let Some(before) = &filter.before {
            let before = Uuid::parse_str(before).map_err(|_| {
                AppError::invalid_parameter("before: must be a delivery id from next_before")
            })?;
            sql.push(" AND id < ").bind(before);
        }
        let limit = filter.limit.get() as i64;
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
        let rows = db.query_all_raw(sql.build()).await?;
        let mut data = rows.iter().map(info).collect::<Result<Vec<_>>>()?;
        let next_before = if data.len() as i64 > limit {
            data.truncate(limit as usize);
            data.last().map(|d| d.id.to_string())
        } else {
            None
        };
        Ok(DeliveryPage { data, next_before })
    }

    /// Sends a delivery again (same `webhook-id`, a fresh retry schedule), whatever its
    /// status.
    pub async fn replay(&self, endpoint: &str, delivery: &str) -> Result<DeliveryInfo> {
        let endpoint = self.get(endpoint).await?.id;
        let delivery = parse_id(delivery).map_err(|_| no_delivery(delivery))?;
        let db = self.db();
        let at = now();
        let mut sql = SqlBuilder::new(db.get_database_backend());
        sql.push("UPDATE webhook_deliveries SET status = 'pending', attempts = 0, ");
        sql.push("next_attempt_at = ").bind(at);
        sql.push(", retry_from = ").bind(at);
        sql.push(" WHERE id = ").bind(delivery);
        sql.push(" AND endpoint_id = ").bind(endpoint);
        if db.execute_raw(sql.build()).await?.rows_affected() != 1 {
            return Err(no_delivery(&delivery.to_string()));
        }
        self.audit("webhook.replay", endpoint, json!({ "delivery": delivery }))
            .await?;
        super::wake();
        let mut sql = select(db);
        sql.bind(endpoint).push(" AND id = ").bind(delivery);
        match db.query_one_raw(sql.build()).await? {
            Some(row) => info(&row),
            None => Err(no_delivery(&delivery.to_string())),
        }
    }
}

fn no_delivery(id: &str) -> AppError {
    let shown: String = id.chars().take(64).collect();
    AppError::NotFound(format!("this endpoint has no delivery with id {shown:?}"))
}
