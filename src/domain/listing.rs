//! The query language of list endpoints — filters, sort, search, pagination, includes and
//! sparse fieldsets — validated into typed parameters. REST parses query strings into
//! these; GraphQL will build them from its arguments. Unknown or malformed parameters are
//! 400 errors naming the parameter.

use super::model::{Collection, FieldKind, STATUSES};
use super::paging::PageSize;
use super::relations::{Relation, relation, relations};
use super::slug::Slug;
use super::text::{TextKind, check_controls};
use crate::error::{AppError, Result};

pub const MAX_INCLUDE_DEPTH: usize = 3;
const MAX_FILTER_VALUES: usize = 50;
const MAX_SEARCH_TERMS: usize = 16;
const MAX_QUERY_LEN: usize = 512;

/// Text filters offered besides enumerations and relations.
const TEXT_FILTERS: &[(Collection, &str)] = &[
    (Collection::Products, "category"),
    (Collection::Products, "brand"),
    (Collection::Products, "gtin"),
    (Collection::Conditions, "body_region"),
    (Collection::Citations, "journal"),
    (Collection::Citations, "doi"),
    (Collection::Citations, "pmid"),
    (Collection::Authors, "credentials"),
];

/// Integer fields filterable by exact value and `_gte` / `_lte` bounds.
const RANGE_FILTERS: &[(Collection, &str)] = &[
    (Collection::Citations, "year"),
    (Collection::Citations, "sample_size"),
    (Collection::Products, "price_cents"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortValue {
    Text,
    Integer,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortField {
    pub name: &'static str,
    pub column: &'static str,
    pub nullable: bool,
    pub value: SortValue,
}

const fn sort_field(name: &'static str, nullable: bool, value: SortValue) -> SortField {
    SortField {
        name,
        column: name,
        nullable,
        value,
    }
}

/// Sortable fields of a collection; the first is the default sort.
pub fn sort_fields(collection: Collection) -> Vec<SortField> {
    let title = match collection {
        Collection::Citations | Collection::Articles => "title",
        _ => "name",
    };
    let mut fields = vec![
        sort_field(title, false, SortValue::Text),
        sort_field("slug", false, SortValue::Text),
        sort_field("published_at", true, SortValue::Timestamp),
        sort_field("updated_at", false, SortValue::Timestamp),
        sort_field("created_at", false, SortValue::Timestamp),
    ];
    match collection {
        Collection::Citations => fields.push(sort_field("year", true, SortValue::Integer)),
        Collection::Products => fields.push(sort_field("price_cents", true, SortValue::Integer)),
        Collection::Articles => {
            fields.push(sort_field("last_reviewed_at", true, SortValue::Timestamp));
            fields.push(sort_field("next_review_due", true, SortValue::Timestamp));
        }
        _ => {}
    }
    fields
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Column equals one of the values.
    AnyOf {
        column: &'static str,
        values: Vec<String>,
    },
    AtLeast {
        column: &'static str,
        value: i64,
    },
    AtMost {
        column: &'static str,
        value: i64,
    },
    /// A nullable timestamp column is set and before (`strict`) or at most `days` from
    /// the time of the query. Relative, so a cursor stays valid from page to page.
    DueBy {
        column: &'static str,
        days: i64,
        strict: bool,
    },
    /// Items related to the (visible) item with this slug.
    Related {
        relation: Relation,
        slug: String,
    },
}

/// A full-text query reduced to plain words (letters and digits only), each optionally a
/// prefix (`trig*`), so no operator or quote of either engine's syntax reaches SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(pub Vec<(String, bool)>);

impl SearchTerms {
    pub fn parse(input: &str) -> Result<Self> {
        if input.len() > MAX_QUERY_LEN {
            return Err(AppError::invalid_parameter(format!(
                "q: the search query is longer than {MAX_QUERY_LEN} bytes"
            )));
        }
        // A `*` right after a word makes it a prefix; every other non-alphanumeric
        // character separates words.
        let mut terms: Vec<(String, bool)> = Vec::new();
        let mut word = String::new();
        for c in input.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else if !word.is_empty() {
                terms.push((std::mem::take(&mut word), c == '*'));
            }
        }
        terms.dedup();
        if terms.is_empty() {
            return Err(AppError::invalid_parameter(
                "q: the search query has no words",
            ));
        }
        terms.truncate(MAX_SEARCH_TERMS);
        Ok(Self(terms))
    }

    /// PostgreSQL `to_tsquery` text: `word & prefix:*`.
    pub fn to_tsquery(&self) -> String {
        self.0
            .iter()
            .map(|(w, prefix)| if *prefix { format!("{w}:*") } else { w.clone() })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// SQLite FTS5 MATCH text: `"word" "prefix"*` (implicit AND).
    pub fn to_fts5(&self) -> String {
        self.0
            .iter()
            .map(|(w, prefix)| {
                if *prefix {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeNode {
    pub relation: Relation,
    pub children: Vec<IncludeNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub filters: Vec<Filter>,
    pub search: Option<SearchTerms>,
    /// Empty with a search means "by relevance".
    pub sort: Vec<SortKey>,
    pub limit: PageSize,
    pub cursor: Option<String>,
    pub count: bool,
    pub include: Vec<IncludeNode>,
    pub fields: Option<Vec<String>>,
    /// Also return a cursor for every item (GraphQL edges), not only for the page end.
    pub edge_cursors: bool,
}

/// Parameters of a single-item read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemParams {
    pub include: Vec<IncludeNode>,
    pub fields: Option<Vec<String>>,
}

fn bad(parameter: &str, detail: impl std::fmt::Display) -> AppError {
    AppError::invalid_parameter(format!("{parameter}: {detail}"))
}

/// Each parameter once, and no control character in a name or value (the HTTP edge
/// refuses them already; GraphQL arguments reach here too).
fn unique_pairs(pairs: &[(String, String)]) -> Result<()> {
    for (i, (key, value)) in pairs.iter().enumerate() {
        check_controls(key, TextKind::Line).map_err(|e| bad(&key.escape_debug().to_string(), e))?;
        check_controls(value, TextKind::Line).map_err(|e| bad(key, e))?;
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err(bad(key, "is given more than once"));
        }
    }
    Ok(())
}

pub fn parse_item_params(collection: Collection, pairs: &[(String, String)]) -> Result<ItemParams> {
    unique_pairs(pairs)?;
    let mut params = ItemParams::default();
    for (key, value) in pairs {
        match key.as_str() {
            "include" => params.include = parse_include(collection, value)?,
            "fields" => params.fields = Some(parse_fields(collection, value)?),
            other => return Err(bad(other, "unknown parameter (allowed: include, fields)")),
        }
    }
    Ok(params)
}

pub fn parse_list_params(collection: Collection, pairs: &[(String, String)]) -> Result<ListParams> {
    unique_pairs(pairs)?;
    let mut params = ListParams {
        filters: Vec::new(),
        search: None,
        sort: Vec::new(),
        limit: PageSize::DEFAULT,
        cursor: None,
        count: false,
        include: Vec::new(),
        fields: None,
        edge_cursors: false,
    };
    let mut explicit_sort = false;
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => params.limit = PageSize::parse(value).map_err(|e| bad("limit", e))?,
            "cursor" => params.cursor = Some(value.clone()),
            "count" => {
                params.count = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("count", "must be true or false")),
                }
            }
            "sort" => {
                params.sort = parse_sort(collection, value)?;
                explicit_sort = true;
            }
            "q" => params.search = Some(SearchTerms::parse(value)?),
            "include" => params.include = parse_include(collection, value)?,
            "fields" => params.fields = Some(parse_fields(collection, value)?),
            other => params
                .filters
                .extend(parse_filter(collection, other, value)?),
        }
    }
    if !explicit_sort && params.search.is_none() {
        params.sort = vec![SortKey {
            field: sort_fields(collection)[0],
            descending: false,
        }];
    }
    Ok(params)
}

fn parse_sort(collection: Collection, value: &str) -> Result<Vec<SortKey>> {
    let fields = sort_fields(collection);
    let mut keys: Vec<SortKey> = Vec::new();
    for part in value.split(',') {
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        let field = fields.iter().find(|f| f.name == name).ok_or_else(|| {
            let allowed: Vec<&str> = fields.iter().map(|f| f.name).collect();
            bad(
                "sort",
                format!("cannot sort by {name:?} (allowed: {})", allowed.join(", ")),
            )
        })?;
        if keys.iter().any(|k| k.field.name == name) {
            return Err(bad("sort", format!("{name:?} appears twice")));
        }
        keys.push(SortKey {
            field: *field,
            descending,
        });
    }
    if keys.len() > 3 {
        return Err(bad("sort", "at most 3 sort keys"));
    }
    Ok(keys)
}

/// Every field name an item of `collection` has in responses.
pub fn field_names(collection: Collection) -> Vec<&'static str> {
    let mut names = super::model::COMMON_FIELDS.to_vec();
    names.extend(collection.fields().iter().map(|f| f.name));
    names
}

fn parse_fields(collection: Collection, value: &str) -> Result<Vec<String>> {
    let known = field_names(collection);
    let mut fields = Vec::new();
    for name in value.split(',') {
        if !known.contains(&name) {
            return Err(bad(
                "fields",
                format!("{collection} have no field {name:?}"),
            ));
        }
        fields.push(name.to_owned());
    }
    Ok(fields)
}

fn parse_include(collection: Collection, value: &str) -> Result<Vec<IncludeNode>> {
    let mut roots: Vec<IncludeNode> = Vec::new();
    for path in value.split(',') {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.len() > MAX_INCLUDE_DEPTH {
            return Err(bad(
                "include",
                format!("{path:?} is deeper than {MAX_INCLUDE_DEPTH} levels"),
            ));
        }
        let mut level = &mut roots;
        let mut from = collection;
        for segment in segments {
            let relation = relation(from, segment).ok_or_else(|| {
                let allowed: Vec<&str> = relations(from).iter().map(|r| r.name).collect();
                bad(
                    "include",
                    format!(
                        "{from} have no relation {segment:?} (allowed: {})",
                        allowed.join(", ")
                    ),
                )
            })?;
            let index = match level.iter().position(|n| n.relation.name == segment) {
                Some(i) => i,
                None => {
                    level.push(IncludeNode {
                        relation,
                        children: Vec::new(),
                    });
                    level.len() - 1
                }
            };
            from = relation.to;
            level = &mut level[index].children;
        }
    }
    Ok(roots)
}

fn split_values(parameter: &str, value: &str) -> Result<Vec<String>> {
    let values: Vec<String> = value.split(',').map(str::to_owned).collect();
    if values.len() > MAX_FILTER_VALUES || values.iter().any(|v| v.is_empty() || v.len() > 200) {
        return Err(bad(
            parameter,
            "expects up to 50 comma-separated, non-empty values",
        ));
    }
    Ok(values)
}

/// How a filter parameter reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKind {
    /// One or more comma-separated values of an enumeration.
    OneOf {
        column: &'static str,
        allowed: &'static [&'static str],
    },
    /// One or more comma-separated exact text values.
    Text {
        column: &'static str,
    },
    /// An integer: exact (`year`), lower bound (`year_gte`) or upper bound (`year_lte`).
    Exactly {
        column: &'static str,
    },
    AtLeast {
        column: &'static str,
    },
    AtMost {
        column: &'static str,
    },
    /// The slug of an item at the other end of a relation.
    Related(Relation),
    /// `review=overdue`: the review date in `column` has passed.
    ReviewOverdue {
        column: &'static str,
    },
    /// `due_within=30d`: the review date in `column` falls within that many days from
    /// now (overdue items included).
    DueWithin {
        column: &'static str,
    },
}

