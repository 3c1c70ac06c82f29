//! The API's publishing rules, applied to imported rows so content obeys them whichever way
//! it arrives: a reviewer is an author with credentials; a published item points only at
//! published items (references, and the citations its statistics cite); a published
//! article has a medical reviewer unless the deployment's policy lets it go without; and a
//! published item has a publication date (the one stored, else the import's) and, if it
//! is reviewed, a next review date.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::BATCH_ROWS;
use super::import::{ImportResult, Importer};
use super::parse::{FieldValue, ItemRow, LinkRow};
use crate::domain::{Collection, LinkSpec, Status};
use crate::service::editing::blockers::missing_reviewer;
use crate::service::sql::SqlBuilder;

/// What the rules need of a referenced item.
struct Target {
    status: Status,
    credentials: Option<String>,
}

impl Importer<'_> {
    /// Checks a batch of rows (references still by slug) against the publishing rules,
    /// rejecting each violation as `file:line`, and dates published rows that have no
    /// publication date.
    pub(super) async fn apply_publish_rules(
        &mut self,
        collection: Collection,
        file: &str,
        rows: &mut [ItemRow],
    ) -> ImportResult<()> {
        self.date_publications(collection, rows).await?;
        if collection.reviewable() {
            for row in rows.iter_mut() {
                super::import::review_due(collection, row, self.review);
            }
        }
        let targets = self.targets(rows).await?;
        let fields = collection.fields();
        for row in rows.iter() {
            let published = row.status == Status::Published;
            let mut has_reviewer = false;
            for (field, value) in fields.iter().zip(&row.values) {
                let FieldValue::Reference {
                    target,
                    slug: Some(slug),
                } = value
                else {
                    continue;
                };
                // An unknown slug is reported where references are resolved.
                let Some(found) = targets.get(&(*target, slug.clone())) else {
                    continue;
                };
                if field.name == "reviewer" {
                    has_reviewer = true;
                    if found.credentials.as_deref().is_none_or(str::is_empty) {
                        let reason = format!(
                            "field \"reviewer\": {slug:?} has no credentials; a medical \
                             reviewer needs them"
                        );
                        self.reject(file, row.line, reason);
                    }
                }
                if published && !found.status.is_public() {
                    let reason = format!(
                        "field {:?}: {} {slug:?} is {}; a published {} may only point at \
                         published items",
                        field.name,
                        target.singular(),
                        found.status,
                        collection.singular()
                    );
                    self.reject(file, row.line, reason);
                }
            }
            if !published {
                continue;
            }
            for cited in &row.cited {
                let found = targets.get(&(Collection::Citations, cited.clone()));
                if let Some(found) = found.filter(|f| !f.status.is_public()) {
                    let reason = format!(
                        "field \"statistics\": citation {cited:?} is {}; a published {} may \
                         only cite published citations",
                        found.status,
                        collection.singular()
                    );
                    self.reject(file, row.line, reason);
                }
            }
            if let Some(reason) =
                missing_reviewer(collection, has_reviewer, self.review.medical_review)
            {
                self.reject(file, row.line, format!("field \"reviewer\": {reason}"));
            }
        }
        Ok(())
    }

    /// A claim shown on a published item cites only published citations.
    pub(super) async fn apply_claim_rules(
        &mut self,
        link: &LinkSpec,
        file: &str,
        rows: &[LinkRow],
    ) -> ImportResult<()> {
        let cited: HashSet<&str> = rows
            .iter()
            .flat_map(|r| r.evidence.iter().flat_map(|e| e.citations.iter()))
            .map(String::as_str)
            .collect();
        if cited.is_empty() {
            return Ok(());
        }
        let citations = self.statuses(Collection::Citations, cited).await?;
        let left = self
            .statuses(link.left, rows.iter().map(|r| r.left.as_str()).collect())
            .await?;
        let right = self
            .statuses(link.right, rows.iter().map(|r| r.right.as_str()).collect())
            .await?;
        for row in rows {
            let shown = [left.get(&row.left), right.get(&row.right)]
                .into_iter()
                .flatten()
                .any(|status| status.is_public());
            if !shown {
                continue;
            }
            for slug in row.evidence.iter().flat_map(|e| e.citations.iter()) {
                if let Some(status) = citations.get(slug).filter(|s| !s.is_public()) {
                    let reason = format!(
                        "field \"evidence\": citation {slug:?} is {status}; a claim shown on a \
                         published item may only cite published citations"
                    );
                    self.reject(file, row.line, reason);
                }
            }
        }
        Ok(())
    }

    /// Published rows without a publication date keep the stored one, else get the
    /// import's time, as publishing through the API gives (so importing the same file
    /// again changes nothing).
    async fn date_publications(
        &self,
        collection: Collection,
        rows: &mut [ItemRow],
    ) -> ImportResult<()> {
        let undated: Vec<&str> = rows
            .iter()
            .filter(|r| r.status == Status::Published && r.published_at.is_none())
            .map(|r| r.slug.as_str())
            .collect();
        if undated.is_empty() {
            return Ok(());
        }
        let mut stored: HashMap<String, DateTime<Utc>> = HashMap::new();
        for chunk in undated.chunks(BATCH_ROWS) {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!(
                "SELECT slug, published_at FROM {} WHERE published_at IS NOT NULL AND slug IN ",
                collection.table()
            ))
            .bind_list(chunk.iter().map(|s| s.to_string()));
            for row in self.txn.query_all_raw(sql.build()).await? {
                stored.insert(row.try_get("", "slug")?, row.try_get("", "published_at")?);
            }
        }
        let now = super::now();
        for row in rows
            .iter_mut()
            .filter(|r| r.status == Status::Published && r.published_at.is_none())
        {
            row.published_at = Some(stored.get(&row.slug).copied().unwrap_or(now));
        }
        Ok(())
    }

    /// Status (and, for authors, credentials) of every item the rows reference or cite.
    async fn targets(
        &self,
        rows: &[ItemRow],
    ) -> ImportResult<HashMap<(Collection, String), Target>> {
        let mut wanted: HashMap<Collection, HashSet<&str>> = HashMap::new();
        for row in rows {
            for value in &row.values {
                if let FieldValue::Reference {
                    target,
                    slug: Some(slug),
                } = value
                {
                    wanted.entry(*target).or_default().insert(slug);
                }
            }
            for cited in &row.cited {
                wanted
                    .entry(Collection::Citations)
                    .or_default()
                    .insert(cited);
            }
        }
        let mut found = HashMap::new();
        for (collection, slugs) in wanted {
            for (slug, target) in self.lookup_targets(collection, slugs).await? {
                found.insert((collection, slug), target);
            }
        }
        Ok(found)
    }

    /// The status of each of `slugs` that exists in `collection`.
    async fn statuses(
        &self,
        collection: Collection,
        slugs: HashSet<&str>,
    ) -> ImportResult<HashMap<String, Status>> {
        let found = self.lookup_targets(collection, slugs).await?;
        Ok(found
            .into_iter()
            .map(|(slug, t)| (slug, t.status))
            .collect())
    }

    async fn lookup_targets(
        &self,
        collection: Collection,
        slugs: HashSet<&str>,
    ) -> ImportResult<Vec<(String, Target)>> {
        let slugs: Vec<&str> = slugs.into_iter().collect();
        let credentials = if collection == Collection::Authors {
            "credentials"
        } else {
            "NULL"
        };
        let mut found = Vec::new();
        for chunk in slugs.chunks(BATCH_ROWS) {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!(
                "SELECT slug, status, {credentials} AS credentials FROM {} WHERE slug IN ",
                collection.table()
            ))
            .bind_list(chunk.iter().map(|s| s.to_string()));
            for row in self.txn.query_all_raw(sql.build()).await? {
                let status: String = row.try_get("", "status")?;
                let Some(status) = Status::parse(&status) else {
                    continue;
                };
                let target = Target {
                    status,
                    credentials: row.try_get("", "credentials")?,
                };
                found.push((row.try_get("", "slug")?, target));
            }
        }
        Ok(found)
    }
}
