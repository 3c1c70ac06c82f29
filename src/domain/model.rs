//! The content model of PRODUCT.md §1 as data: every collection with its fields, and every
//! link. Import, export and validation walk these tables instead of repeating per-collection
//! code, so adding a field is a one-line change here plus a migration.

use std::fmt;

pub use super::evidence::ClaimKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collection {
    Publishers,
    Authors,
    Citations,
    Conditions,
    Techniques,
    Benefits,
    Products,
    Articles,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// CommonMark text, stored with its renditions (sanitised HTML, plain text) in the
    /// columns named here, so a reader's `format` costs no rendering.
    Markdown(Renditions),
    Integer,
    /// Text restricted to the listed values.
    Enum(&'static [&'static str]),
    StringList,
    /// People or bodies: `[{family, given} | {literal}]`, stored as JSON with each name
    /// on one line (family first) in the column `text`, which full-text search reads.
    Names {
        text: &'static str,
    },
    /// Condition statistics: `[{label, value, unit, year, citation}]`.
    Statistics,
    /// A reference by slug to an item of another collection (stored as its id).
    Reference(Collection),
    Timestamp,
}

/// The columns holding a Markdown field's renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renditions {
    pub html: &'static str,
    pub text: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Name in the interchange format and the API.
    pub name: &'static str,
    /// Column in the collection's table.
    pub column: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// For references: the name of the inverse relation on the target
    /// (`author` → `Author.articles`).
    pub inverse: &'static str,
}

const fn field(name: &'static str, kind: FieldKind, required: bool) -> Field {
    Field {
        name,
        column: name,
        kind,
        required,
        inverse: "",
    }
}

const fn text(name: &'static str) -> Field {
    field(name, FieldKind::Text, false)
}

const fn markdown(name: &'static str, html: &'static str, text: &'static str) -> Field {
    field(name, FieldKind::Markdown(Renditions { html, text }), false)
}

const fn reference(
    name: &'static str,
    column: &'static str,
    target: Collection,
    required: bool,
    inverse: &'static str,
) -> Field {
    Field {
        name,
        column,
        kind: FieldKind::Reference(target),
        required,
        inverse,
    }
}

/// The medical reviewer of a reviewable item (an author with credentials, set with the
/// review dates by recording a review); `inverse` names what the author reviewed.
const fn reviewer(inverse: &'static str) -> Field {
    reference(
        "reviewer",
        "reviewer_id",
        Collection::Authors,
        false,
        inverse,
    )
}

/// Fields of every collection for scheduled publishing: when a background task publishes
/// and unpublishes the item, and why a scheduled step was refused (set by the task).
pub const SCHEDULE_FIELDS: [&str; 3] = ["publish_at", "unpublish_at", "schedule_error"];

/// Fields every content item has, before its collection's own.
pub const COMMON_FIELDS: [&str; 7] = [
    "id",
    "slug",
    "status",
    "published_at",
    "created_at",
    "updated_at",
    "version",
];

pub const STATUSES: &[&str] = super::status::Status::NAMES;
pub const TECHNIQUE_KINDS: &[&str] = &["professional", "self"];
pub const PRESSURES: &[&str] = &["light", "moderate", "firm", "variable"];
pub const CITATION_KINDS: &[&str] = &["study", "guideline", "review", "meta_analysis", "report"];

use FieldKind::{Enum, Integer, StringList, Timestamp};

