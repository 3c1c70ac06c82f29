//! Query strings as typed parameters (lists, single items, search): the REST syntax
//! (comma-separated lists, `-field` for a descending sort, dotted include paths) read into
//! the `domain` values, whose rules are checked there. Each parameter may appear once.

use crate::domain::bad;
use crate::domain::embed::{EmbedOptions, OEmbedRequest, Pixels, Theme};
use crate::domain::evidence::Certainty;
use crate::domain::filters::{FilterInput, FilterValue, filter_param};
use crate::domain::listing::{
    ItemParams, ListParams, SearchParams, SearchTerms, at_least, field_list, include_tree,
    sort_keys,
};
use crate::domain::reference_style::CitationStyle;
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, PageSize};
use crate::error::{AppError, Result};
use crate::service::{fulltext, search};

/// Query pairs as actix decodes them.
pub type Pairs = [(String, String)];

/// Each parameter once. (Control characters never get here: the HTTP edge refuses them,
/// `api::middleware::check_request_text`.)
fn unique_pairs(pairs: &Pairs) -> Result<()> {
    for (i, (key, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err(bad(key, "is given more than once"));
        }
    }
    Ok(())
}

/// The `version` parameter of a query string, if it has one (the caller is resolved by
/// it: `api::auth`); the parsers below accept it as known.
pub fn version_param(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == crate::domain::ContentVersion::PARAM)
        .map(|(_, value)| value.into_owned())
}

fn list(value: &str) -> Vec<&str> {
    value.split(',').collect()
}

fn include_paths(value: &str) -> Vec<Vec<&str>> {
    value
        .split(',')
        .map(|path| path.split('.').collect())
        .collect()
}

/// `GET /v1/{collection}/{slug}`: `include`, `fields` and `format`.
pub fn item_params(collection: Collection, pairs: &Pairs) -> Result<ItemParams> {
    unique_pairs(pairs)?;
    let mut params = ItemParams::default();
    let mut min_certainty = None;
    for (key, value) in pairs {
        match key.as_str() {
            "include" => params.include = include_tree(collection, &include_paths(value))?,
            "fields" => params.fields = Some(field_list(collection, &list(value))?),
            "format" => params.format = TextFormat::parse(value)?,
            "min_certainty" => min_certainty = Some(Certainty::parse_param(key, value)?),
            "style" => params.style = Some(CitationStyle::parse_param(key, value)?),
            "version" => {}
            other => {
                return Err(bad(
                    other,
                    "unknown parameter (allowed: include, fields, format, min_certainty, style, \
                     version)",
                ));
            }
        }
    }
    if let Some(min) = min_certainty {
        at_least(min, &mut params.include, &mut []);
    }
    Ok(params)
}

/// An embed page's `theme` and `maxwidth`.
pub fn embed_options(pairs: &Pairs) -> Result<EmbedOptions> {
    unique_pairs(pairs)?;
    let mut options = EmbedOptions::default();
    for (key, value) in pairs {
        match key.as_str() {
            "theme" => options.theme = Theme::parse(value)?,
            "maxwidth" => options.maxwidth = Some(Pixels::parse(key, value)?),
            "version" => {}
            other => {
                return Err(bad(
                    other,
                    "unknown parameter (allowed: theme, maxwidth, version)",
                ));
            }
        }
    }
    Ok(options)
}

/// `GET /oembed`: `url` (required), `maxwidth`, `maxheight`, `format` (`json`; `xml`
/// is not offered: 501).
pub fn oembed_params(pairs: &Pairs) -> Result<OEmbedRequest> {
    unique_pairs(pairs)?;
    let mut url = None;
    let mut request = OEmbedRequest {
        url: String::new(),
        maxwidth: None,
        maxheight: None,
    };
    for (key, value) in pairs {
        match key.as_str() {
            "url" => url = Some(value.clone()),
            "maxwidth" => request.maxwidth = Some(Pixels::parse(key, value)?),
            "maxheight" => request.maxheight = Some(Pixels::parse(key, value)?),
            "format" if value == "json" => {}
            "format" if value == "xml" => {
                return Err(AppError::NotImplemented(
                    "format: only json is offered".into(),
                ));
            }
            "format" => {
                return Err(bad(
                    key,
                    format!("unknown format {value:?} (allowed: json)"),
                ));
            }
            other => {
                return Err(bad(
                    other,
                    "unknown parameter (allowed: url, maxwidth, maxheight, format)",
                ));
            }
        }
    }
    request.url = url.ok_or_else(|| bad("url", "required"))?;
    Ok(request)
}

