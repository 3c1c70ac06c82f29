//! Claims' evidence as link rows store it and as readers get it. Every statement that
//! reads link rows (`l`) reads the same seven evidence columns, NULL for links that make
//! no claim, so the branches of one statement line up.

use sea_orm::QueryResult;
use serde_json::{Map, Value as Json, json};

use crate::domain::LinkSpec;
use crate::domain::evidence::{Certainty, ClaimKind, Direction, Evidence, statement};
use crate::error::{AppError, Result};
use crate::service::Visibility;

/// The number of evidence columns.
pub const COLUMNS: usize = 7;

/// `ev_certainty, ev_level, ev_direction, ev_summary, ev_citations` (the slugs of the
/// claim's citations that `visibility` shows, in order, space-separated), and
/// `ev_left_name, ev_right_name` (the names of the link's ends, for the claim's statement).
/// A link without evidence reads nothing more (most links have none).
pub fn columns(link: Option<&LinkSpec>, visibility: Visibility) -> String {
    let Some((link, claim)) = link.and_then(|link| Some((link, link.claim?))) else {
        return "CAST(NULL AS TEXT) AS ev_certainty, CAST(NULL AS SMALLINT) AS ev_level, \
                CAST(NULL AS TEXT) AS ev_direction, CAST(NULL AS TEXT) AS ev_summary, \
                CAST(NULL AS TEXT) AS ev_citations, CAST(NULL AS TEXT) AS ev_left_name, \
                CAST(NULL AS TEXT) AS ev_right_name"
            .to_owned();
    };
    let (left, right) = (link.left_column, link.right_column);
    format!(
        "l.certainty AS ev_certainty, l.level AS ev_level, l.direction AS ev_direction, \
         l.summary AS ev_summary, CASE WHEN l.certainty IS NULL THEN NULL ELSE (SELECT \
         string_agg(c.slug, ' ' ORDER BY e.position) FROM {citations} e JOIN citations c ON \
         c.id = e.citation_id WHERE e.{left} = l.{left} AND e.{right} = l.{right} AND \
         {visible}) END AS ev_citations, CASE WHEN l.certainty IS NULL THEN NULL ELSE (SELECT \
         x.name FROM {left_table} x WHERE x.id = l.{left}) END AS ev_left_name, CASE WHEN \
         l.certainty IS NULL THEN NULL ELSE (SELECT x.name FROM {right_table} x WHERE x.id = \
         l.{right}) END AS ev_right_name",
        citations = claim.citations,
        visible = visibility.status_filter("c"),
        left_table = link.left.table(),
        right_table = link.right.table(),
    )
}

/// `{alias}.certainty IN (…)`: the claim links at or above `min`. The names are the
/// schema's own constants, never a client's text.
pub fn certainty_filter(alias: &str, min: Certainty) -> String {
    let admitted: Vec<String> = min
        .at_least()
        .map(|c| format!("'{}'", c.as_str()))
        .collect();
    format!("{alias}.certainty IN ({})", admitted.join(", "))
}

/// The evidence columns' names, for a statement that selects them again (`w.ev_…`).
pub fn names(alias: &str) -> String {
    [
        "ev_certainty",
        "ev_level",
        "ev_direction",
        "ev_summary",
        "ev_citations",
        "ev_left_name",
        "ev_right_name",
    ]
    .map(|name| format!("{alias}.{name}"))
    .join(", ")
}

/// A link row's evidence, as [`columns`] read it (citations: the visible ones).
pub fn stored(row: &QueryResult) -> Result<Option<Evidence>> {
    let Some(certainty) = row.try_get::<Option<String>>("", "ev_certainty")? else {
        return Ok(None);
    };
    let corrupt = |what: &str| AppError::Internal(anyhow::anyhow!("stored evidence has {what}"));
    let certainty = Certainty::parse(&certainty).ok_or_else(|| corrupt("an unknown certainty"))?;
    let direction: Option<String> = row.try_get("", "ev_direction")?;
    let direction = direction
        .as_deref()
        .map_or(Some(Direction::Benefit), Direction::parse)
        .ok_or_else(|| corrupt("an unknown direction"))?;
    let level: Option<i16> = row.try_get("", "ev_level")?;
    let citations: Option<String> = row.try_get("", "ev_citations")?;
    Ok(Some(Evidence {
        certainty,
        level: level.and_then(|l| u8::try_from(l).ok()),
        direction,
        summary: row.try_get("", "ev_summary")?,
        citations: citations
            .map(|c| c.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
    }))
}

/// A link row's evidence as readers get it: the stored parts, the claim's plain-language
/// `statement`, and the slugs of the citations the reader may see.
pub fn read(row: &QueryResult, link: &LinkSpec) -> Result<Option<Json>> {
    let (Some(claim), Some(evidence)) = (link.claim, stored(row)?) else {
        return Ok(None);
    };
    let left: Option<String> = row.try_get("", "ev_left_name")?;
    let right: Option<String> = row.try_get("", "ev_right_name")?;
    let (left, right) = (left.unwrap_or_default(), right.unwrap_or_default());
    // The technique is the subject of every claim.
    let (technique, other) = match claim.kind {
        ClaimKind::Benefit => (left, right),
        ClaimKind::Condition => (right, left),
    };
    let said = statement(
        claim.kind,
        evidence.certainty,
        evidence.direction,
        &technique,
        &other,
    );
    let mut map = Map::new();
    map.insert("certainty".into(), json!(evidence.certainty.as_str()));
    map.insert("level".into(), json!(evidence.level));
    map.insert("direction".into(), json!(evidence.direction.as_str()));
    map.insert("summary".into(), json!(evidence.summary));
    map.insert("statement".into(), Json::String(said));
    map.insert("citations".into(), json!(evidence.citations));
    Ok(Some(Json::Object(map)))
}