const PUBLISHER_FIELDS: &[Field] = &[
    field("name", FieldKind::Text, true),
    text("summary"),
    text("url"),
    text("logo_url"),
    text("licence_url"),
    text("attribution_text"),
    text("attribution_url"),
    text("disclaimer"),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const AUTHOR_FIELDS: &[Field] = &[
    field("name", FieldKind::Text, true),
    text("credentials"),
    text("job_title"),
    markdown("bio", "bio_html", "bio_text"),
    field("specialties", StringList, false),
    text("image_url"),
    field("same_as", StringList, false),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const CITATION_FIELDS: &[Field] = &[
    field("kind", Enum(CITATION_KINDS), true),
    field("title", FieldKind::Text, true),
    text("journal"),
    field("year", Integer, false),
    text("issued"),
    text("volume"),
    text("issue"),
    text("pages"),
    text("publisher"),
    text("doi"),
    text("pmid"),
    text("pmcid"),
    text("url"),
    text("accessed"),
    Field {
        name: "authors",
        column: "author_names",
        kind: FieldKind::Names { text: "authors" },
        required: false,
        inverse: "",
    },
    field("sample_size", Integer, false),
    text("summary"),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const CONDITION_FIELDS: &[Field] = &[
    field("name", FieldKind::Text, true),
    field("alternate_names", StringList, false),
    text("summary"),
    markdown("body", "body_html", "body_text"),
    text("body_region"),
    field("icd10", StringList, false),
    field("statistics", FieldKind::Statistics, false),
    reviewer("reviewed_conditions"),
    field("last_reviewed_at", Timestamp, false),
    field("next_review_due", Timestamp, false),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const TECHNIQUE_FIELDS: &[Field] = &[
    field("name", FieldKind::Text, true),
    field("kind", Enum(TECHNIQUE_KINDS), true),
    field("pressure", Enum(PRESSURES), false),
    text("summary"),
    markdown("description", "description_html", "description_text"),
    reviewer("reviewed_techniques"),
    field("last_reviewed_at", Timestamp, false),
    field("next_review_due", Timestamp, false),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const BENEFIT_FIELDS: &[Field] = &[
    field("name", FieldKind::Text, true),
    text("summary"),
    markdown("mechanism", "mechanism_html", "mechanism_text"),
    reviewer("reviewed_benefits"),
    field("last_reviewed_at", Timestamp, false),
    field("next_review_due", Timestamp, false),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const PRODUCT_FIELDS: &[Field] = &[
    field("sku", FieldKind::Text, true),
    text("gtin"),
    field("name", FieldKind::Text, true),
    text("brand"),
    text("category"),
    markdown("description", "description_html", "description_text"),
    text("url"),
    text("image_url"),
    field("price_cents", Integer, false),
    text("currency"),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];
const ARTICLE_FIELDS: &[Field] = &[
    field("title", FieldKind::Text, true),
    text("summary"),
    markdown("body", "body_html", "body_text"),
    reference("author", "author_id", Collection::Authors, true, "articles"),
    reviewer("reviewed_articles"),
    reference(
        "publisher",
        "publisher_id",
        Collection::Publishers,
        false,
        "articles",
    ),
    field("last_reviewed_at", Timestamp, false),
    field("next_review_due", Timestamp, false),
    text("canonical_url"),
    field("publish_at", Timestamp, false),
    field("unpublish_at", Timestamp, false),
    text("schedule_error"),
];

/// A field no two items of a collection share. Values are compared by their key (the
/// 14-digit form of a GTIN, so GTIN-13 `0036000291452` and GTIN-12 `036000291452` clash),
/// stored in `column`.
#[derive(Debug, Clone, Copy)]
pub struct UniqueField {
    pub field: &'static str,
    pub column: &'static str,
    /// The key of a valid value (`None` for an invalid one, which validation reports).
    pub key: fn(&str) -> Option<String>,
}

const CITATION_UNIQUE: &[UniqueField] = &[
    UniqueField {
        field: "doi",
        column: "doi",
        key: |doi| Some(super::citation::normalize_doi(doi)),
    },
    UniqueField {
        field: "pmid",
        column: "pmid",
        key: |pmid| Some(pmid.to_owned()),
    },
    UniqueField {
        field: "pmcid",
        column: "pmcid",
        key: |pmcid| Some(super::citation::normalize_pmcid(pmcid)),
    },
];

const PRODUCT_UNIQUE: &[UniqueField] = &[
    UniqueField {
        field: "sku",
        column: "sku",
        key: |sku| Some(sku.to_owned()),
    },
    UniqueField {
        field: "gtin",
        column: "gtin14",
        key: |gtin| {
            super::gtin::Gtin::parse(gtin)
                .ok()
                .map(|g| g.padded().to_owned())
        },
    },
];

impl UniqueField {
    /// Whether the key is kept in a column of its own, written beside the field.
    pub fn derived(&self) -> bool {
        self.column != self.field
    }
}

impl Collection {
    /// In dependency order: a collection only references collections before it.
    pub const ALL: [Collection; 8] = [
        Collection::Publishers,
        Collection::Authors,
        Collection::Citations,
        Collection::Conditions,
        Collection::Techniques,
        Collection::Benefits,
        Collection::Products,
        Collection::Articles,
    ];

    /// The REST path segment, table name and interchange file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Publishers => "publishers",
            Collection::Authors => "authors",
            Collection::Citations => "citations",
            Collection::Conditions => "conditions",
            Collection::Techniques => "techniques",
            Collection::Benefits => "benefits",
            Collection::Products => "products",
            Collection::Articles => "articles",
        }
    }

    pub fn table(self) -> &'static str {
        self.as_str()
    }

    /// Singular name, as used in link files (`{"condition": …, "technique": …}`).
    pub fn singular(self) -> &'static str {
        match self {
            Collection::Publishers => "publisher",
            Collection::Authors => "author",
            Collection::Citations => "citation",
            Collection::Conditions => "condition",
            Collection::Techniques => "technique",
            Collection::Benefits => "benefit",
            Collection::Products => "product",
            Collection::Articles => "article",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == input)
    }

    /// Fields beyond the common ones (id, slug, status, timestamps, version).
    pub fn fields(self) -> &'static [Field] {
        match self {
            Collection::Publishers => PUBLISHER_FIELDS,
            Collection::Authors => AUTHOR_FIELDS,
            Collection::Citations => CITATION_FIELDS,
            Collection::Conditions => CONDITION_FIELDS,
            Collection::Techniques => TECHNIQUE_FIELDS,
            Collection::Benefits => BENEFIT_FIELDS,
            Collection::Products => PRODUCT_FIELDS,
            Collection::Articles => ARTICLE_FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Whether items are medically reviewed: they carry a reviewer and review dates, and
    /// keep a review history.
    pub fn reviewable(self) -> bool {
        self.field("next_review_due").is_some()
    }

    /// Fields unique across the collection besides `id` and `slug`.
    pub fn unique_fields(self) -> &'static [UniqueField] {
        match self {
            Collection::Products => PRODUCT_UNIQUE,
            Collection::Citations => CITATION_UNIQUE,
            _ => &[],
        }
    }

    /// Links whose items are listed inline in this collection's interchange rows.
    pub fn inline_links(self) -> impl Iterator<Item = &'static LinkSpec> {
        LINKS
            .iter()
            .filter(move |link| link.inline.is_some() && link.left == self)
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A many-to-many link between two collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSpec {
    /// Table name, and interchange file stem for links kept in their own file.
    pub table: &'static str,
    pub left: Collection,
    pub left_column: &'static str,
    pub right: Collection,
    pub right_column: &'static str,
    /// `Some(key)` when the link is listed inline on the left item (articles' mentions).
    pub inline: Option<&'static str>,
    /// `Some` when the link claims that a technique helps (and so carries evidence).
    pub claim: Option<ClaimSpec>,
}

/// A link that makes a claim: the table of the citations behind each claim, and how the
/// claim reads (the technique is the right end of `condition_techniques`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSpec {
    pub citations: &'static str,
    pub kind: ClaimKind,
}

impl LinkSpec {
    /// Key of the left end in a link file row (`condition`).
    pub fn left_key(&self) -> &'static str {
        self.left.singular()
    }

    /// Key of the right end in a link file row (`technique`).
    pub fn right_key(&self) -> &'static str {
        self.right.singular()
    }
}

