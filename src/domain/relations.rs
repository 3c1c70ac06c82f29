//! Navigable relations of each collection — every link in both directions plus the
//! article references (author, reviewer, publisher) and their inverses. Includes, link
//! filters and (later) GraphQL fields are all derived from this one list.

use super::model::{Collection, FieldKind, LINKS, LinkSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// Many-to-many through `link`; the parent's id is in `parent_column`.
    Link {
        link: &'static LinkSpec,
        parent_column: &'static str,
        child_column: &'static str,
    },
    /// The parent row references one child through `column` (article → author).
    ToOne { column: &'static str },
    /// Child rows reference the parent through `column` (author → articles).
    ToMany { column: &'static str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// Name in `include=` and in embedded output (`techniques`, `author`, `related`).
    pub name: &'static str,
    /// Query parameter that filters the parent collection by a slug of the other end
    /// (`condition`, `author`); `None` where such a filter is not offered.
    pub filter: Option<&'static str>,
    pub from: Collection,
    pub to: Collection,
    pub kind: RelationKind,
}

impl Relation {
    pub fn is_to_one(&self) -> bool {
        matches!(self.kind, RelationKind::ToOne { .. })
    }

    /// Whether the relation's links are claims (and so carry evidence).
    pub fn makes_claims(&self) -> bool {
        matches!(self.kind, RelationKind::Link { link, .. } if link.claim.is_some())
    }

    /// The input schema of the relation's link set.
    pub fn link_list_schema(&self) -> &'static str {
        if self.makes_claims() {
            "ClaimLinkList"
        } else {
            "LinkList"
        }
    }
}

/// Every relation starting at `collection`.
pub fn relations(collection: Collection) -> Vec<Relation> {
    let mut out = Vec::new();
    for link in LINKS {
        if link.left == collection {
            out.push(Relation {
                name: link.inline.unwrap_or(link.right.as_str()),
                filter: Some(if link.left == link.right {
                    "related"
                } else {
                    link.right.singular()
                }),
                from: collection,
                to: link.right,
                kind: RelationKind::Link {
                    link,
                    parent_column: link.left_column,
                    child_column: link.right_column,
                },
            });
        }
        if link.right == collection {
            let self_link = link.left == link.right;
            out.push(Relation {
                name: if self_link {
                    "related_by"
                } else {
                    link.left.as_str()
                },
                filter: Some(if self_link {
                    "related_by"
                } else {
                    link.left.singular()
                }),
                from: collection,
                to: link.left,
                kind: RelationKind::Link {
                    link,
                    parent_column: link.right_column,
                    child_column: link.left_column,
                },
            });
        }
    }
    for source in Collection::ALL {
        for field in source.fields() {
            let FieldKind::Reference(target) = field.kind else {
                continue;
            };
            if source == collection {
                out.push(Relation {
                    name: field.name,
                    filter: Some(field.name),
                    from: collection,
                    to: target,
                    kind: RelationKind::ToOne {
                        column: field.column,
                    },
                });
            }
            if target == collection {
                out.push(Relation {
                    name: field.inverse,
                    filter: None,
                    from: collection,
                    to: source,
                    kind: RelationKind::ToMany {
                        column: field.column,
                    },
                });
            }
        }
    }
    out
}

pub fn relation(collection: Collection, name: &str) -> Option<Relation> {
    relations(collection).into_iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_navigable_from_both_ends_with_unique_names() {
        for collection in Collection::ALL {
            let names: Vec<&str> = relations(collection).iter().map(|r| r.name).collect();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{collection}: {names:?}");
        }
        let techniques: Vec<&str> = relations(Collection::Techniques)
            .iter()
            .map(|r| r.name)
            .collect();
        for name in [
            "conditions",
            "benefits",
            "citations",
            "products",
            "articles",
        ] {
            assert!(techniques.contains(&name), "{name}");
        }
        let articles: Vec<&str> = relations(Collection::Articles)
            .iter()
            .map(|r| r.name)
            .collect();
        for name in [
            "author",
            "reviewer",
            "publisher",
            "related",
            "related_by",
            "products",
        ] {
            assert!(articles.contains(&name), "{name}");
        }
        let authors: Vec<&str> = relations(Collection::Authors)
            .iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            authors,
            vec![
                "reviewed_conditions",
                "reviewed_techniques",
                "reviewed_benefits",
                "articles",
                "reviewed_articles"
            ]
        );
    }
}
