//! Recording attempts, in batches: every outcome that arrived while the last batch was
//! being written goes into the next one, one transaction (on SQLite, one writer's turn)
//! for all of them, so a busy dispatcher does not multiply the writes editors wait behind.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

use super::client::Outcome;
use super::dispatch::{Held, release};
use super::{DeliveryRules, STATS};
use crate::db::{BACKGROUND, WriteGate};
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::sql::SqlBuilder;

/// Outcomes written in one transaction at most.
const BATCH: usize = 256;
/// An endpoint's last success and failure are stamped at most this often: every write that
/// records an event reads the endpoint's row, which a stamp per batch would churn.
const STAMP_EVERY: chrono::Duration = chrono::Duration::seconds(5);
/// How long the first outcome of a batch waits for others.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// An attempt that ended.
pub(super) struct Finished {
    pub delivery: Uuid,
    pub endpoint: Uuid,
    /// Attempts before this one.
    pub attempts: i32,
    pub retry_from: DateTime<Utc>,
    pub outcome: Outcome,
}

/// Writes outcomes as they come, for as long as the dispatcher runs.
pub(super) async fn run(
    db: DatabaseConnection,
    gate: WriteGate,
    rules: DeliveryRules,
    held: Held,
    mut outcomes: UnboundedReceiver<Finished>,
) {
    while let Some(first) = outcomes.recv().await {
        // What ends meanwhile joins this batch: a fast endpoint's outcomes cost one commit
        // per interval rather than one each.
        tokio::time::sleep(GATHER).await;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match outcomes.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let statements = statements(&db, &rules, &batch);
        match write(&db, &gate, statements.statements).await {
            Ok(()) => {
                STATS
                    .delivered
                    .fetch_add(statements.delivered, Ordering::Relaxed);
                STATS
                    .retried
                    .fetch_add(statements.retried, Ordering::Relaxed);
                STATS.failed.fetch_add(statements.failed, Ordering::Relaxed);
            }
            // Released below, the deliveries are due again and attempted again.
            Err(error) => tracing::warn!(?error, n = batch.len(), "cannot record webhook attempts"),
        }
        release(&held, batch.iter().map(|f| (f.endpoint, f.delivery)));
    }
}

/// Runs the dispatcher's bookkeeping in one transaction, in the writers' turn on SQLite.
pub(super) async fn write(
    db: &DatabaseConnection,
    gate: &WriteGate,
    statements: Vec<Statement>,
) -> Result<()> {
    let _turn = gate.turn().await;
    let txn = gate.connection().unwrap_or(db).begin().await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // A claim or outcome lost in a crash only means a delivery is sent again, which at
        // least once allows: this bookkeeping need not wait for the WAL flush that
        // editors' commits wait for.
        txn.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    for statement in statements {
        txn.execute_raw(statement).await?;
    }
    Ok(txn.commit().await?)
}

struct Statements {
    statements: Vec<Statement>,
    delivered: u64,
    retried: u64,
    failed: u64,
}