/// The longest `due_within` window, in days.
pub const MAX_DUE_WITHIN_DAYS: i64 = 3650;

/// A filter query parameter of a list endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterParam {
    pub name: String,
    pub kind: FilterKind,
}

/// Every filter parameter of a collection's list endpoint (parsing and the OpenAPI
/// document both read this list).
pub fn filter_params(collection: Collection) -> Vec<FilterParam> {
    let mut params = vec![FilterParam {
        name: "status".into(),
        kind: FilterKind::OneOf {
            column: "status",
            allowed: STATUSES,
        },
    }];
    for field in collection.fields() {
        if let FieldKind::Enum(allowed) = field.kind {
            params.push(FilterParam {
                name: field.name.into(),
                kind: FilterKind::OneOf {
                    column: field.column,
                    allowed,
                },
            });
        }
        if TEXT_FILTERS.contains(&(collection, field.name)) {
            params.push(FilterParam {
                name: field.name.into(),
                kind: FilterKind::Text {
                    column: field.column,
                },
            });
        }
    }
    for (_, column) in RANGE_FILTERS.iter().filter(|(c, _)| *c == collection) {
        params.push(FilterParam {
            name: (*column).into(),
            kind: FilterKind::Exactly { column },
        });
        params.push(FilterParam {
            name: format!("{column}_gte"),
            kind: FilterKind::AtLeast { column },
        });
        params.push(FilterParam {
            name: format!("{column}_lte"),
            kind: FilterKind::AtMost { column },
        });
    }
    if collection == Collection::Articles {
        params.push(FilterParam {
            name: "review".into(),
            kind: FilterKind::ReviewOverdue {
                column: "next_review_due",
            },
        });
        params.push(FilterParam {
            name: "due_within".into(),
            kind: FilterKind::DueWithin {
                column: "next_review_due",
            },
        });
    }
    for relation in relations(collection) {
        if let Some(name) = relation.filter {
            params.push(FilterParam {
                name: name.into(),
                kind: FilterKind::Related(relation),
            });
        }
    }
    params
}

