//! The scheduler: one instance of a deployment at a time (the `scheduler` lease) takes
//! the scheduled publications and unpublications that are due, about every second. Each
//! is the item's workflow step at the version the scheduler read, so a step is taken once
//! even if two instances both believed they held the lease for a moment.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Caller;
use super::cache::ReadCache;
use super::editing::schedule::{self, Due};
use super::editing::{Editor, Precondition};
use super::lease::{self, Lease};
use crate::config::ReviewSettings;
use crate::db::WriteGate;
use crate::domain::{Scope, Scopes};
use crate::error::{AppError, Result};

const LEASE: &str = "scheduler";
const RENEW_EVERY: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_secs(1);
/// Steps taken per round at most; more wait for the next round.
const BATCH: u32 = 100;
/// The name the scheduler's steps carry in revisions, the audit log and webhooks.
pub const ACTOR: &str = "scheduler";

pub struct Scheduler {
    db: DatabaseConnection,
    editor_db: DatabaseConnection,
    gate: WriteGate,
    cache: Arc<ReadCache>,
    review: ReviewSettings,
    holder: String,
}

impl Scheduler {
    pub fn new(
        db: DatabaseConnection,
        editor_db: DatabaseConnection,
        gate: WriteGate,
        cache: Arc<ReadCache>,
        review: ReviewSettings,
    ) -> Self {
        Self {
            db,
            editor_db,
            gate,
            cache,
            review,
            holder: Uuid::now_v7().to_string(),
        }
    }

    /// Runs for as long as the process does; the handle gives the lease up at shutdown.
    pub fn spawn(self) -> Lease {
        let lease = Lease::new(self.db.clone(), LEASE, self.holder.clone());
        tokio::spawn(async move { self.run().await });
        lease
    }

    async fn run(self) {
        let mut leading = false;
        let mut renewed = tokio::time::Instant::now() - RENEW_EVERY;
        loop {
            if renewed.elapsed() >= RENEW_EVERY {
                let held = lease::hold(&self.db, &self.gate, LEASE, &self.holder)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::warn!(?error, "cannot renew the scheduler lease");
                        false
                    });
                if held != leading {
                    tracing::info!(leading = held, "scheduler lease changed");
                }
                leading = held;
                renewed = tokio::time::Instant::now();
            }
            if leading && let Err(error) = self.take_due().await {
                tracing::warn!(?error, "cannot take the scheduled steps that are due");
            }
            tokio::time::sleep(if leading { POLL } else { RENEW_EVERY }).await;
        }
    }

    /// Takes every step due now (up to [`BATCH`]).
    async fn take_due(&self) -> Result<()> {
        let due = schedule::due(&self.db, BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        let caller = Caller {
            key_name: Some(ACTOR.to_owned()),
            scopes: Scopes::from_granted(&[Scope::Publish]),
        };
        let editor = Editor {
            db: &self.editor_db,
            gate: &self.gate,
            cache: &self.cache,
            caller: &caller,
            request_id: None,
            review: self.review,
        };
        for step in &due {
            take(&editor, step).await?;
        }
        Ok(())
    }
}

/// One due step: taken, or kept on the item as refused; an item changed since it was read
/// is left to the next round.
async fn take(editor: &Editor<'_>, due: &Due) -> Result<()> {
    let precondition = Precondition::Version(due.version);
    match editor
        .transition(due.collection, &due.slug, due.step, &precondition)
        .await
    {
        Ok(_) => {
            tracing::info!(collection = %due.collection, slug = %due.slug, step = due.step.name(), "scheduled step taken");
            Ok(())
        }
        Err(AppError::Blocked(_, blockers)) => editor.refuse_schedule(due, &blockers).await,
        Err(AppError::PreconditionFailed(_) | AppError::Conflict(_) | AppError::NotFound(_)) => {
            Ok(())
        }
        Err(error) => Err(error),
    }
}
