//! The dispatcher: one instance of the deployment at a time holds the lease (a row every
//! instance can take once it has expired, on either engine) and delivers what is due.
//!
//! A delivery is claimed before it is sent (its next attempt moved past the timeout), so
//! a dispatcher that dies mid-send leaves it to be sent again by the next one: delivery is
//! at least once, always with the same `webhook-id`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use tokio::sync::Notify;
use uuid::Uuid;

use super::client::{self, Outcome};
use super::lease::Lease;
use super::{DeliveryRules, STATS, WAKE};
use crate::db::{BACKGROUND, WriteGate};
use crate::domain::webhook::SigningSecret;
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::sql::{SqlBuilder, column, required};

const RENEW_EVERY: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(250);
/// Added to the timeout while an attempt is in flight, before another may start.
const CLAIM_GRACE: chrono::Duration = chrono::Duration::seconds(30);
/// Finished deliveries (and their messages) are deleted after this.
const KEEP_DAYS: i64 = 30;

pub struct Dispatcher {
    db: DatabaseConnection,
    gate: WriteGate,
    rules: DeliveryRules,
    client: reqwest::Client,
    holder: String,
    in_flight: Mutex<HashMap<Uuid, usize>>,
    slot_free: Notify,
}

/// A due delivery with what sending it needs.
struct Due {
    id: Uuid,
    message_id: String,
    endpoint: Uuid,
    attempts: i32,
    retry_from: DateTime<Utc>,
    url: String,
    secrets: Vec<SigningSecret>,
    payload: String,
}

impl Dispatcher {
    pub fn new(
        db: DatabaseConnection,
        gate: WriteGate,
        rules: DeliveryRules,
    ) -> std::result::Result<Self, String> {
        Ok(Self {
            client: client::build(&rules)?,
            db,
            gate,
            rules,
            holder: Uuid::now_v7().to_string(),
            in_flight: Mutex::default(),
            slot_free: Notify::new(),
        })
    }

    /// Runs for as long as the process does; the handle gives the lease up at shutdown.
    pub fn spawn(self) -> Lease {
        let lease = Lease::new(self.db.clone(), self.holder.clone());
        let this = Arc::new(self);
        tokio::spawn(async move { this.run().await });
        lease
    }

