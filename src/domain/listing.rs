//! The query language of list endpoints — filters, sort, search, pagination, includes and
//! sparse fieldsets — as typed, validated values. REST reads them from query strings
//! (`api::params`), GraphQL from its arguments; each rule is checked here, once. Values
//! that break one are 400 errors naming the parameter.

use super::bad;
use super::evidence::Certainty;
use super::filters::Filter;
use super::model::Collection;
use super::paging::PageSize;
use super::reference_style::CitationStyle;
use super::relations::{Relation, relation, relations};
use super::rich_text::TextFormat;
use super::syndication::TermsSource;
use crate::error::{AppError, Result};

pub const MAX_INCLUDE_DEPTH: usize = 3;
const MAX_SEARCH_TERMS: usize = 16;
const MAX_QUERY_LEN: usize = 512;

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
        _ => {}
    }
    if collection.reviewable() {
        fields.push(sort_field("last_reviewed_at", true, SortValue::Timestamp));
        fields.push(sort_field("next_review_due", true, SortValue::Timestamp));
    }
    fields
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
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
    /// Through a claim: only links at or above this certainty.
    pub min_certainty: Option<Certainty>,
}

/// Applies `min_certainty` to every claim of a request: its includes and its relation
/// filters.
pub fn at_least(
    min: Certainty,
    include: &mut [IncludeNode],
    filters: &mut [crate::domain::filters::Filter],
) {
    for node in include.iter_mut() {
        if node.relation.makes_claims() {
            node.min_certainty = Some(min);
        }
        at_least(min, &mut node.children, &mut []);
    }
    for filter in filters {
        if let crate::domain::filters::Filter::Related {
            relation,
            min_certainty,
            ..
        } = filter
            && relation.makes_claims()
        {
            *min_certainty = Some(min);
        }
    }
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
    /// The form of Markdown fields, embedded items' included.
    pub format: TextFormat,
    /// The deployment's terms, to give each item its syndication terms (REST reads;
    /// GraphQL resolves them only when asked).
    /// Citations (listed or embedded) carry `formatted` in this style.
    pub style: Option<CitationStyle>,
    pub syndication: Option<TermsSource>,
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
            format: TextFormat::Markdown,
            syndication: None,
            style: None,
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

/// Parameters of a search across collections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    pub terms: SearchTerms,
    /// The collections searched (every searchable one unless narrowed).
    pub types: Vec<Collection>,
    pub limit: PageSize,
    pub cursor: Option<String>,
    /// The form of the hits' Markdown fields.
    pub format: TextFormat,
    /// The deployment's terms, to give each hit's item its syndication terms.
    pub syndication: Option<TermsSource>,
    /// Citation hits carry `formatted` in this style.
    pub style: Option<CitationStyle>,
}

/// Parameters of a single-item read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemParams {
    pub include: Vec<IncludeNode>,
    pub fields: Option<Vec<String>>,
    /// The form of Markdown fields, embedded items' included.
    pub format: TextFormat,
    /// The deployment's terms, to give the item its syndication terms.
    pub syndication: Option<TermsSource>,
    /// Citations (the item, or embedded) carry `formatted` in this style.
    pub style: Option<CitationStyle>,
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
    if collection.reviewable() {
        names.push("review_status");
    }
    names
}

/// A sparse fieldset: names of fields items of `collection` have, and `syndication` (the
/// terms every item read carries; left out like any field a fieldset does not name).
pub fn field_list(collection: Collection, names: &[&str]) -> Result<Vec<String>> {
    let mut known = field_names(collection);
    known.push("syndication");
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
                        min_certainty: None,
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
}
