//! The dispatcher: one instance of the deployment at a time holds the lease (a row every
//! instance can take once it has expired, on either engine) and delivers what is due.
//!
//! Due deliveries are read in batches into a queue per endpoint, at most a quarter of the
//! slots in flight to one endpoint; outcomes are written in batches (`recorder`). What the
//! dispatcher holds (queued, in flight, or sent and not yet recorded) is kept in memory,
//! not marked in the database: a dispatcher that dies leaves its deliveries due, and the
//! next one sends them again, so delivery is at least once, always with the same
//! `webhook-id`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use uuid::Uuid;

use super::client;
use super::floor::Floor;
use super::recorder::{self, Finished};
use super::{DeliveryRules, STATS, WAKE};
use crate::db::{BACKGROUND, WriteGate};
use crate::domain::webhook::SigningSecret;
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::lease::{self, Lease};
use crate::service::sql::{SqlBuilder, column, required};

/// The lease of the one instance that dispatches.
const LEASE: &str = "dispatcher";
const RENEW_EVERY: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(250);
/// How long a wake-up by a write waits for the writes that follow it.
const GATHER: Duration = Duration::from_millis(20);
/// Deliveries read for one endpoint at a time.
const BATCH: usize = 64;
/// Deliveries held for one endpoint at most (queued, in flight, or not yet recorded).
const MAX_HELD: usize = 1_024;
/// Finished deliveries are deleted after this.
const KEEP_DAYS: i64 = 30;

pub struct Dispatcher {
    db: DatabaseConnection,
    gate: WriteGate,
    rules: DeliveryRules,
    client: reqwest::Client,
    holder: String,
    queues: Mutex<HashMap<Uuid, Queue>>,
    held: Held,
    /// The enabled endpoints as last read.
    endpoints: Mutex<Option<Vec<Arc<Target>>>>,
    /// Where reading each endpoint's due deliveries may start.
    floors: Mutex<HashMap<Uuid, Floor>>,
    slot_free: Notify,
    outcomes: UnboundedSender<Finished>,
}

/// The deliveries (endpoint, id) this dispatcher holds: queued, in flight, or sent and
/// not yet recorded. Reading what is due skips them.
pub(super) type Held = Arc<Mutex<HashSet<(Uuid, Uuid)>>>;

pub(super) fn release(held: &Held, deliveries: impl IntoIterator<Item = (Uuid, Uuid)>) {
    let mut held = locked(held);
    for delivery in deliveries {
        held.remove(&delivery);
    }
}

/// A lock that a panicked delivery task leaves usable.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An enabled endpoint: where to send, and how to sign.
struct Target {
    id: Uuid,
    url: String,
    secrets: Vec<SigningSecret>,
}

/// An endpoint's deliveries read: waiting, and in flight.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Due>,
    running: usize,
}

/// A due delivery with what sending it needs.
struct Due {
    id: Uuid,
    endpoint: Arc<Target>,
    attempts: i32,
    retry_from: DateTime<Utc>,
    payload: String,
}

impl Dispatcher {
    pub fn new(
        db: DatabaseConnection,
        gate: WriteGate,
        rules: DeliveryRules,
    ) -> std::result::Result<Self, String> {
        let (outcomes, recorded) = unbounded_channel();
        let held = Held::default();
        tokio::spawn(recorder::run(
            db.clone(),
            gate.clone(),
            rules,
            held.clone(),
            recorded,
        ));
        Ok(Self {
            client: client::build(&rules)?,
            db,
            gate,
            rules,
            holder: Uuid::now_v7().to_string(),
            queues: Mutex::default(),
            held,
            endpoints: Mutex::default(),
            floors: Mutex::default(),
            slot_free: Notify::new(),
            outcomes,
        })
    }

