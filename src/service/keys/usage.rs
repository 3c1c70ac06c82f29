//! When each key was last used, without a write per request: authentication notes the
//! time in memory and [`KeyUsage::flush`] writes the latest time of every key used since
//! the last flush, one statement per key, which the
//! statement counter leaves out (it runs on no request's behalf). Listings show the later of the stored and the
//! noted time, so this instance's own use shows at once.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// Keys used since the last flush, with the time of their latest use.
#[derive(Debug, Default)]
pub struct KeyUsage {
    noted: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl KeyUsage {
    pub fn record(&self, key: Uuid, at: DateTime<Utc>) {
        let mut noted = self.lock();
        let latest = noted.entry(key).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// The latest use noted here and not yet written.
    pub fn pending(&self, key: Uuid) -> Option<DateTime<Utc>> {
        self.lock().get(&key).copied()
    }

    /// Writes every noted use (never moving a stored time back: another instance may have
    /// written a later one). Uses that fail to be written are noted again.
    pub async fn flush(&self, db: &impl ConnectionTrait) -> Result<usize> {
        let noted: Vec<(Uuid, DateTime<Utc>)> = self.lock().drain().collect();
        let mut written = 0;
        for (n, (key, at)) in noted.iter().enumerate() {
            let mut sql = SqlBuilder::new(db.get_database_backend());
            sql.push(crate::db::BACKGROUND)
                .push("UPDATE api_keys SET last_used_at = ")
                .bind(*at)
                .push(" WHERE id = ")
                .bind(*key)
                .push(" AND (last_used_at IS NULL OR last_used_at < ")
                .bind(*at)
                .push(")");
            if let Err(error) = db.execute_raw(sql.build()).await {
                for (key, at) in &noted[n..] {
                    self.record(*key, *at);
                }
                return Err(error.into());
            }
            written += 1;
        }
        Ok(written)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, DateTime<Utc>>> {
        self.noted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