    async fn run(self: Arc<Self>) {
        let mut leading = false;
        let mut renewed = tokio::time::Instant::now() - RENEW_EVERY;
        let mut rounds: u64 = 0;
        loop {
            if renewed.elapsed() >= RENEW_EVERY {
                match super::lease::hold(&self.db, &self.gate, &self.holder).await {
                    Ok(held) => {
                        if held != leading {
                            tracing::info!(leading = held, "webhook dispatch lease changed");
                        }
                        leading = held;
                        STATS.leading.store(u64::from(held), Ordering::Relaxed);
                        renewed = tokio::time::Instant::now();
                    }
                    Err(error) => {
                        tracing::warn!(?error, "cannot renew the webhook dispatch lease");
                        leading = false;
                        STATS.leading.store(0, Ordering::Relaxed);
                    }
                }
            }
            let mut more_due = false;
            if leading {
                rounds += 1;
                match self.dispatch_due().await {
                    Ok(more) => more_due = more,
                    Err(error) => tracing::warn!(?error, "cannot read due webhook deliveries"),
                }
                if rounds.is_multiple_of(2_400)
                    && let Err(error) = self.prune().await
                {
                    tracing::warn!(%error, "cannot prune old webhook deliveries");
                }
            }
            let wait = if leading { POLL } else { RENEW_EVERY };
            tokio::select! {
                _ = WAKE.notified() => {}
                _ = self.slot_free.notified(), if more_due => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Claims and starts what is due, endpoint by endpoint within each one's share of the
    /// slots; whether more may be due than there was room for (the next round then starts
    /// as soon as an attempt ends, not a poll later).
    async fn dispatch_due(self: &Arc<Self>) -> Result<bool> {
        let per_endpoint = (self.rules.concurrency / 4).max(1);
        let mut free = self.rules.concurrency - self.busy();
        if free == 0 {
            return Ok(true);
        }
        let mut more = false;
        for endpoint in self.enabled_endpoints().await? {
            let running = self.flights().get(&endpoint).copied().unwrap_or(0);
            let room = per_endpoint.saturating_sub(running).min(free);
            if room == 0 {
                more |= running > 0;
                continue;
            }
            // One endpoint's trouble must not hold up the others.
            let due = match self.claim(endpoint, room).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(?error, %endpoint, "cannot claim due webhook deliveries");
                    continue;
                }
            };
            free -= due.len();
            more |= due.len() == room;
            for delivery in due {
                *self.flights().entry(endpoint).or_default() += 1;
                let this = self.clone();
                tokio::spawn(async move { this.deliver(delivery).await });
            }
            if free == 0 {
                return Ok(true);
            }
        }
        Ok(more)
    }

    /// Deliveries in flight, per endpoint (a panicked delivery task leaves the count usable).
    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, usize>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn busy(&self) -> usize {
        self.flights().values().sum()
    }

    async fn enabled_endpoints(&self) -> Result<Vec<Uuid>> {
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push("SELECT id FROM webhook_endpoints WHERE enabled = ")
            .bind(true);
        let rows = self.db.query_all_raw(sql.build()).await?;
        rows.iter().map(|row| required(row, 0)).collect()
    }

    /// Up to `room` due deliveries to `endpoint`, each moved past the attempt's timeout so
    /// no other round takes it meanwhile.
    async fn claim(&self, endpoint: Uuid, room: usize) -> Result<Vec<Due>> {
        let at = now();
        let backend = self.db.get_database_backend();
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND).push(
            "SELECT d.id, d.message_id, d.endpoint_id, d.attempts, d.retry_from, e.url, \
             e.secret, e.previous_secret, e.previous_expires_at, m.payload \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             JOIN webhook_messages m ON m.id = d.message_id WHERE d.endpoint_id = ",
        );
        sql.bind(endpoint)
            .push(" AND d.status = 'pending' AND d.next_attempt_at <= ");
        sql.bind(at)
            .push(" ORDER BY d.next_attempt_at LIMIT ")
            .bind(room as i64);
        let rows = self.db.query_all_raw(sql.build()).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let due = rows
            .iter()
            .map(|row| due(row, at))
            .collect::<Result<Vec<_>>>()?;
        let until =
            at + chrono::Duration::from_std(self.rules.timeout).unwrap_or_default() + CLAIM_GRACE;
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND)
            .push("UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ")
            .bind(until);
        sql.push(", last_attempt_at = ")
            .bind(at)
            .push(" WHERE id IN ");
        sql.bind_list(due.iter().map(|d| d.id));
        let _turn = self.gate.turn().await;
        let db = self.gate.connection().unwrap_or(&self.db);
        db.execute_raw(sql.build()).await?;
        Ok(due)
    }

    async fn deliver(self: Arc<Self>, due: Due) {
        let outcome = client::send(
            &self.client,
            &self.rules,
            &due.url,
            &due.message_id,
            &due.secrets,
            due.payload.clone(),
        )
        .await;
        match self.record(&due, &outcome).await {
            Ok(counter) => {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                // The claim runs out and the delivery is attempted again.
                tracing::warn!(?error, delivery = %due.id, "cannot record a webhook attempt");
            }
        }
        if let Some(count) = self.flights().get_mut(&due.endpoint) {
            *count = count.saturating_sub(1);
        }
        self.slot_free.notify_one();
    }

    /// Records an attempt: delivered, due again later, or failed for good (and the
    /// endpoint disabled if nothing reached it for the whole retry period).
    /// Returns the counter of what happened.
    async fn record(&self, due: &Due, outcome: &Outcome) -> Result<&'static AtomicU64> {
        let at = now();
        let backend = self.db.get_database_backend();
        let status = outcome.status.map(i32::from);
        let mut statements = Vec::new();
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND)
            .push("UPDATE webhook_deliveries SET last_status = ");
        sql.bind(status)
            .push(", last_error = ")
            .bind(outcome.error.clone());
        let attempts = u32::try_from(due.attempts + 1).unwrap_or(u32::MAX);
        let mut exhausted = false;
        if outcome.succeeded() {
            sql.push(", status = 'succeeded', delivered_at = ").bind(at);
        } else {
            let wait = self
                .rules
                .schedule
                .jittered(attempts, rand::random::<f64>());
            let next = at + chrono::Duration::from_std(wait).unwrap_or_default();
            let horizon =
                chrono::Duration::from_std(self.rules.schedule.horizon).unwrap_or_default();
            exhausted = next > due.retry_from + horizon;
            match exhausted {
                true => sql.push(", status = 'failed'"),
                false => sql.push(", next_attempt_at = ").bind(next),
            };
        }
        sql.push(" WHERE id = ")
            .bind(due.id)
            .push(" AND status = 'pending'");
        statements.push(sql.build());
        let mut sql = SqlBuilder::new(backend);
        let column = if outcome.succeeded() {
            "last_success_at"
        } else {
            "last_failure_at"
        };
        sql.push(BACKGROUND)
            .push(&format!("UPDATE webhook_endpoints SET {column} = "))
            .bind(at);
        if exhausted {
            // Nothing reached the endpoint since this delivery's first attempt.
            let reason = format!(
                "every delivery failed for {} (last: {})",
                span_text(self.rules.schedule.horizon),
                outcome.error.as_deref().unwrap_or("no answer")
            );
            sql.push(", enabled = CASE WHEN last_success_at IS NULL OR last_success_at < ")
                .bind(due.retry_from)
                .push(" THEN ")
                .bind(false)
                .push(" ELSE enabled END");
            sql.push(", disabled_at = CASE WHEN last_success_at IS NULL OR last_success_at < ")
                .bind(due.retry_from)
                .push(" THEN ")
                .bind(at)
                .push(" ELSE disabled_at END");
            sql.push(", disabled_reason = CASE WHEN last_success_at IS NULL OR last_success_at < ")
                .bind(due.retry_from)
                .push(" THEN ")
                .bind(reason)
                .push(" ELSE disabled_reason END");
        }
        sql.push(" WHERE id = ").bind(due.endpoint);
        statements.push(sql.build());
        let _turn = self.gate.turn().await;
        let db = self.gate.connection().unwrap_or(&self.db);
        for statement in statements {
            db.execute_raw(statement).await?;
        }
        Ok(match (outcome.succeeded(), exhausted) {
            (true, _) => &STATS.delivered,
            (false, true) => &STATS.failed,
            (false, false) => &STATS.retried,
        })
    }

    async fn prune(&self) -> Result<()> {
        let cutoff = now() - chrono::Duration::days(KEEP_DAYS);
        let backend = self.db.get_database_backend();
        let mut deliveries = SqlBuilder::new(backend);
        deliveries
            .push(BACKGROUND)
            .push("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ")
            .bind(cutoff);
        let mut messages = SqlBuilder::new(backend);
        messages
            .push(BACKGROUND)
            .push("DELETE FROM webhook_messages WHERE created_at < ")
            .bind(cutoff)
            .push(
                " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                 WHERE d.message_id = webhook_messages.id)",
            );
        let _turn = self.gate.turn().await;
        let db = self.gate.connection().unwrap_or(&self.db);
        db.execute_raw(deliveries.build()).await?;
        db.execute_raw(messages.build()).await?;
        Ok(())
    }
}

fn due(row: &QueryResult, at: DateTime<Utc>) -> Result<Due> {
    let mut secrets = Vec::new();
    let current: String = required(row, 6)?;
    secrets.extend(SigningSecret::parse(&current).ok());
    let previous: Option<String> = column(row, 7)?;
    let previous_until: Option<DateTime<Utc>> = column(row, 8)?;
    if let (Some(previous), Some(until)) = (previous, previous_until)
        && until > at
    {
        secrets.extend(SigningSecret::parse(&previous).ok());
    }
    Ok(Due {
        id: required(row, 0)?,
        message_id: required(row, 1)?,
        endpoint: required(row, 2)?,
        attempts: required(row, 3)?,
        retry_from: required(row, 4)?,
        url: required(row, 5)?,
        secrets,
        payload: required(row, 9)?,
    })
}

/// `3d`, `12h`, `90s`: the retry period as the setting writes it.
fn span_text(span: Duration) -> String {
    let seconds = span.as_secs();
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