    /// Runs for as long as the process does; the handle gives the lease up at shutdown.
    pub fn spawn(self) -> Lease {
        let lease = Lease::new(self.db.clone(), LEASE, self.holder.clone());
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
                let held = match lease::hold(&self.db, &self.gate, LEASE, &self.holder).await {
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
                    // The next dispatcher sends what waits here.
                    let mut queues = self.queues();
                    let dropped = queues.values_mut().flat_map(|q| q.waiting.drain(..));
                    release(&self.held, dropped.map(|d| (d.endpoint.id, d.id)));
                    locked(&self.floors).clear();
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
        self.forget_disabled(&endpoints);
        let mut more = false;
        for endpoint in endpoints {
            let waiting = self
                .queues()
                .get(&endpoint.id)
                .map_or(0, |q| q.waiting.len());
            if waiting < share {
                // One endpoint's trouble must not hold up the others.
                match self.take(&endpoint, BATCH - waiting).await {
                    Ok(due) => {
                        more |= due.len() == BATCH - waiting;
                        self.queues()
                            .entry(endpoint.id)
                            .or_default()
                            .waiting
                            .extend(due);
                    }
                    Err(error) => {
                        tracing::warn!(?error, endpoint = %endpoint.id, "cannot read due webhook deliveries")
                    }
                }
            }
            more |= self.start(endpoint.id, share);
        }
        Ok(more)
    }

    /// Drops what waits for endpoints no longer enabled (what is in flight finishes).
    fn forget_disabled(&self, enabled: &[Arc<Target>]) {
        let mut queues = self.queues();
        for (id, queue) in queues.iter_mut() {
            if !enabled.iter().any(|e| e.id == *id) {
                let dropped = queue.waiting.drain(..).map(|d| (d.endpoint.id, d.id));
                release(&self.held, dropped);
            }
        }
        queues.retain(|_, q| !q.waiting.is_empty() || q.running > 0);
        // Re-enabled, an endpoint's deliveries are due from where it stopped.
        locked(&self.floors).retain(|id, _| enabled.iter().any(|e| e.id == *id));
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
        locked(&self.queues)
    }

    /// The enabled endpoints: read again on every poll and wake-up, and kept between the
    /// rounds that only start what is already read.
    async fn enabled_endpoints(&self, fresh: bool) -> Result<Vec<Arc<Target>>> {
        let known = || locked(&self.endpoints);
        if !fresh && let Some(known) = known().clone() {
            return Ok(known);
        }
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push(
                "SELECT id, url, secret, previous_secret, previous_expires_at \
                 FROM webhook_endpoints WHERE enabled = ",
            )
            .bind(true);
        let rows = self.db.query_all_raw(sql.build()).await?;
        let at = now();
        let endpoints = rows
            .iter()
            .map(|row| target(row, at).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        *known() = Some(endpoints.clone());
        Ok(endpoints)
    }

    /// Up to `room` due deliveries to `endpoint` that this dispatcher does not hold yet,
    /// held from now on. None while it holds [`MAX_HELD`] for the endpoint already: its
    /// outcomes are written first.
    async fn take(&self, endpoint: &Arc<Target>, room: usize) -> Result<Vec<Due>> {
        let holding: Vec<Uuid> = {
            let held = locked(&self.held);
            held.iter()
                .filter(|(e, _)| *e == endpoint.id)
                .map(|(_, id)| *id)
                .collect()
        };
        if holding.len() >= MAX_HELD {
            return Ok(Vec::new());
        }
        let floor = locked(&self.floors).get(&endpoint.id).copied();
        let start = Floor::start(floor.as_ref(), std::time::Instant::now());
        let due_by = now();
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND).push(
            "SELECT id, attempts, retry_from, payload, next_attempt_at \
             FROM webhook_deliveries WHERE endpoint_id = ",
        );
        sql.bind(endpoint.id)
            .push(" AND status = 'pending' AND next_attempt_at <= ")
            .bind(due_by);
        if let Some(start) = start {
            sql.push(" AND next_attempt_at >= ").bind(start);
        }
        if !holding.is_empty() {
            sql.push(" AND id NOT IN ").bind_list(holding);
        }
        sql.push(" ORDER BY next_attempt_at LIMIT ")
            .bind(room as i64);
        let rows = self.db.query_all_raw(sql.build()).await?;
        let last = match rows.len() >= room {
            true => rows.last().map(|row| required(row, 4)).transpose()?,
            false => None,
        };
        let after = Floor::after(
            floor.as_ref(),
            start,
            due_by,
            last,
            std::time::Instant::now(),
        );
        locked(&self.floors).insert(endpoint.id, after);
        let mut held = locked(&self.held);
        let mut due = Vec::new();
        for row in &rows {
            let id: Uuid = required(row, 0)?;
            if held.insert((endpoint.id, id)) {
                due.push(Due {
                    id,
                    endpoint: endpoint.clone(),
                    attempts: required(row, 1)?,
                    retry_from: required(row, 2)?,
                    payload: required(row, 3)?,
                });
            }
        }
        Ok(due)
    }

    /// Sends `first`, then whatever waits for the same endpoint, while anything does: a
    /// slot drains its endpoint's queue without waiting for the next round.
    async fn deliver(self: Arc<Self>, first: Due) {
        let endpoint = first.endpoint.id;
        let mut next = Some(first);
        while let Some(due) = next {
            let outcome = client::send(
                &self.client,
                &self.rules,
                &due.endpoint.url,
                &format!("msg_{}", due.id.simple()),
                &due.endpoint.secrets,
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

    /// Deletes finished deliveries past [`KEEP_DAYS`], and those an endpoint's deletion
    /// left behind (a write that committed alongside it).
    async fn prune(&self) -> Result<()> {
        let cutoff = now() - chrono::Duration::days(KEEP_DAYS);
        let backend = self.db.get_database_backend();
        let mut old = SqlBuilder::new(backend);
        old.push(BACKGROUND)
            .push("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ")
            .bind(cutoff);
        let mut orphans = SqlBuilder::new(backend);
        orphans.push(BACKGROUND).push(
            "DELETE FROM webhook_deliveries WHERE NOT EXISTS \
             (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id)",
        );
        recorder::write(&self.db, &self.gate, vec![old.build(), orphans.build()]).await
    }
}

/// An endpoint row: its secrets are the current one and, during a rotation's overlap, the
/// previous one.
fn target(row: &QueryResult, at: DateTime<Utc>) -> Result<Target> {
    let mut secrets = Vec::new();
    let current: String = required(row, 2)?;
    secrets.extend(SigningSecret::parse(&current).ok());
    let previous: Option<String> = column(row, 3)?;
    let previous_until: Option<DateTime<Utc>> = column(row, 4)?;
    if let (Some(previous), Some(until)) = (previous, previous_until)
        && until > at
    {
        secrets.extend(SigningSecret::parse(&previous).ok());
    }
    Ok(Target {
        id: required(row, 0)?,
        url: required(row, 1)?,
        secrets,
    })
}
