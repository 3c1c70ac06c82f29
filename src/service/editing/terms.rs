//! Editing the deployment's syndication terms (admin): validated like the fields of the
//! same names, audited, and every response showing them invalidated on every instance.

use serde_json::json;

use super::{Editor, audit};
use crate::domain::Scope;
use crate::domain::syndication::Terms;
use crate::domain::webhook::EventType;
use crate::error::Result;
use crate::service::syndication;

impl Editor<'_> {
    /// Replaces the deployment's syndication terms; null clears a term.
    pub async fn update_syndication(&self, terms: Terms) -> Result<Terms> {
        self.caller.require(Scope::Admin)?;
        // `syndication::store` refuses terms that break a rule.
        let before = syndication::terms(self.db).await?;
        if before == terms {
            return Ok(terms);
        }
        let txn = self.begin().await?;
        syndication::store(&*txn, &terms).await?;
        audit::record_raw(
            &*txn,
            self.actor(),
            self.request_id,
            "update",
            None,
            None,
            Some("syndication"),
            json!({ "before": before, "after": terms }),
        )
        .await?;
        let stale = [syndication::TAG.to_owned()];
        self.finish(txn, &stale, EventType::TermsUpdated, None)
            .await?;
        Ok(terms)
    }
}
