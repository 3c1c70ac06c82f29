//! Every string a GraphQL request carries (arguments, directive arguments, variable
//! defaults, variables) is checked once, before execution, against the rule for prose: no
//! NUL and no control character but tab and line breaks.

use async_graphql::Error;
use async_graphql::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql_value::{ConstValue, Value};
use serde_json::Value as Json;

use super::errors::coded;
use crate::domain::text::{TextKind, check_controls};
use crate::error::codes;

/// The first string of the document or the variables that breaks the rule, as an error.
pub fn check_strings(document: &ExecutableDocument, variables: Option<&Json>) -> Result<(), Error> {
    let mut strings = Vec::new();
    for (_, operation) in document.operations.iter() {
        operation_strings(&operation.node, &mut strings);
    }
    for fragment in document.fragments.values() {
        directive_strings(&fragment.node.directives, &mut strings);
        selection_strings(&fragment.node.selection_set.node, &mut strings);
    }
    for text in strings {
        check(text, "an argument")?;
    }
    if let Some(variables) = variables {
        json_strings(variables)?;
    }
    Ok(())
}

fn check(text: &str, what: &str) -> Result<(), Error> {
    check_controls(text, TextKind::Prose)
        .map_err(|e| coded(&codes::BAD_REQUEST, format!("{what} {e}")))
}

fn operation_strings<'d>(operation: &'d OperationDefinition, out: &mut Vec<&'d str>) {
    for variable in &operation.variable_definitions {
        if let Some(default) = &variable.node.default_value {
            const_strings(&default.node, out);
        }
        directive_strings(&variable.node.directives, out);
    }
    directive_strings(&operation.directives, out);
    selection_strings(&operation.selection_set.node, out);
}

fn selection_strings<'d>(set: &'d SelectionSet, out: &mut Vec<&'d str>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    value_strings(&value.node, out);
                }
                directive_strings(&field.node.directives, out);
                selection_strings(&field.node.selection_set.node, out);
            }
            Selection::FragmentSpread(spread) => {
                directive_strings(&spread.node.directives, out);
            }
            Selection::InlineFragment(inline) => {
                directive_strings(&inline.node.directives, out);
                selection_strings(&inline.node.selection_set.node, out);
            }
        }
    }
}

fn directive_strings<'d>(directives: &'d [Positioned<Directive>], out: &mut Vec<&'d str>) {
    for directive in directives {
        for (_, value) in &directive.node.arguments {
            value_strings(&value.node, out);
        }
    }
}

fn value_strings<'d>(value: &'d Value, out: &mut Vec<&'d str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::List(items) => items.iter().for_each(|v| value_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| value_strings(v, out)),
        _ => {}
    }
}

fn const_strings<'d>(value: &'d ConstValue, out: &mut Vec<&'d str>) {
    match value {
        ConstValue::String(text) => out.push(text),
        ConstValue::List(items) => items.iter().for_each(|v| const_strings(v, out)),
        ConstValue::Object(map) => map.values().for_each(|v| const_strings(v, out)),
        _ => {}
    }
}

fn json_strings(value: &Json) -> Result<(), Error> {
    match value {
        Json::String(text) => check(text, "a variable"),
        Json::Array(items) => items.iter().try_for_each(json_strings),
        Json::Object(map) => map.iter().try_for_each(|(key, value)| {
            check(key, "a variable's key")?;
            json_strings(value)
        }),
        _ => Ok(()),
    }
}