fn parse_filter(collection: Collection, key: &str, value: &str) -> Result<Vec<Filter>> {
    let param = filter_params(collection)
        .into_iter()
        .find(|p| p.name == key)
        .ok_or_else(|| bad(key, "unknown parameter"))?;
    let number = || {
        value
            .parse::<i64>()
            .map_err(|_| bad(key, "must be an integer"))
    };
    Ok(match param.kind {
        FilterKind::OneOf { column, allowed } => {
            let values = split_values(key, value)?;
            if let Some(v) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
                return Err(bad(
                    key,
                    format!("{v:?} is not one of {}", allowed.join(", ")),
                ));
            }
            vec![Filter::AnyOf { column, values }]
        }
        FilterKind::Text { column } => vec![Filter::AnyOf {
            column,
            values: split_values(key, value)?,
        }],
        FilterKind::Exactly { column } => {
            let value = number()?;
            vec![
                Filter::AtLeast { column, value },
                Filter::AtMost { column, value },
            ]
        }
        FilterKind::AtLeast { column } => vec![Filter::AtLeast {
            column,
            value: number()?,
        }],
        FilterKind::AtMost { column } => vec![Filter::AtMost {
            column,
            value: number()?,
        }],
        FilterKind::ReviewOverdue { column } => {
            if value != "overdue" {
                return Err(bad(key, "the only value is `overdue`"));
            }
            vec![Filter::DueBy {
                column,
                days: 0,
                strict: true,
            }]
        }
        FilterKind::DueWithin { column } => {
            let days = value
                .strip_suffix('d')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| (0..=MAX_DUE_WITHIN_DAYS).contains(n))
                .ok_or_else(|| {
                    bad(
                        key,
                        format!(
                            "expects a number of days such as `30d` (0d to {MAX_DUE_WITHIN_DAYS}d)"
                        ),
                    )
                })?;
            vec![Filter::DueBy {
                column,
                days,
                strict: false,
            }]
        }
        FilterKind::Related(relation) => {
            let slug = Slug::parse(value).map_err(|e| bad(key, e))?;
            vec![Filter::Related {
                relation,
                slug: slug.into_string(),
            }]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn search_terms_keep_only_words() {
        let terms =
            SearchTerms::parse("Trig* point'; DROP TABLE x; -- \"massage\" OR NEAR(").unwrap();
        assert_eq!(
            terms.to_fts5(),
            "\"trig\"* \"point\" \"drop\" \"table\" \"x\" \"massage\" \"or\" \"near\""
        );
        assert_eq!(
            SearchTerms::parse("foam rol*").unwrap().to_tsquery(),
            "foam & rol:*"
        );
        for empty in ["", "***", "'\"\0", "-- ;"] {
            assert!(SearchTerms::parse(empty).is_err(), "{empty:?}");
        }
        assert!(SearchTerms::parse(&"a ".repeat(5000)).is_err());
    }

    #[test]
    fn parses_a_full_list_query() {
        let params = parse_list_params(
            Collection::Citations,
            &pairs(&[
                ("kind", "guideline,review"),
                ("year_gte", "2015"),
                ("technique", "foam-rolling"),
                ("sort", "-year,title"),
                ("limit", "50"),
                (
                    "include",
                    "techniques.benefits,techniques.products,conditions",
                ),
                ("count", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(params.filters.len(), 3);
        let exact = parse_list_params(Collection::Citations, &pairs(&[("year", "2017")])).unwrap();
        assert_eq!(exact.filters.len(), 2);
        assert_eq!(params.sort.len(), 2);
        assert!(params.sort[0].descending);
        assert_eq!(params.include.len(), 2);
        assert_eq!(params.include[0].children.len(), 2);
        assert!(params.count);
    }

    #[test]
    fn rejects_bad_parameters_naming_them() {
        let cases = [
            (("limit", "0"), "limit"),
            (("limit", "101"), "limit"),
            (("limit", "-1"), "limit"),
            (("limit", "abc"), "limit"),
            (("sort", "colour"), "sort"),
            (("include", "unicorns"), "include"),
            (
                ("include", "techniques.benefits.citations.techniques"),
                "include",
            ),
            (("fields", "colour"), "fields"),
            (("kind", "robotic"), "kind"),
            (("colour", "red"), "colour"),
            (("condition", "Not A Slug"), "condition"),
            (("count", "yes"), "count"),
        ];
        for ((key, value), named) in cases {
            let error =
                parse_list_params(Collection::Techniques, &pairs(&[(key, value)])).unwrap_err();
            assert!(
                error.to_string().starts_with(named),
                "{key}={value}: {error}"
            );
        }
    }
}
