//! The transactional outbox: a write records the webhook messages it causes in its own
//! transaction, one delivery per subscribed endpoint, so a message exists exactly when
//! its write committed (and never for one rolled back).

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::domain::webhook::EventType;
use crate::domain::{Collection, Status};
use crate::error::Result;
use crate::service::sql::{SqlBuilder, column, required};

/// What a write did, for its webhook message.
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

/// An enabled endpoint's subscription.
struct Subscription {
    id: Uuid,
    events: String,
    collections: Option<String>,
}

impl Subscription {
    fn wants(&self, kind: EventType, touched: &[&str]) -> bool {
        self.events.split(' ').any(|e| e == kind.as_str())
            && self.collections.as_deref().is_none_or(|wanted| {
                touched.contains(&"*")
                    || wanted
                        .split(' ')
                        .any(|collection| touched.contains(&collection))
            })
    }
}

/// Records `event` (with the surrogate keys the write made stale, `tags`) for every
/// enabled endpoint subscribed to it, inside the write's transaction. Returns whether
/// anything is now waiting to be delivered.
pub async fn record(
    conn: &impl ConnectionTrait,
    event: &Event<'_>,
    tags: &[String],
) -> Result<bool> {
    let backend = conn.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT id, events, collections FROM webhook_endpoints WHERE enabled = ")
        .bind(true);
    let rows = conn.query_all_raw(sql.build()).await?;
    if rows.is_empty() {
        return Ok(false);
    }
    let affected = affected(tags);
    let mut touched: Vec<&str> = affected.iter().map(|(c, _)| c.as_str()).collect();
    touched.extend(event.item.map(|item| item.collection.as_str()));
    if tags.iter().any(|t| t == "*") {
        touched.push("*");
    }
    let mut subscribers = Vec::new();
    for row in &rows {
        let subscription = Subscription {
            id: required(row, 0)?,
            events: required(row, 1)?,
            collections: column(row, 2)?,
        };
        if subscription.wants(event.kind, &touched) {
            subscribers.push(subscription.id);
        }
    }
    if subscribers.is_empty() {
        return Ok(false);
    }
    let at = crate::service::interchange::now();
    let id = format!("msg_{}", Uuid::now_v7().simple());
    let payload = payload(event, tags, &affected, at);
    let mut sql = SqlBuilder::new(backend);
    sql.push("INSERT INTO webhook_messages (id, event_type, payload, created_at) VALUES (")
        .bind(id.clone())
        .push(", ")
        .bind(event.kind.as_str())
        .push(", ")
        .bind(payload.to_string())
        .push(", ")
        .bind(at)
        .push(")");
    conn.execute_raw(sql.build()).await?;
    let mut sql = SqlBuilder::new(backend);
    sql.push(
        "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, status, attempts, \
         next_attempt_at, created_at, retry_from) VALUES ",
    );
    for (n, endpoint) in subscribers.into_iter().enumerate() {
        sql.push(if n == 0 { "(" } else { ", (" })
            .bind(Uuid::now_v7())
            .push(", ")
            .bind(id.clone())
            .push(", ")
            .bind(endpoint)
            .push(", 'pending', 0, ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
    }
    conn.execute_raw(sql.build()).await?;
    Ok(true)
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
    fn subscriptions_filter_by_event_and_touched_collection() {
        let sub = Subscription {
            id: Uuid::nil(),
            events: "item.published item.updated".into(),
            collections: Some("conditions products".into()),
        };
        assert!(sub.wants(EventType::ItemPublished, &["techniques", "conditions"]));
        assert!(!sub.wants(EventType::ItemPublished, &["techniques"]));
        assert!(!sub.wants(EventType::ItemDeleted, &["conditions"]));
        assert!(sub.wants(EventType::ItemUpdated, &["*"]));
    }

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