/// `GET /v1/search`: `q` (required), `type`, `limit`, `cursor`, `format`.
pub fn search_params(pairs: &Pairs) -> Result<SearchParams> {
    unique_pairs(pairs)?;
    let mut terms = None;
    let mut types: Vec<Collection> = fulltext::searchable().collect();
    let mut limit = PageSize::DEFAULT;
    let mut cursor = None;
    let mut format = TextFormat::default();
    let mut style = None;
    for (key, value) in pairs {
        match key.as_str() {
            "format" => format = TextFormat::parse(value)?,
            "style" => style = Some(CitationStyle::parse_param(key, value)?),
            "q" => terms = Some(SearchTerms::parse(value)?),
            "version" => {}
            "type" => {
                let requested = list(value)
                    .into_iter()
                    .map(|name| Collection::parse(name).ok_or_else(|| search::not_searchable(name)))
                    .collect::<Result<Vec<_>>>()?;
                types = search::search_types(&requested)?;
            }
            "limit" => limit = PageSize::parse(value).map_err(|e| bad("limit", e))?,
            "cursor" => cursor = Some(value.clone()),
            other => {
                return Err(bad(
                    other,
                    "unknown parameter (allowed: q, type, limit, cursor, format, style, version)",
                ));
            }
        }
    }
    let terms = terms.ok_or_else(|| bad("q", "is required"))?;
    Ok(SearchParams {
        terms,
        types,
        limit,
        cursor,
        format,
        syndication: None,
        style,
    })
}

/// `GET /v1/{collection}`: paging, sort, search, includes, fields and the collection's
/// filters.
pub fn list_params(collection: Collection, pairs: &Pairs) -> Result<ListParams> {
    unique_pairs(pairs)?;
    let mut params = ListParams::new(collection);
    let explicit_sort = pairs.iter().any(|(key, _)| key == "sort");
    let mut min_certainty = None;
    for (key, value) in pairs {
        match key.as_str() {
            "min_certainty" => min_certainty = Some(Certainty::parse_param(key, value)?),
            "style" => params.style = Some(CitationStyle::parse_param(key, value)?),
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
                let keys: Vec<(&str, bool)> = list(value)
                    .into_iter()
                    .map(|part| match part.strip_prefix('-') {
                        Some(name) => (name, true),
                        None => (part, false),
                    })
                    .collect();
                params.sort = sort_keys(collection, &keys)?;
            }
            "q" => params.search(SearchTerms::parse(value)?, explicit_sort),
            "include" => params.include = include_tree(collection, &include_paths(value))?,
            "fields" => params.fields = Some(field_list(collection, &list(value))?),
            "format" => params.format = TextFormat::parse(value)?,
            "version" => {}
            other => {
                let param = filter_param(collection, other)?;
                let value = match param.kind.input() {
                    FilterInput::List => FilterValue::List(list(value)),
                    FilterInput::Integer => FilterValue::Integer(
                        value
                            .parse()
                            .map_err(|_| bad(other, "must be an integer"))?,
                    ),
                    FilterInput::Text => FilterValue::Text(value),
                };
                params.filters.extend(param.filters(value)?);
            }
        }
    }
    if let Some(min) = min_certainty {
        at_least(min, &mut params.include, &mut params.filters);
    }
    Ok(params)
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
    fn parses_a_full_list_query() {
        let params = list_params(
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
        let exact = list_params(Collection::Citations, &pairs(&[("year", "2017")])).unwrap();
        assert_eq!(exact.filters.len(), 2);
        assert_eq!(params.sort.len(), 2);
        assert!(params.sort[0].descending);
        assert_eq!(params.limit.get(), 50);
        assert_eq!(params.include.len(), 2);
        assert_eq!(params.include[0].children.len(), 2);
        assert!(params.count);
        let search = list_params(Collection::Citations, &pairs(&[("q", "back pain")])).unwrap();
        assert!(search.sort.is_empty(), "a search ranks by relevance");
        let sorted = list_params(
            Collection::Citations,
            &pairs(&[("q", "back"), ("sort", "year")]),
        )
        .unwrap();
        assert_eq!(sorted.sort.len(), 1);
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
            let error = list_params(Collection::Techniques, &pairs(&[(key, value)])).unwrap_err();
            assert!(
                error.to_string().starts_with(named),
                "{key}={value}: {error}"
            );
        }
        let twice = list_params(Collection::Techniques, &pairs(&[("q", "a"), ("q", "b")]));
        assert!(twice.unwrap_err().to_string().starts_with("q"));
    }
}