const fn link(
    table: &'static str,
    left: Collection,
    left_column: &'static str,
    right: Collection,
    right_column: &'static str,
    inline: Option<&'static str>,
) -> LinkSpec {
    LinkSpec {
        table,
        left,
        left_column,
        right,
        right_column,
        inline,
        claim: None,
    }
}

const fn claim_link(
    table: &'static str,
    left: Collection,
    left_column: &'static str,
    right: Collection,
    right_column: &'static str,
    claim: ClaimSpec,
) -> LinkSpec {
    LinkSpec {
        claim: Some(claim),
        ..link(table, left, left_column, right, right_column, None)
    }
}

use Collection as C;

pub const LINKS: &[LinkSpec] = &[
    claim_link(
        "condition_techniques",
        C::Conditions,
        "condition_id",
        C::Techniques,
        "technique_id",
        ClaimSpec {
            citations: "condition_technique_citations",
            kind: ClaimKind::Condition,
        },
    ),
    link(
        "condition_citations",
        C::Conditions,
        "condition_id",
        C::Citations,
        "citation_id",
        None,
    ),
    claim_link(
        "technique_benefits",
        C::Techniques,
        "technique_id",
        C::Benefits,
        "benefit_id",
        ClaimSpec {
            citations: "technique_benefit_citations",
            kind: ClaimKind::Benefit,
        },
    ),
    link(
        "technique_citations",
        C::Techniques,
        "technique_id",
        C::Citations,
        "citation_id",
        None,
    ),
    link(
        "benefit_citations",
        C::Benefits,
        "benefit_id",
        C::Citations,
        "citation_id",
        None,
    ),
    link(
        "technique_products",
        C::Techniques,
        "technique_id",
        C::Products,
        "product_id",
        None,
    ),
    link(
        "article_conditions",
        C::Articles,
        "article_id",
        C::Conditions,
        "condition_id",
        Some("conditions"),
    ),
    link(
        "article_techniques",
        C::Articles,
        "article_id",
        C::Techniques,
        "technique_id",
        Some("techniques"),
    ),
    link(
        "article_benefits",
        C::Articles,
        "article_id",
        C::Benefits,
        "benefit_id",
        Some("benefits"),
    ),
    link(
        "article_citations",
        C::Articles,
        "article_id",
        C::Citations,
        "citation_id",
        Some("citations"),
    ),
    link(
        "article_products",
        C::Articles,
        "article_id",
        C::Products,
        "product_id",
        Some("products"),
    ),
    link(
        "article_related",
        C::Articles,
        "article_id",
        C::Articles,
        "related_id",
        Some("related"),
    ),
];

/// Links kept in their own interchange file.
pub fn file_links() -> impl Iterator<Item = &'static LinkSpec> {
    LINKS.iter().filter(|link| link.inline.is_none())
}

#[cfg(test)]
mod claim_tests {
    use super::*;

    #[test]
    fn claim_links_are_the_migrated_ones() {
        let claims: Vec<(&str, &str, &str, &str)> = LINKS
            .iter()
            .filter_map(|l| {
                l.claim
                    .map(|c| (l.table, c.citations, l.left_column, l.right_column))
            })
            .collect();
        assert_eq!(claims, migration::CLAIMS);
    }
}
