//! Search across collections on PostgreSQL for one word: the best hits of each type read
//! from `search_postings` (each item's `ts_rank` for each of its lexemes, kept by triggers;
//! see the migration), in index order, instead of ranking every match. Each type gives at
//! most `want` hits after the cursor and the pages merge them: exactly the page the single
//! ranking statement returns, at the cost of `want` index entries a type.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use super::{After, Ranked, Wanted};
use crate::domain::Collection;
use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// Marks the row that says the word is more than one lexeme (the postings cannot answer).
const SEVERAL_LEXEMES: &str = "*";

/// The hits `wanted`, or `None` when the query is not one whole word of one lexeme
/// (prefixes and several words are ranked the plain way).
pub(super) async fn rank(
    db: &DatabaseConnection,
    wanted: &Wanted<'_>,
) -> Result<Option<Vec<Ranked>>> {
    let [(word, false)] = wanted.terms.words() else {
        return Ok(None);
    };
    let mut sql = SqlBuilder::new(DbBackend::Postgres);
    // The word's lexemes, as the search vectors were made (the same parser and stemmer);
    // a scalar subquery, so that each type's scan follows the index order.
    sql.push("WITH q AS (SELECT tsvector_to_array(to_tsvector('english', ")
        .bind(word.clone())
        .push(")) AS l) ");
    for (n, collection) in wanted.types.iter().enumerate() {
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        // The postings keep no status: each candidate's is looked up, in score order,
        // until enough are visible (a subquery per row, which the planner keeps so).
        sql.push(&format!(
            "(SELECT p.kind, p.id, p.score::float8 AS score FROM search_postings p \
             WHERE p.lexeme = (SELECT l[1] FROM q WHERE cardinality(l) = 1) \
             AND p.kind = '{collection}' AND (SELECT {} FROM {} t WHERE t.id = p.id)",
            wanted.visibility.status_filter("t"),
            collection.table(),
        ));
        if let Some(after) = wanted.after {
            push_after(&mut sql, after, *collection);
        }
        sql.push(&format!(
            " ORDER BY p.score DESC, p.id LIMIT {})",
            wanted.want
        ));
    }
    sql.push(&format!(
        " UNION ALL SELECT '{SEVERAL_LEXEMES}', NULL, NULL FROM q WHERE cardinality(q.l) > 1"
    ));
    let mut hits = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        if row.try_get::<String>("", "kind")? == SEVERAL_LEXEMES {
            return Ok(None);
        }
        hits.push(Ranked::from_row(&row)?);
    }
    hits.sort_by(Ranked::order);
    hits.truncate(wanted.want);
    Ok(Some(hits))
}

/// This type's hits after the cursor, as a range of its index: the type is fixed, so the
/// cursor's type decides whether hits with the cursor's score come before it, after it,
/// or (the cursor's own type) by id.
fn push_after(sql: &mut SqlBuilder, after: &After, collection: Collection) {
    sql.push(" AND p.score ");
    match collection.as_str().cmp(after.kind.as_str()) {
        std::cmp::Ordering::Greater => {
            sql.push("<= ").bind(after.score);
        }
        std::cmp::Ordering::Less => {
            sql.push("< ").bind(after.score);
        }
        std::cmp::Ordering::Equal => {
            sql.push("<= ")
                .bind(after.score)
                .push(" AND (p.score < ")
                .bind(after.score)
                .push(" OR p.id > ")
                .bind(after.id)
                .push(")");
        }
    }
}
