//! Writing an item's link sets: the links in order and, for claims, their evidence and
//! the citations behind it.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use super::resolve::{LinkTarget, Resolved};
use crate::domain::LinkSpec;
use crate::domain::relations::RelationKind;
use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// Rewrites the link sets of `id` (all of them, or those named in `only`), keeping the
/// given order in `position`.
pub(super) async fn write_links(
    txn: &DatabaseTransaction,
    id: Uuid,
    resolved: &Resolved,
    only: Option<&[String]>,
) -> Result<()> {
    let backend = txn.get_database_backend();
    for (relation, targets) in &resolved.links {
        if only.is_some_and(|names| !names.iter().any(|n| n == relation.name)) {
            continue;
        }
        let RelationKind::Link {
            link,
            parent_column,
            child_column,
        } = relation.kind
        else {
            continue;
        };
        let mut sql = SqlBuilder::new(backend);
        sql.push(&format!(
            "DELETE FROM {} WHERE {parent_column} = ",
            link.table
        ))
        .bind(id);
        txn.execute_raw(sql.build()).await?;
        // Order is the left end's (an article's mentions); a set written from the right
        // end leaves it neutral.
        let ordered = parent_column == link.left_column;
        for (start, chunk) in (0..).step_by(200).zip(targets.chunks(200)) {
            let mut sql = SqlBuilder::new(backend);
            let claims = link.claim.is_some();
            sql.push(&format!(
                "INSERT INTO {} ({parent_column}, {child_column}, note, position{}) VALUES ",
                link.table,
                if claims {
                    ", certainty, level, direction, summary"
                } else {
                    ""
                }
            ));
            for (n, target) in chunk.iter().enumerate() {
                let position = if ordered { start + n as i32 } else { 0 };
                sql.push(if n == 0 { "(" } else { ", (" });
                sql.bind(id).push(", ").bind(target.id).push(", ");
                sql.bind(target.note.clone()).push(", ").bind(position);
                if claims {
                    let evidence = target.evidence.as_ref().map(|(e, _)| e);
                    sql.push(", ")
                        .bind(evidence.map(|e| e.certainty.as_str()))
                        .push(", ")
                        .bind(evidence.and_then(|e| e.level).map(i16::from))
                        .push(", ")
                        .bind(evidence.map(|e| e.direction.as_str()))
                        .push(", ")
                        .bind(evidence.and_then(|e| e.summary.clone()));
                }
                sql.push(")");
            }
            txn.execute_raw(sql.build()).await?;
        }
        if let Some(claim) = link.claim {
            write_claim_citations(txn, link, claim.citations, id, parent_column, targets).await?;
        }
    }
    Ok(())
}

/// The citations behind each claim of a link set just written (the set's old rows, and
/// their citations with them, are gone).
async fn write_claim_citations(
    txn: &DatabaseTransaction,
    link: &LinkSpec,
    table: &str,
    id: Uuid,
    parent_column: &str,
    targets: &[LinkTarget],
) -> Result<()> {
    let rows: Vec<(Uuid, i32, Uuid)> = targets
        .iter()
        .flat_map(|target| {
            let cited = target.evidence.iter().flat_map(|(_, ids)| ids);
            (0..)
                .zip(cited)
                .map(|(n, citation)| (target.id, n, *citation))
        })
        .collect();
    let (left, right) = (link.left_column, link.right_column);
    for chunk in rows.chunks(200) {
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "INSERT INTO {table} ({left}, {right}, position, citation_id) VALUES "
        ));
        for (n, (target, position, citation)) in chunk.iter().enumerate() {
            // The link's two ends in the table's order, whichever end wrote the set.
            let (l, r) = if parent_column == left {
                (id, *target)
            } else {
                (*target, id)
            };
            sql.push(if n == 0 { "(" } else { ", (" });
            sql.bind(l).push(", ").bind(r).push(", ").bind(*position);
            sql.push(", ").bind(*citation).push(")");
        }
        txn.execute_raw(sql.build()).await?;
    }
    Ok(())
}