/// Successes in one statement per answer status; each failure on its own (its own next
/// attempt, or its end).
fn statements(db: &DatabaseConnection, rules: &DeliveryRules, batch: &[Finished]) -> Statements {
    let backend = db.get_database_backend();
    let at = now();
    let mut out = Statements {
        statements: Vec::new(),
        delivered: 0,
        retried: 0,
        failed: 0,
    };
    let mut succeeded: Vec<(u16, Uuid, Uuid)> = batch
        .iter()
        .filter(|f| f.outcome.succeeded())
        .filter_map(|f| f.outcome.status.map(|s| (s, f.endpoint, f.delivery)))
        .collect();
    succeeded.sort_unstable();
    for group in succeeded.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND).push(
            "UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1, \
             last_error = NULL, last_status = ",
        );
        sql.bind(i32::from(group[0].0));
        sql.push(", last_attempt_at = ").bind(at);
        sql.push(", delivered_at = ").bind(at);
        sql.push(" WHERE endpoint_id = ").bind(group[0].1);
        sql.push(" AND status = 'pending' AND id IN ");
        sql.bind_list(group.iter().map(|(_, _, delivery)| *delivery));
        out.statements.push(sql.build());
        out.delivered += group.len() as u64;
    }
    let mut endpoints: Vec<Uuid> = succeeded.iter().map(|(_, e, _)| *e).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    if !endpoints.is_empty() {
        let mut sql = SqlBuilder::new(backend);
        sql.push(BACKGROUND)
            .push("UPDATE webhook_endpoints SET last_success_at = ")
            .bind(at)
            .push(" WHERE id IN ");
        sql.bind_list(endpoints)
            .push(" AND (last_success_at IS NULL OR last_success_at < ")
            .bind(at - STAMP_EVERY)
            .push(")");
        out.statements.push(sql.build());
    }
    for failure in batch.iter().filter(|f| !f.outcome.succeeded()) {
        let exhausted = failed(&mut out.statements, backend, rules, failure, at);
        match exhausted {
            true => out.failed += 1,
            false => out.retried += 1,
        }
    }
    out
}

/// A failed attempt: due again after the backoff, or failed for good once that would be
/// past the retry period, disabling the endpoint if nothing reached it in all that time.
/// Returns whether the delivery was given up.
fn failed(
    statements: &mut Vec<Statement>,
    backend: sea_orm::DbBackend,
    rules: &DeliveryRules,
    failure: &Finished,
    at: DateTime<Utc>,
) -> bool {
    let attempt = u32::try_from(failure.attempts + 1).unwrap_or(u32::MAX);
    let wait = rules.schedule.jittered(attempt, rand::random::<f64>());
    let next = at + chrono::Duration::from_std(wait).unwrap_or_default();
    let horizon = chrono::Duration::from_std(rules.schedule.horizon).unwrap_or_default();
    let exhausted = next > failure.retry_from + horizon;
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ")
        .bind(at);
    sql.push(", last_status = ")
        .bind(failure.outcome.status.map(i32::from));
    sql.push(", last_error = ")
        .bind(failure.outcome.error.clone());
    match exhausted {
        true => sql.push(", status = 'failed'"),
        false => sql.push(", next_attempt_at = ").bind(next),
    };
    sql.push(" WHERE endpoint_id = ")
        .bind(failure.endpoint)
        .push(" AND id = ")
        .bind(failure.delivery)
        .push(" AND status = 'pending'");
    statements.push(sql.build());
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("UPDATE webhook_endpoints SET last_failure_at = ")
        .bind(at);
    if exhausted {
        let reason = format!(
            "every delivery failed for {} (last: {})",
            span_text(rules.schedule.horizon),
            failure.outcome.error.as_deref().unwrap_or("no answer")
        );
        // Only if nothing reached the endpoint since this delivery's first attempt (a
        // success is stamped up to STAMP_EVERY late).
        let unreached = |sql: &mut SqlBuilder| {
            sql.push(" = CASE WHEN last_success_at IS NULL OR last_success_at < ")
                .bind(failure.retry_from - STAMP_EVERY)
                .push(" THEN ");
        };
        sql.push(", enabled");
        unreached(&mut sql);
        sql.bind(false).push(" ELSE enabled END, disabled_at");
        unreached(&mut sql);
        sql.bind(at).push(" ELSE disabled_at END, disabled_reason");
        unreached(&mut sql);
        sql.bind(reason).push(" ELSE disabled_reason END");
    }
    sql.push(" WHERE id = ").bind(failure.endpoint);
    if !exhausted {
        sql.push(" AND (last_failure_at IS NULL OR last_failure_at < ")
            .bind(at - STAMP_EVERY)
            .push(")");
    }
    statements.push(sql.build());
    exhausted
}

/// `3d`, `12h`, `90s`: the retry period as the setting writes it.
fn span_text(span: std::time::Duration) -> String {
    match span.as_secs() {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
