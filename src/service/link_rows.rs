//! The link rows a reader reads. Readers read the stored rows. Preview readers read, for
//! every parent with a draft, the draft's link set in their place, expanded from its
//! document in the same statement: includes, GraphQL relations and link filters then show
//! what the draft would publish. The other end's draft does not change a parent's set:
//! an item's link sets are its own content.

use sea_orm::DbBackend;

use crate::domain::relations::{Relation, RelationKind};
use crate::service::Visibility;

/// Where a statement reads link rows from (as `l`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRows {
    /// The link table.
    Stored,
    /// The link table, with drafts' link sets in place of their parents' rows. Its rows
    /// carry `draft_citations`: a claim's citation slugs as a JSON array (from a draft), or
    /// NULL (the claim's citation rows hold them).
    WithDrafts,
}

impl LinkRows {
    /// What `visibility`'s readers read: drafts are for the readers who see them.
    pub fn for_reader(visibility: Visibility) -> Self {
        match visibility {
            Visibility::PublishedOnly => LinkRows::Stored,
            Visibility::All => LinkRows::WithDrafts,
        }
    }

    /// The FROM item of `relation`'s link rows (a link relation; empty for others), to be
    /// followed by its alias. Its columns: both ends, `position`, `note`, and on a claim's
    /// link the evidence columns and `draft_citations`.
    pub fn source(self, relation: &Relation, backend: DbBackend) -> String {
        let RelationKind::Link {
            link,
            parent_column,
            child_column,
        } = relation.kind
        else {
            return String::new();
        };
        if self == LinkRows::Stored {
            return link.table.to_owned();
        }
        let claim = link.claim.is_some();
        let stored_evidence = if claim {
            ", s.certainty, s.level, s.direction, s.summary, CAST(NULL AS TEXT) AS draft_citations"
        } else {
            ""
        };
        let element = Element::new(backend, relation.name);
        let ends = if parent_column == link.left_column {
            format!("d.item_id AS {parent_column}, o.id AS {child_column}")
        } else {
            format!("o.id AS {child_column}, d.item_id AS {parent_column}")
        };
        let draft_evidence = if claim {
            element.evidence()
        } else {
            String::new()
        };
        format!(
            "(SELECT s.{left}, s.{right}, s.position, s.note{stored_evidence} FROM {table} s \
             WHERE NOT EXISTS (SELECT 1 FROM drafts d WHERE d.item_id = s.{parent_column}) \
             UNION ALL SELECT {ends}, {position} AS position, {note} AS note{draft_evidence} \
             FROM drafts d {expand} JOIN {other} o ON o.slug = {slug} WHERE d.collection = \
             '{from}')",
            left = link.left_column,
            right = link.right_column,
            table = link.table,
            position = element.position,
            note = element.text("note"),
            expand = element.expand,
            other = relation.to.table(),
            slug = element.text("slug"),
            from = relation.from.as_str(),
        )
    }
}

/// One entry of a draft's link set (`j`), as the engine reads JSON.
struct Element {
    backend: DbBackend,
    expand: String,
    position: &'static str,
}

impl Element {
    fn new(backend: DbBackend, set: &str) -> Self {
        // `set` is a relation's name from the content model, never a client's text.
        match backend {
            DbBackend::Postgres => Element {
                backend,
                expand: format!(
                    "CROSS JOIN LATERAL jsonb_array_elements(d.document -> '{set}') \
                     WITH ORDINALITY AS j(value, n)"
                ),
                position: "CAST(j.n AS INTEGER)",
            },
            _ => Element {
                backend,
                expand: format!("JOIN json_each(d.document, '$.{set}') j"),
                position: "j.key",
            },
        }
    }

    /// The text at `path` (keys, outermost first) of the entry.
    fn text(&self, path: &str) -> String {
        match self.backend {
            DbBackend::Postgres => {
                let keys: Vec<&str> = path.split('.').collect();
                let (last, rest) = keys.split_last().expect("a path has a key");
                let mut expr = "j.value".to_owned();
                for key in rest {
                    expr.push_str(&format!(" -> '{key}'"));
                }
                format!("{expr} ->> '{last}'")
            }
            _ => format!("json_extract(j.value, '$.{path}')"),
        }
    }

    /// The evidence columns of a claim's entry, as the link table names them.
    fn evidence(&self) -> String {
        let (level, citations) = match self.backend {
            DbBackend::Postgres => (
                format!("CAST({} AS SMALLINT)", self.text("evidence.level")),
                "CAST(j.value -> 'evidence' -> 'citations' AS TEXT)".to_owned(),
            ),
            _ => (self.text("evidence.level"), self.text("evidence.citations")),
        };
        format!(
            ", {} AS certainty, {level} AS level, {} AS direction, {} AS summary, {citations} \
             AS draft_citations",
            self.text("evidence.certainty"),
            self.text("evidence.direction"),
            self.text("evidence.summary"),
        )
    }
}

/// A draft claim's citations (`l.draft_citations`) as rows `e` joined to `citations c`:
/// the FROM clause, and `e`'s order.
pub fn draft_citations(backend: DbBackend) -> (&'static str, &'static str) {
    match backend {
        DbBackend::Postgres => (
            "jsonb_array_elements_text(CAST(l.draft_citations AS jsonb)) WITH ORDINALITY \
             AS e(slug, position) JOIN citations c ON c.slug = e.slug",
            "e.position",
        ),
        _ => (
            "json_each(l.draft_citations) e JOIN citations c ON c.slug = e.value",
            "e.key",
        ),
    }
}
