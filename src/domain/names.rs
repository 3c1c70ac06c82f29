//! Names of people and bodies (citation authors) as written and as stored.

use serde_json::Value as Json;

pub use migration::names::PersonName;

use super::text::{TextKind, check_controls};
use super::validate::MAX_SHORT_TEXT;

/// A written name: a string (split as [`PersonName::split`] does) or an object,
/// `{family, given}` (given optional) or `{literal}`.
pub fn parse(value: &Json) -> Result<PersonName, String> {
    let part = |key: &str, text: &Json| -> Result<String, String> {
        let text = text
            .as_str()
            .ok_or_else(|| format!("{key} must be a string"))?
            .trim();
        if text.is_empty() || text.chars().count() > MAX_SHORT_TEXT {
            return Err(format!("{key} must be 1 to {MAX_SHORT_TEXT} characters"));
        }
        check_controls(text, TextKind::Line).map_err(|e| format!("{key} {e}"))?;
        Ok(text.to_owned())
    };
    match value {
        Json::String(_) => Ok(PersonName::split(&part("a name", value)?)),
        Json::Object(map) => {
            if let Some(key) = map
                .keys()
                .find(|k| !["family", "given", "literal"].contains(&k.as_str()))
            {
                return Err(format!(
                    "{key:?} is not a part of a name (family, given, literal)"
                ));
            }
            let get = |key: &str| {
                map.get(key)
                    .filter(|v| !v.is_null())
                    .map(|v| part(key, v))
                    .transpose()
            };
            match (get("family")?, get("given")?, get("literal")?) {
                (None, None, Some(literal)) => Ok(PersonName::literal(&literal)),
                (Some(family), given, None) => Ok(PersonName {
                    family: Some(family),
                    given,
                    literal: None,
                }),
                _ => {
                    Err("needs a family name (and perhaps a given one), or a literal alone".into())
                }
            }
        }
        _ => Err("must be a name: a string, {family, given} or {literal}".into()),
    }
}

/// Stored names (objects) as written; entries that do not parse are skipped.
pub fn stored(value: &Json) -> Vec<PersonName> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| parse(name).ok())
        .collect()
}

/// Each name on one line, family first: the search column's value.
pub fn search_text(names: &[PersonName]) -> Json {
    Json::Array(names.iter().map(|n| Json::String(n.display())).collect())
}
