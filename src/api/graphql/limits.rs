//! Request limits of `/graphql`, checked before any resolver (and so any SQL) runs: document
//! size, tokens, nesting, aliases, root fields, directives per field, page sizes,
//! fragment cycles and query cost. async-graphql enforces none of the first five itself.

use std::collections::HashSet;

use async_graphql::Variables;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Error, Name};
use async_graphql_value::Value;

use super::catalog::Catalog;
use super::errors::coded;
use crate::config::GraphqlSettings;
use crate::domain::PageSize;
use crate::error::codes;

/// Introspection (the IDE's schema query) nests deeper than content queries; it has its
/// own depth cap and costs nothing (it never touches the database).
const INTROSPECTION_MAX_DEPTH: usize = 20;

/// Size, token and nesting checks on the raw text, before parsing.
pub fn check_text(document: &str, settings: &GraphqlSettings) -> Result<(), Error> {
    if document.len() > settings.graphql_max_document_bytes {
        return Err(coded(
            &codes::DOCUMENT_TOO_LARGE,
            format!(
                "the document has {} bytes; the limit is {}",
                document.len(),
                settings.graphql_max_document_bytes
            ),
        ));
    }
    let max_nesting = (settings.graphql_max_depth.max(INTROSPECTION_MAX_DEPTH)) * 2 + 2;
    let mut tokens = 0usize;
    let mut nesting = 0usize;
    let bytes = document.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'{' | b'(' | b'[' => {
                nesting += 1;
                if nesting > max_nesting {
                    return Err(coded(
                        &codes::DEPTH_LIMIT_EXCEEDED,
                        format!(
                            "the document nests deeper than {}",
                            settings.graphql_max_depth
                        ),
                    ));
                }
                i += 1;
            }
            b'}' | b')' | b']' => {
                nesting = nesting.saturating_sub(1);
                i += 1;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > settings.graphql_max_tokens {
            return Err(coded(
                &codes::TOKEN_LIMIT_EXCEEDED,
                format!(
                    "the document has more than {} tokens",
                    settings.graphql_max_tokens
                ),
            ));
        }
    }
    Ok(())
}

/// The operation a request runs: the named one, or the only one.
pub fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Result<&'d OperationDefinition, Error> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Ok(&op.node),
        (DocumentOperations::Single(op), Some(_)) => Ok(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(&Name::new(name)).map(|op| &op.node).ok_or_else(|| {
                coded(
                    &codes::OPERATION_NOT_FOUND,
                    format!("no operation named {name:?}"),
                )
            })
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            Ok(&ops.values().next().expect("one operation").node)
        }
        (DocumentOperations::Multiple(_), None) => Err(coded(
            &codes::OPERATION_NOT_FOUND,
            "the document has several operations: give operationName",
        )),
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    catalog: &'a Catalog,
    settings: &'a GraphqlSettings,
    aliases: usize,
    visits: u64,
    fragments: Vec<Name>,
}

/// Checks the operation against every structural limit; returns its cost.
pub fn check_operation(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
    catalog: &Catalog,
    settings: &GraphqlSettings,
) -> Result<u64, Error> {
    let root = match operation.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let mut walk = Walk {
        document,
        variables,
        catalog,
        settings,
        aliases: 0,
        visits: 0,
        fragments: Vec::new(),
    };
    let mut root_fields = 0;
    let cost = walk.selection_set(&operation.selection_set.node, root, 1, &mut root_fields)?;
    if cost > settings.graphql_max_complexity {
        return Err(complexity_error(settings));
    }
    Ok(cost)
}

fn complexity_error(settings: &GraphqlSettings) -> Error {
    coded(
        &codes::COMPLEXITY_LIMIT_EXCEEDED,
        format!(
            "the query costs more than {} (list and connection fields cost `first` times their fields)",
            settings.graphql_max_complexity
        ),
    )
}

