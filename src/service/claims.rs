//! Claims' evidence as link rows store it and as readers get it. Every statement that
//! reads link rows (`l`) reads the same seven evidence columns, NULL for links that make
//! no claim, so the branches of one statement line up.

use sea_orm::{DbBackend, QueryResult};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::domain::LinkSpec;
use crate::domain::evidence::{Certainty, ClaimKind, Direction, Evidence, statement};
use crate::domain::reference_style::CitationStyle;
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::item::{ItemObject, reference_key, stored_reference};
use crate::service::link_rows::{self, LinkRows};

/// The number of evidence columns.
pub const COLUMNS: usize = 7;

/// How a claim's citations are read: their slugs (what editors write, export and
/// revisions keep), or for readers the works in brief (slug, title, kind, journal, year,
/// DOI, PMID, URL), built in the statement that reads the link rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cited {
    Slugs,
    /// As REST serves them: each with `formatted`, its reference in the style if one is
    /// asked for.
    Works(Option<CitationStyle>),
    /// As citation objects in brief ([`brief_citation`]): with their ids, and the
    /// reference in the style under [`reference_key`], so that a GraphQL query asking
    /// only for what they hold needs no other statement.
    Citations(Option<CitationStyle>),
}

/// The form readers' works take, each with the reference in the style its reader's
/// [`FieldSet`](crate::service::item::FieldSet) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkForm {
    /// [`Cited::Works`], as REST serves them.
    Served,
    /// [`Cited::Citations`], for GraphQL.
    Citations,
}

impl WorkForm {
    pub fn cited(self, style: Option<CitationStyle>) -> Cited {
        match self {
            WorkForm::Served => Cited::Works(style),
            WorkForm::Citations => Cited::Citations(style),
        }
    }
}

/// The brief work's keys and columns (on alias `c`).
const WORK: &[(&str, &str)] = &[
    ("slug", "slug"),
    ("title", "title"),
    ("kind", "kind"),
    ("journal", "journal"),
    ("year", "year"),
    ("doi", "doi"),
    ("pmid", "pmid"),
    ("url", "url"),
];

/// `ev_certainty, ev_level, ev_direction, ev_summary, ev_citations` (the citations that
/// `visibility` shows, in order, as [`Cited`] says: space-separated slugs or a JSON array),
/// and `ev_left_name, ev_right_name` (the names of the link's ends, for the claim's
/// statement). A link without evidence reads nothing more (most links have none).
pub fn columns(
    link: Option<&LinkSpec>,
    rows: LinkRows,
    visibility: Visibility,
    backend: DbBackend,
    cited: Cited,
) -> String {
    let Some((link, claim)) = link.and_then(|link| Some((link, link.claim?))) else {
        return "CAST(NULL AS TEXT) AS ev_certainty, CAST(NULL AS SMALLINT) AS ev_level, \
                CAST(NULL AS TEXT) AS ev_direction, CAST(NULL AS TEXT) AS ev_summary, \
                CAST(NULL AS TEXT) AS ev_citations, CAST(NULL AS TEXT) AS ev_left_name, \
                CAST(NULL AS TEXT) AS ev_right_name"
            .to_owned();
    };
    let (left, right) = (link.left_column, link.right_column);
    let visible = visibility.status_filter("c");
    let stored = format!(
        "(SELECT {aggregate} FROM {citations} e JOIN citations c ON c.id = e.citation_id WHERE \
         e.{left} = l.{left} AND e.{right} = l.{right} AND {visible})",
        aggregate = aggregate(backend, cited, "e.position"),
        citations = claim.citations,
    );
    let cited_works = match rows {
        LinkRows::Stored => stored,
        LinkRows::WithDrafts => {
            let (from, order) = link_rows::draft_citations(backend);
            format!(
                "CASE WHEN l.draft_citations IS NULL THEN {stored} ELSE (SELECT {} FROM {from} \
                 WHERE {visible}) END",
                aggregate(backend, cited, order)
            )
        }
    };
    format!(
        "l.certainty AS ev_certainty, l.level AS ev_level, l.direction AS ev_direction, \
         l.summary AS ev_summary, CASE WHEN l.certainty IS NULL THEN NULL ELSE {cited_works} \
         END AS ev_citations, CASE WHEN l.certainty IS NULL THEN NULL ELSE (SELECT x.name \
         FROM {left_table} x WHERE x.id = l.{left}) END AS ev_left_name, CASE WHEN \
         l.certainty IS NULL THEN NULL ELSE (SELECT x.name FROM {right_table} x WHERE x.id = \
         l.{right}) END AS ev_right_name",
        left_table = link.left.table(),
        right_table = link.right.table(),
    )
}

