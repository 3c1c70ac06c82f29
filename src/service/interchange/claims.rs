//! Importing claim links: the link row with its evidence, and the citations behind each
//! claim, rewritten only where they differ from what is stored.

use std::collections::{HashMap, HashSet};

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::BATCH_ROWS;
use super::import::{ImportResult, Importer};
use super::parse::LinkRow;
use crate::domain::evidence::Evidence;
use crate::domain::{Collection, LinkSpec};
use crate::service::sql::SqlBuilder;

/// One claim to store: its ends, note, evidence and cited citations' ids in order.
struct Claim {
    left: Uuid,
    right: Uuid,
    note: Option<String>,
    position: i32,
    evidence: Option<Evidence>,
    citations: Vec<Uuid>,
}

type Ends = (Uuid, Uuid);

impl Importer<'_> {
    /// Upserts claim links; returns how many claims changed (their row or citations).
    pub(super) async fn upsert_claims(
        &mut self,
        link: &LinkSpec,
        file: &str,
        rows: Vec<LinkRow>,
        left: &HashMap<String, Uuid>,
        right: &HashMap<String, Uuid>,
    ) -> ImportResult<u64> {
        self.apply_claim_rules(link, file, &rows).await?;
        let cited = rows
            .iter()
            .flat_map(|r| r.evidence.iter().flat_map(|e| e.citations.iter()));
        let citations = self
            .resolve(Collection::Citations, cited.map(String::as_str))
            .await?;
        let mut claims = Vec::with_capacity(rows.len());
        for row in rows {
            let mut ids = Vec::new();
            for slug in row.evidence.iter().flat_map(|e| e.citations.iter()) {
                match citations.get(slug) {
                    Some(id) => ids.push(*id),
                    None => self.reject(
                        file,
                        row.line,
                        format!("field \"evidence\": unknown citation {slug:?}"),
                    ),
                }
            }
            claims.push(Claim {
                left: left[&row.left],
                right: right[&row.right],
                note: row.note,
                position: row.position,
                evidence: row.evidence,
                citations: ids,
            });
        }
        if !self.errors.is_empty() {
            return Ok(0);
        }
        let mut changed: HashSet<Ends> = HashSet::new();
        for chunk in claims.chunks(BATCH_ROWS) {
            changed.extend(self.upsert_claim_rows(link, chunk).await?);
            changed.extend(self.rewrite_citations(link, chunk).await?);
        }
        Ok(changed.len() as u64)
    }

    /// The link rows with their evidence; returns the ends of those inserted or changed.
    async fn upsert_claim_rows(
        &self,
        link: &LinkSpec,
        claims: &[Claim],
    ) -> ImportResult<Vec<Ends>> {
        let (table, l, r) = (link.table, link.left_column, link.right_column);
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(&format!(
            "INSERT INTO {table} ({l}, {r}, note, position, certainty, level, direction, \
             summary) VALUES "
        ));
        for (n, claim) in claims.iter().enumerate() {
            let evidence = claim.evidence.as_ref();
            sql.push(if n == 0 { "(" } else { ", (" });
            sql.bind(claim.left).push(", ").bind(claim.right).push(", ");
            sql.bind(claim.note.clone()).push(", ");
            sql.bind(claim.position).push(", ");
            sql.bind(evidence.map(|e| e.certainty.as_str())).push(", ");
            sql.bind(evidence.and_then(|e| e.level).map(i16::from))
                .push(", ");
            sql.bind(evidence.map(|e| e.direction.as_str())).push(", ");
            sql.bind(evidence.and_then(|e| e.summary.clone())).push(")");
        }
        let columns = [
            "note",
            "position",
            "certainty",
            "level",
            "direction",
            "summary",
        ];
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let differs: Vec<String> = columns
            .iter()
            .map(|c| format!("{table}.{c} IS DISTINCT FROM excluded.{c}"))
            .collect();
        sql.push(&format!(
            " ON CONFLICT ({l}, {r}) DO UPDATE SET {} WHERE {} RETURNING {l}, {r}",
            set.join(", "),
            differs.join(" OR ")
        ));
        let mut changed = Vec::new();
        for row in self.txn.query_all_raw(sql.build()).await? {
            changed.push((row.try_get("", l)?, row.try_get("", r)?));
        }
        Ok(changed)
    }

    /// Rewrites the citations of the claims whose stored list differs; returns their ends.
    async fn rewrite_citations(
        &self,
        link: &LinkSpec,
        claims: &[Claim],
    ) -> ImportResult<Vec<Ends>> {
        let Some(spec) = link.claim else {
            return Ok(Vec::new());
        };
        let (table, l, r) = (spec.citations, link.left_column, link.right_column);
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(&format!(
            "SELECT {l}, {r}, citation_id FROM {table} WHERE {l} IN "
        ))
        .bind_list(claims.iter().map(|c| c.left))
        .push(" ORDER BY position");
        let mut stored: HashMap<Ends, Vec<Uuid>> = HashMap::new();
        for row in self.txn.query_all_raw(sql.build()).await? {
            let ends = (row.try_get("", l)?, row.try_get("", r)?);
            stored
                .entry(ends)
                .or_default()
                .push(row.try_get("", "citation_id")?);
        }
        let differ: Vec<&Claim> = claims
            .iter()
            .filter(|c| {
                stored
                    .get(&(c.left, c.right))
                    .map_or(&[][..], Vec::as_slice)
                    != c.citations
            })
            .collect();
        if differ.is_empty() {
            return Ok(Vec::new());
        }
        // Short OR chains: SQLite limits an expression's depth.
        for chunk in differ.chunks(100) {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!("DELETE FROM {table} WHERE "));
            for (n, claim) in chunk.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { " OR (" });
                sql.push(&format!("{l} = ")).bind(claim.left);
                sql.push(&format!(" AND {r} = "))
                    .bind(claim.right)
                    .push(")");
            }
            self.txn.execute_raw(sql.build()).await?;
        }
        let rows: Vec<(Uuid, Uuid, i32, Uuid)> = differ
            .iter()
            .flat_map(|c| {
                (0..)
                    .zip(&c.citations)
                    .map(|(n, id)| (c.left, c.right, n, *id))
            })
            .collect();
        for chunk in rows.chunks(BATCH_ROWS) {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!(
                "INSERT INTO {table} ({l}, {r}, position, citation_id) VALUES "
            ));
            for (n, (left, right, position, citation)) in chunk.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { ", (" });
                sql.bind(*left).push(", ").bind(*right).push(", ");
                sql.bind(*position).push(", ").bind(*citation).push(")");
            }
            self.txn.execute_raw(sql.build()).await?;
        }
        Ok(differ.iter().map(|c| (c.left, c.right)).collect())
    }
}
