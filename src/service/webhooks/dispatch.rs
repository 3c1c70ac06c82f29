//! The dispatcher: one instance of the deployment at a time holds the lease (a row every
//! instance can take once it has expired, on either engine) and delivers what is due.
//!
//! Deliveries are claimed in batches before they are sent (their next attempt moved past
//! the time this dispatcher needs to send them), so a dispatcher that dies mid-send leaves
//! them to be sent again by the next one: delivery is at least once, always with the same
//! `webhook-id`. Claimed deliveries wait in a queue per endpoint, at most a quarter of the
//! slots in flight to one endpoint; outcomes are written in batches (`recorder`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use uuid::Uuid;

use super::client;
use super::lease::Lease;
use super::recorder::{self, Finished};
use super::{DeliveryRules, STATS, WAKE};
use crate::db::{BACKGROUND, WriteGate};
use crate::domain::webhook::SigningSecret;
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::sql::{SqlBuilder, column, required};

const RENEW_EVERY: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(250);
/// How long a wake-up by a write waits for the writes that follow it.
const GATHER: Duration = Duration::from_millis(20);
/// Deliveries claimed for one endpoint at a time.
const CLAIM_BATCH: usize = 64;
/// Added to the time a claim needs, before another dispatcher may take its deliveries.
const CLAIM_GRACE: chrono::Duration = chrono::Duration::seconds(30);
/// Finished deliveries (and their messages) are deleted after this.
const KEEP_DAYS: i64 = 30;

pub struct Dispatcher {
    db: DatabaseConnection,
    gate: WriteGate,
    rules: DeliveryRules,
    client: reqwest::Client,
    holder: String,
    queues: Mutex<HashMap<Uuid, Queue>>,
    /// The enabled endpoints as last read.
    endpoints: Mutex<Option<Vec<Uuid>>>,
    slot_free: Notify,
    outcomes: UnboundedSender<Finished>,
}

