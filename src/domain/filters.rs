//! The filters of list endpoints: which each collection offers (parsing and the OpenAPI
//! document both read the list), the value each takes, and the rules those values follow.

use super::bad;
use super::evidence::Certainty;
use super::model::{Collection, FieldKind, STATUSES};
use super::relations::{Relation, relations};
use super::slug::Slug;
use crate::error::Result;

const MAX_FILTER_VALUES: usize = 50;

/// Text filters offered besides enumerations and relations.
const TEXT_FILTERS: &[(Collection, &str)] = &[
    (Collection::Products, "category"),
    (Collection::Products, "brand"),
    (Collection::Products, "gtin"),
    (Collection::Conditions, "body_region"),
    (Collection::Citations, "journal"),
    (Collection::Citations, "doi"),
    (Collection::Citations, "pmid"),
    (Collection::Citations, "pmcid"),
    (Collection::Authors, "credentials"),
];

/// Integer fields filterable by exact value and `_gte` / `_lte` bounds.
const RANGE_FILTERS: &[(Collection, &str)] = &[
    (Collection::Citations, "year"),
    (Collection::Citations, "sample_size"),
    (Collection::Products, "price_cents"),
];

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
    /// Items related to the (visible) item with this slug; through a claim, only at or
    /// above `min_certainty` when given.
    Related {
        relation: Relation,
        slug: String,
        min_certainty: Option<Certainty>,
    },
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
    if collection.reviewable() {
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
    /// The filters `value` asks for; a value of another shape than the kind takes is refused.
    pub fn filters(&self, value: FilterValue<'_>) -> Result<Vec<Filter>> {
        use FilterValue::{Integer, List, Text};
        let key = self.name.as_str();
        Ok(match (&self.kind, value) {
            (&FilterKind::OneOf { column, allowed }, List(values)) => {
                let values = filter_values(key, &values)?;
                if let Some(v) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
                    return Err(bad(
                        key,
                        format!("{v:?} is not one of {}", allowed.join(", ")),
                    ));
                }
                vec![Filter::AnyOf { column, values }]
            }
            (&FilterKind::Text { column }, List(values)) => {
                let mut values = filter_values(key, &values)?;
                // Stored in normal form: so is what a filter asks for.
                let normal: Option<fn(&str) -> String> = match column {
                    "doi" => Some(super::citation::normalize_doi),
                    "pmcid" => Some(super::citation::normalize_pmcid),
                    _ => None,
                };
                if let Some(normal) = normal {
                    values.iter_mut().for_each(|v| *v = normal(v));
                }
                vec![Filter::AnyOf { column, values }]
            }
            (&FilterKind::Exactly { column }, Integer(value)) => vec![
                Filter::AtLeast { column, value },
                Filter::AtMost { column, value },
            ],
            (&FilterKind::AtLeast { column }, Integer(value)) => {
                vec![Filter::AtLeast { column, value }]
            }
            (&FilterKind::AtMost { column }, Integer(value)) => {
                vec![Filter::AtMost { column, value }]
            }
            (&FilterKind::ReviewOverdue { column }, Text(value)) => {
                if value != "overdue" {
                    return Err(bad(key, "the only value is `overdue`"));
                }
                vec![Filter::DueBy {
                    column,
                    days: 0,
                    strict: true,
                }]
            }
            (&FilterKind::DueWithin { column }, Text(value)) => vec![Filter::DueBy {
                column,
                days: due_within_days(key, value)?,
                strict: false,
            }],
            (&FilterKind::Related(relation), Text(value)) => {
                let slug = Slug::parse(value).map_err(|e| bad(key, e))?;
                vec![Filter::Related {
                    relation,
                    slug: slug.into_string(),
                    min_certainty: None,
                }]
            }
            (kind, _) => {
                return Err(bad(
                    key,
                    format!("expects {:?}", kind.input()).to_lowercase(),
                ));
            }
        })
    }
}

/// `30d`: a number of days from 0 to [`MAX_DUE_WITHIN_DAYS`].
fn due_within_days(key: &str, value: &str) -> Result<i64> {
    value
        .strip_suffix('d')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (0..=MAX_DUE_WITHIN_DAYS).contains(n))
        .ok_or_else(|| {
            bad(
                key,
                format!("expects a number of days such as `30d` (0d to {MAX_DUE_WITHIN_DAYS}d)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
