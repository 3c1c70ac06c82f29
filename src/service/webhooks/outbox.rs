//! The transactional outbox: a write records the webhook events it causes in its own
//! transaction, one delivery per subscribed endpoint, so an event exists exactly when its
//! write committed (and never for one rolled back).

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::domain::webhook::EventType;
use crate::domain::{Collection, Status};
use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// What a write did, for its webhook event.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: EventType,
    /// The item written, if the event is about one.
    pub item: Option<ItemRef<'a>>,
    pub actor: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    pub collection: Collection,
    pub id: Uuid,
    pub slug: &'a str,
    pub status: Status,
    pub version: i64,
}

/// Records `event` (with the surrogate keys the write made stale, `tags`) for every
/// enabled endpoint subscribed to it, inside the write's transaction: one statement picks
/// the subscribers and inserts a delivery for each. Returns whether anything is now
/// waiting to be delivered.
pub async fn record(
    conn: &impl ConnectionTrait,
    event: &Event<'_>,
    tags: &[String],
) -> Result<bool> {
    let affected = affected(tags);
    let mut touched: Vec<&str> = affected.iter().map(|(c, _)| c.as_str()).collect();
    touched.extend(event.item.map(|item| item.collection.as_str()));
    touched.sort_unstable();
    touched.dedup();
    let at = crate::service::interchange::now();
    let payload = payload(event, tags, &affected, at);
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(
        "INSERT INTO webhook_deliveries (endpoint_id, id, event_type, payload, status, \
         attempts, next_attempt_at, created_at, retry_from) SELECT e.id, ",
    );
    sql.bind(Uuid::now_v7())
        .push(", ")
        .bind(event.kind.as_str())
        .push(", ")
        .bind(payload.to_string())
        .push(", 'pending', 0, ");
    sql.bind(at).push(", ").bind(at).push(", ").bind(at);
    sql.push(" FROM webhook_endpoints e WHERE e.enabled = ")
        .bind(true)
        .push(" AND ");
    listed(&mut sql, "e.events", event.kind.as_str());
    // A collection filter matches the item's own collection or one it shows up on.
    if !tags.iter().any(|t| t == "*") {
        sql.push(" AND (e.collections IS NULL");
        for collection in touched {
            sql.push(" OR ");
            listed(&mut sql, "e.collections", collection);
        }
        sql.push(")");
    }
    Ok(conn.execute_raw(sql.build()).await?.rows_affected() > 0)
}

/// Whether the space-separated list in `column` holds `word`.
fn listed(sql: &mut SqlBuilder, column: &str, word: &str) {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sql.push(&format!("(' ' || {column} || ' ') LIKE "))
        .bind(format!("% {escaped} %"))
        .push(" ESCAPE '\\'");
}

/// The items a change shows up on, from its surrogate keys (`technique:foam-rolling`).
fn affected(tags: &[String]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(|tag| tag.split_once(':'))
        .filter(|(kind, _)| *kind != "list")
        .filter_map(|(singular, slug)| {
            Collection::ALL
                .into_iter()
                .find(|c| c.singular() == singular)
                .map(|c| (c.as_str().to_owned(), slug.to_owned()))
        })
        .collect()
}

/// The message body: `{type, timestamp, data}` as Standard Webhooks suggests.
fn payload(
    event: &Event<'_>,
    tags: &[String],
    affected: &[(String, String)],
    at: chrono::DateTime<chrono::Utc>,
) -> Json {
    // Responses too large to name every key carry the coarse ones (`technique`) instead
    // (`api::http_cache`): a purge must name those too.
    let mut keys: Vec<&str> = tags.iter().map(String::as_str).collect();
    let mut coarse: Vec<&str> = tags
        .iter()
        .filter_map(|t| t.split_once(':').map(|(kind, _)| kind))
        .collect();
    coarse.sort_unstable();
    coarse.dedup();
    keys.extend(
        coarse
            .into_iter()
            .filter(|kind| !tags.iter().any(|t| t == kind)),
    );
    let mut data = json!({
        "actor": event.actor,
        "request_id": event.request_id,
        "surrogate_keys": keys,
    });
    if let Some(item) = event.item {
        data["collection"] = json!(item.collection.as_str());
        data["id"] = json!(item.id);
        data["slug"] = json!(item.slug);
        data["status"] = json!(item.status.as_str());
        data["version"] = json!(item.version);
        data["url"] = json!(format!("/v1/{}/{}", item.collection.as_str(), item.slug));
    }
    let own = event.item.map(|item| (item.collection.as_str(), item.slug));
    data["affected"] = affected
        .iter()
        .filter(|(c, s)| own != Some((c.as_str(), s.as_str())))
        .map(|(collection, slug)| json!({ "collection": collection, "slug": slug }))
        .collect();
    json!({
        "type": event.kind.as_str(),
        "timestamp": crate::service::item::timestamp(Some(at)),
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affected_items_come_from_item_tags() {
        let tags = [
            "list:techniques".to_owned(),
            "technique:foam-rolling".to_owned(),
            "condition:low-back-pain".to_owned(),
            "statistics".to_owned(),
        ];
        assert_eq!(
            affected(&tags),
            [
                ("techniques".to_owned(), "foam-rolling".to_owned()),
                ("conditions".to_owned(), "low-back-pain".to_owned())
            ]
        );
    }
}