/// The aggregate of a claim's citation rows (`e` the claim's, `c` the citation's), as text.
fn aggregate(backend: DbBackend, cited: Cited, order: &str) -> String {
    let style = match cited {
        Cited::Slugs => return format!("string_agg(c.slug, ' ' ORDER BY {order})"),
        Cited::Works(style) | Cited::Citations(style) => style,
    };
    let mut pairs: Vec<String> = WORK
        .iter()
        .map(|(key, column)| format!("'{key}', c.{column}"))
        .collect();
    if let Cited::Citations(_) = cited {
        pairs.push(match backend {
            DbBackend::Postgres => "'id', c.id".to_owned(),
            // Stored as 16 bytes, which JSON cannot hold.
            _ => "'id', lower(hex(c.id))".to_owned(),
        });
    }
    if let Some(style) = style {
        let key = match cited {
            Cited::Citations(_) => reference_key(style),
            _ => "formatted",
        };
        pairs.push(format!(
            "'{key}', {}",
            stored_reference(backend, "c", style)
        ));
    }
    let pairs = pairs.join(", ");
    match backend {
        DbBackend::Postgres => {
            format!("CAST(json_agg(json_build_object({pairs}) ORDER BY {order}) AS TEXT)")
        }
        _ => format!("json_group_array(json_object({pairs}) ORDER BY {order})"),
    }
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

/// A link row's evidence read with [`Cited::Slugs`] (citations: the visible ones).
pub fn stored(row: &QueryResult) -> Result<Option<Evidence>> {
    let Some(mut evidence) = graded(row)? else {
        return Ok(None);
    };
    let slugs: Option<String> = row.try_get("", "ev_citations")?;
    evidence.citations = slugs
        .map(|s| s.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(Some(evidence))
}

/// The scalar parts of a link row's evidence (no citations), if it has any.
fn graded(row: &QueryResult) -> Result<Option<Evidence>> {
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
    Ok(Some(Evidence {
        certainty,
        level: level.and_then(|l| u8::try_from(l).ok()),
        direction,
        summary: row.try_get("", "ev_summary")?,
        citations: Vec::new(),
    }))
}

/// Whether a citation in brief ([`Cited::Citations`]) holds the field named `name`.
pub fn in_brief(name: &str) -> bool {
    name == "id" || WORK.iter().any(|(key, _)| *key == name)
}

/// A claim's work read with [`Cited::Citations`] as a citation object (lacking the fields
/// not [`in_brief`]).
pub fn brief_citation(work: &Map<String, Json>) -> ItemObject {
    let mut object = ItemObject::new();
    for (key, value) in work {
        let key = key.as_str();
        if key == "id" {
            let id = value.as_str().and_then(|id| Uuid::parse_str(id).ok());
            object.insert(
                "id",
                id.map_or(Json::Null, |id| Json::String(id.to_string())),
            );
        } else if let Some(&(key, _)) = WORK.iter().find(|(name, _)| *name == key) {
            object.insert(key, value.clone());
        } else if let Some(style) = CitationStyle::ALL
            .into_iter()
            .find(|s| reference_key(*s) == key)
        {
            object.insert(reference_key(style), value.clone());
        }
    }
    object
}

/// A link row's evidence as readers get it, read with [`Cited::Works`] or
/// [`Cited::Citations`]: the stored parts, the claim's plain-language `statement`, and the
/// works the reader may see.
pub fn read(row: &QueryResult, link: &LinkSpec) -> Result<Option<Json>> {
    let (Some(claim), Some(evidence)) = (link.claim, graded(row)?) else {
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
    // No visible work: NULL on PostgreSQL (an aggregate of no rows), `[]` on SQLite.
    let works: Option<String> = row.try_get("", "ev_citations")?;
    let works: Vec<Json> = match works {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("a claim's works do not read: {e}")))?,
        None => Vec::new(),
    };
    map.insert("citations".into(), Json::Array(works));
    Ok(Some(Json::Object(map)))
}
