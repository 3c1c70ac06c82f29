//! The query language of list endpoints — filters, sort, search, pagination, includes and
//! sparse fieldsets — as typed, validated values. REST reads them from query strings
//! (`api::params`), GraphQL from its arguments; each rule is checked here, once. Values
//! that break one are 400 errors naming the parameter.

use super::model::{Collection, FieldKind, STATUSES};
use super::paging::PageSize;
use super::relations::{Relation, relation, relations};
use super::slug::Slug;
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
pub struct SearchTerms(Vec<(String, bool)>);

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

    /// The words, each with whether it is a prefix (`trig*`).
    pub fn words(&self) -> &[(String, bool)] {
        &self.0
    }

    /// Each word alone, as its own query.
    pub fn each(&self) -> impl Iterator<Item = SearchTerms> + '_ {
        self.0.iter().map(|word| SearchTerms(vec![word.clone()]))
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

impl ListParams {
    /// No filter, no search, the default page size, the collection's default order.
    pub fn new(collection: Collection) -> Self {
        Self {
            filters: Vec::new(),
            search: None,
            sort: default_sort(collection),
            limit: PageSize::DEFAULT,
            cursor: None,
            count: false,
            include: Vec::new(),
            fields: None,
            edge_cursors: false,
        }
    }

    /// Searches rank by relevance unless a sort is given.
    pub fn search(&mut self, terms: SearchTerms, explicit_sort: bool) {
        self.search = Some(terms);
        if !explicit_sort {
            self.sort.clear();
        }
    }
}

/// The order of a list without `sort`: its first sortable field, ascending.
fn default_sort(collection: Collection) -> Vec<SortKey> {
    vec![SortKey {
        field: sort_fields(collection)[0],
        descending: false,
    }]
}

/// Parameters of a single-item read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemParams {
    pub include: Vec<IncludeNode>,
    pub fields: Option<Vec<String>>,
}

pub(crate) fn bad(parameter: &str, detail: impl std::fmt::Display) -> AppError {
    AppError::invalid_parameter(format!("{parameter}: {detail}"))
}

/// Sort keys from (field name, descending) pairs: known fields, each once, at most 3.
pub fn sort_keys(collection: Collection, requested: &[(&str, bool)]) -> Result<Vec<SortKey>> {
    let fields = sort_fields(collection);
    let mut keys: Vec<SortKey> = Vec::new();
    for &(name, descending) in requested {
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

/// A sparse fieldset: names of fields items of `collection` have.
pub fn field_list(collection: Collection, names: &[&str]) -> Result<Vec<String>> {
    let known = field_names(collection);
    let mut fields = Vec::new();
    for &name in names {
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

/// The include tree of relation paths (each a list of relation names from `collection`),
/// at most [`MAX_INCLUDE_DEPTH`] deep.
pub fn include_tree(collection: Collection, paths: &[Vec<&str>]) -> Result<Vec<IncludeNode>> {
    let mut roots: Vec<IncludeNode> = Vec::new();
    for segments in paths {
        if segments.len() > MAX_INCLUDE_DEPTH {
            return Err(bad(
                "include",
                format!(
                    "{:?} is deeper than {MAX_INCLUDE_DEPTH} levels",
                    segments.join(".")
                ),
            ));
        }
        let mut level = &mut roots;
        let mut from = collection;
        for &segment in segments {
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

/// Up to [`MAX_FILTER_VALUES`] non-empty values of at most 200 bytes.
fn filter_values(parameter: &str, values: &[&str]) -> Result<Vec<String>> {
    if values.len() > MAX_FILTER_VALUES || values.iter().any(|v| v.is_empty() || v.len() > 200) {
        return Err(bad(
            parameter,
            format!("expects 1 to {MAX_FILTER_VALUES} non-empty values of at most 200 bytes"),
        ));
    }
    Ok(values.iter().map(|v| (*v).to_owned()).collect())
}

/// A filter's value as a client gives it: several values, an integer, or one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue<'a> {
    List(Vec<&'a str>),
    Integer(i64),
    Text(&'a str),
}

/// Which [`FilterValue`] a filter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterInput {
    List,
    Integer,
    Text,
}

impl FilterKind {
    pub fn input(&self) -> FilterInput {
        match self {
            FilterKind::OneOf { .. } | FilterKind::Text { .. } => FilterInput::List,
            FilterKind::Exactly { .. } | FilterKind::AtLeast { .. } | FilterKind::AtMost { .. } => {
                FilterInput::Integer
            }
            FilterKind::Related(_)
            | FilterKind::ReviewOverdue { .. }
            | FilterKind::DueWithin { .. } => FilterInput::Text,
        }
    }
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

/// The filter parameter `name` of `collection`'s list.
pub fn filter_param(collection: Collection, name: &str) -> Result<FilterParam> {
    filter_params(collection)
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| bad(name, "unknown parameter"))
}

impl FilterParam {
    /// The filters `value` asks for.
    pub fn filters(&self, value: FilterValue<'_>) -> Result<Vec<Filter>> {
        let key = self.name.as_str();
        let (values, number, text) = match (self.kind.input(), value) {
            (FilterInput::List, FilterValue::List(values)) => (values, 0, ""),
            (FilterInput::Integer, FilterValue::Integer(n)) => (Vec::new(), n, ""),
            (FilterInput::Text, FilterValue::Text(text)) => (Vec::new(), 0, text),
            (input, _) => return Err(bad(key, format!("expects {input:?}").to_lowercase())),
        };
        filters(key, &self.kind, &values, number, text)
    }
}

fn filters(
    key: &str,
    kind: &FilterKind,
    values: &[&str],
    number: i64,
    value: &str,
) -> Result<Vec<Filter>> {
    let number = || Ok::<i64, AppError>(number);
    Ok(match *kind {
        FilterKind::OneOf { column, allowed } => {
            let values = filter_values(key, values)?;
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
            values: filter_values(key, values)?,
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

    #[test]
    fn search_terms_keep_only_words() {
        let terms =
            SearchTerms::parse("Trig* point'; DROP TABLE x; -- \"massage\" OR NEAR(").unwrap();
        let words: Vec<(&str, bool)> = terms
            .words()
            .iter()
            .map(|(w, p)| (w.as_str(), *p))
            .collect();
        assert_eq!(
            words,
            [
                ("trig", true),
                ("point", false),
                ("drop", false),
                ("table", false),
                ("x", false),
                ("massage", false),
                ("or", false),
                ("near", false)
            ]
        );
        for empty in ["", "***", "'\"\0", "-- ;"] {
            assert!(SearchTerms::parse(empty).is_err(), "{empty:?}");
        }
        assert!(SearchTerms::parse(&"a ".repeat(5000)).is_err());
    }

    #[test]
    fn filters_take_the_value_their_kind_reads() {
        let year = filter_param(Collection::Citations, "year").unwrap();
        assert_eq!(year.filters(FilterValue::Integer(2017)).unwrap().len(), 2);
        assert!(year.filters(FilterValue::Text("2017")).is_err());
        let brand = filter_param(Collection::Products, "brand").unwrap();
        // A value may hold a comma: only the query string splits on it.
        let one = brand
            .filters(FilterValue::List(vec!["Acme, Inc."]))
            .unwrap();
        assert_eq!(
            one,
            [Filter::AnyOf {
                column: "brand",
                values: vec!["Acme, Inc.".into()]
            }]
        );
        assert!(brand.filters(FilterValue::List(vec![""])).is_err());
        assert!(filter_param(Collection::Products, "colour").is_err());
    }
}