/// An endpoint's claimed deliveries: waiting, and in flight.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Due>,
    running: usize,
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
        let (outcomes, recorded) = unbounded_channel();
        tokio::spawn(recorder::run(db.clone(), gate.clone(), rules, recorded));
        Ok(Self {
            client: client::build(&rules)?,
            db,
            gate,
            rules,
            holder: Uuid::now_v7().to_string(),
            queues: Mutex::default(),
            endpoints: Mutex::default(),
            slot_free: Notify::new(),
            outcomes,
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
        let mut slot_freed = false;
        loop {
            if renewed.elapsed() >= RENEW_EVERY {
                let held = match super::lease::hold(&self.db, &self.gate, &self.holder).await {
                    Ok(held) => held,
                    Err(error) => {
                        tracing::warn!(?error, "cannot renew the webhook dispatch lease");
                        false
                    }
                };
                if held != leading {
                    tracing::info!(leading = held, "webhook dispatch lease changed");
                }
                if !held {
                    // The next dispatcher takes back what was claimed here.
                    self.queues().values_mut().for_each(|q| q.waiting.clear());
                }
                if held
                    && !leading
                    && let Err(error) = self.take_back_claims().await
                {
                    tracing::warn!(?error, "cannot take back an earlier dispatcher's claims");
                }
                leading = held;
                STATS.leading.store(u64::from(held), Ordering::Relaxed);
                renewed = tokio::time::Instant::now();
            }
            let mut more_due = false;
            if leading {
                rounds += 1;
                match self.dispatch_due(!slot_freed).await {
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
            slot_freed = tokio::select! {
                _ = WAKE.notified() => {
                    // Writes come in bursts: one claim for the burst, not one per write.
                    tokio::time::sleep(GATHER).await;
                    false
                }
                _ = self.slot_free.notified(), if more_due => true,
                _ = tokio::time::sleep(wait) => false,
            };
        }
    }

    /// Tops up each enabled endpoint's queue when it runs low and starts what its share
    /// of the slots allows; whether anything is left waiting or may be due (the next round
    /// then starts as soon as an attempt ends, not a poll later).
    async fn dispatch_due(self: &Arc<Self>, fresh: bool) -> Result<bool> {
        let share = self.share();
        let endpoints = self.enabled_endpoints(fresh).await?;
        self.queues()
            .retain(|id, q| endpoints.contains(id) || q.running > 0);
        let mut more = false;
        for endpoint in endpoints {
            let waiting = self.queues().get(&endpoint).map_or(0, |q| q.waiting.len());
            if waiting < share {
                // One endpoint's trouble must not hold up the others.
                match self.claim(endpoint, waiting, CLAIM_BATCH - waiting).await {
                    Ok(due) => {
                        more |= due.len() == CLAIM_BATCH - waiting;
                        self.queues()
                            .entry(endpoint)
                            .or_default()
                            .waiting
                            .extend(due);
                    }
                    Err(error) => {
                        tracing::warn!(?error, %endpoint, "cannot claim due webhook deliveries")
                    }
                }
            }
            more |= self.start(endpoint, share);
        }
        Ok(more)
    }

    /// Starts `endpoint`'s waiting deliveries within its share and the free slots;
    /// whether some are left waiting.
    fn start(self: &Arc<Self>, endpoint: Uuid, share: usize) -> bool {
        let mut queues = self.queues();
        let mut busy: usize = queues.values().map(|q| q.running).sum();
        let Some(queue) = queues.get_mut(&endpoint) else {
            return false;
        };
        while queue.running < share && busy < self.rules.concurrency {
            let Some(due) = queue.waiting.pop_front() else {
                break;
            };
            queue.running += 1;
            busy += 1;
            let this = self.clone();
            tokio::spawn(async move { this.deliver(due).await });
        }
        !queue.waiting.is_empty()
    }

    /// Attempts one endpoint may have in flight: a quarter of the slots.
    fn share(&self) -> usize {
        (self.rules.concurrency / 4).max(1)
    }

    /// The endpoints' queues (a panicked delivery task leaves them usable).
    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Queue>> {
        self.queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The enabled endpoints: read again on every poll and wake-up, and kept between the
    /// rounds that only start what is already claimed.
    async fn enabled_endpoints(&self, fresh: bool) -> Result<Vec<Uuid>> {
        if !fresh && let Some(known) = self.known_endpoints() {
            return Ok(known);
        }
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push("SELECT id FROM webhook_endpoints WHERE enabled = ")
            .bind(true);
        let rows = self.db.query_all_raw(sql.build()).await?;
        let endpoints = rows
            .iter()
            .map(|row| required(row, 0))
            .collect::<Result<Vec<Uuid>>>()?;
        *self
            .endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(endpoints.clone());
        Ok(endpoints)
    }

    fn known_endpoints(&self) -> Option<Vec<Uuid>> {
        self.endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Makes the deliveries an earlier dispatcher claimed due at once: it has lost the
    /// lease (crashed, or stopped renewing), so it will not send them; if it still does, a
    /// receiver gets one twice, which at least once allows.
    async fn take_back_claims(&self) -> Result<()> {
        let at = now();
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push("UPDATE webhook_deliveries SET next_attempt_at = ")
            .bind(at);
        sql.push(", claimed_by = NULL WHERE status = 'pending' AND claimed_by <> ")
            .bind(self.holder.clone());
        sql.push(" AND next_attempt_at > ").bind(at);
        super::recorder::write(&self.db, &self.gate, vec![sql.build()]).await
    }

    /// Up to `room` due deliveries to `endpoint`, behind `ahead` already queued, each moved
    /// past the time this dispatcher needs to send them (every attempt timing out), so no
    /// other round or dispatcher takes them meanwhile.
    async fn claim(&self, endpoint: Uuid, ahead: usize, room: usize) -> Result<Vec<Due>> {
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
        let share = self.share();
        let turns = (ahead + due.len()).div_ceil(share) as u32 + 1;
        let needed = chrono::Duration::from_std(self.rules.timeout * turns).unwrap_or_default();
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND)
            .push("UPDATE webhook_deliveries SET next_attempt_at = ")
            .bind(at + needed + CLAIM_GRACE)
            .push(", claimed_by = ")
            .bind(self.holder.clone())
            .push(" WHERE id IN ");
        sql.bind_list(due.iter().map(|d| d.id));
        super::recorder::write(&self.db, &self.gate, vec![sql.build()]).await?;
        Ok(due)
    }

    /// Sends `first`, then whatever waits for the same endpoint, while anything does: a
    /// slot drains its endpoint's queue without waiting for the next round.
    async fn deliver(self: Arc<Self>, first: Due) {
        let endpoint = first.endpoint;
        let mut next = Some(first);
        while let Some(due) = next {
            let outcome = client::send(
                &self.client,
                &self.rules,
                &due.url,
                &due.message_id,
                &due.secrets,
                due.payload,
            )
            .await;
            let _ = self.outcomes.send(Finished {
                delivery: due.id,
                endpoint,
                attempts: due.attempts,
                retry_from: due.retry_from,
                outcome,
            });
            let mut queues = self.queues();
            next = match queues.get_mut(&endpoint) {
                Some(queue) => {
                    let popped = queue.waiting.pop_front();
                    if popped.is_none() {
                        queue.running = queue.running.saturating_sub(1);
                    }
                    popped
                }
                None => None,
            };
        }
        self.slot_free.notify_one();
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