impl Walk<'_> {
    /// Cost of a selection set at `depth` (1 = root) on type `parent`; `fields_here`
    /// counts the fields selected directly at this level (for the root-field limit).
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        parent: &str,
        depth: usize,
        fields_here: &mut usize,
    ) -> Result<u64, Error> {
        let mut cost = 0u64;
        for selection in &set.items {
            self.visit()?;
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    *fields_here += 1;
                    if depth == 1 && *fields_here > self.settings.graphql_max_root_fields {
                        return Err(coded(
                            &codes::ROOT_FIELD_LIMIT_EXCEEDED,
                            format!(
                                "at most {} root fields per operation",
                                self.settings.graphql_max_root_fields
                            ),
                        ));
                    }
                    if field.alias.is_some() {
                        self.aliases += 1;
                        if self.aliases > self.settings.graphql_max_aliases {
                            return Err(coded(
                                &codes::ALIAS_LIMIT_EXCEEDED,
                                format!(
                                    "at most {} aliases per document",
                                    self.settings.graphql_max_aliases
                                ),
                            ));
                        }
                    }
                    if field.directives.len() > self.settings.graphql_max_directives {
                        return Err(coded(
                            &codes::DIRECTIVE_LIMIT_EXCEEDED,
                            format!(
                                "at most {} directives per field",
                                self.settings.graphql_max_directives
                            ),
                        ));
                    }
                    let name = field.name.node.as_str();
                    if name.starts_with("__") {
                        introspection_depth(&field.selection_set.node, depth, self)?;
                        continue;
                    }
                    if depth > self.settings.graphql_max_depth {
                        return Err(coded(
                            &codes::DEPTH_LIMIT_EXCEEDED,
                            format!(
                                "queries may nest at most {} levels",
                                self.settings.graphql_max_depth
                            ),
                        ));
                    }
                    let shape = self.catalog.get(parent, name).cloned();
                    let child_type = shape.as_ref().map_or("", |s| s.ty.as_str()).to_owned();
                    let multiplier = match shape.and_then(|s| s.page) {
                        Some(default) => self.first(field, default)?,
                        None => 1,
                    };
                    let mut child_fields = 0;
                    let children = self.selection_set(
                        &field.selection_set.node,
                        &child_type,
                        depth + 1,
                        &mut child_fields,
                    )?;
                    cost = cost.saturating_add(1 + multiplier.saturating_mul(children));
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.fragments.contains(name) {
                        return Err(coded(
                            &codes::FRAGMENT_CYCLE,
                            format!("fragment {name} spreads itself"),
                        ));
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue; // reported by validation
                    };
                    let on = fragment.node.type_condition.node.on.node.to_string();
                    self.fragments.push(name.clone());
                    cost = cost.saturating_add(self.selection_set(
                        &fragment.node.selection_set.node,
                        &on,
                        depth,
                        fields_here,
                    )?);
                    self.fragments.pop();
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or_else(|| parent.to_owned(), |t| t.node.on.node.to_string());
                    cost = cost.saturating_add(self.selection_set(
                        &inline.node.selection_set.node,
                        &on,
                        depth,
                        fields_here,
                    )?);
                }
            }
            if cost > self.settings.graphql_max_complexity {
                return Err(complexity_error(self.settings));
            }
        }
        Ok(cost)
    }

    /// Every selection visited counts, so fragment fan-out cannot make checking slow.
    fn visit(&mut self) -> Result<(), Error> {
        self.visits += 1;
        if self.visits > self.settings.graphql_max_complexity.max(1) * 4 {
            return Err(complexity_error(self.settings));
        }
        Ok(())
    }

    /// The `first` argument of a paginated field (literal or variable), bounded.
    fn first(
        &self,
        field: &async_graphql::parser::types::Field,
        default: PageSize,
    ) -> Result<u64, Error> {
        let value = field
            .arguments
            .iter()
            .find(|(name, _)| name.node == "first")
            .map(|(_, value)| &value.node);
        let number = match value {
            None | Some(Value::Null) => None,
            Some(Value::Variable(var)) => match self.variables.get(var) {
                None | Some(async_graphql::Value::Null) => None,
                Some(async_graphql::Value::Number(n)) => Some(n.as_i64()),
                // A type error: validation reports it.
                Some(_) => None,
            },
            Some(Value::Number(n)) => Some(n.as_i64()),
            Some(_) => None,
        };
        super::errors::first(number, default).map(|size| u64::from(size.get()))
    }
}

/// Introspection subtrees only need a depth bound.
fn introspection_depth(set: &SelectionSet, depth: usize, walk: &mut Walk<'_>) -> Result<(), Error> {
    if depth > INTROSPECTION_MAX_DEPTH {
        return Err(coded(
            &codes::DEPTH_LIMIT_EXCEEDED,
            format!("introspection may nest at most {INTROSPECTION_MAX_DEPTH} levels"),
        ));
    }
    let mut seen = HashSet::new();
    for selection in &set.items {
        walk.visit()?;
        match &selection.node {
            Selection::Field(field) => {
                introspection_depth(&field.node.selection_set.node, depth + 1, walk)?
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.clone();
                if walk.fragments.contains(&name) || !seen.insert(name.clone()) {
                    continue;
                }
                if let Some(fragment) = walk.document.fragments.get(&name) {
                    walk.fragments.push(name);
                    introspection_depth(&fragment.node.selection_set.node, depth, walk)?;
                    walk.fragments.pop();
                }
            }
            Selection::InlineFragment(inline) => {
                introspection_depth(&inline.node.selection_set.node, depth, walk)?
            }
        }
    }
    Ok(())
}
