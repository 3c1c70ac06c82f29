//! `Accept` negotiation (RFC 9110 §12.5.1): which representation of a resource a client
//! takes. The most specific media range matching an offer gives its weight; the heaviest
//! offer wins, ties going to the first offered; nothing acceptable is a 406.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::{AppError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    /// schema.org JSON-LD.
    JsonLd,
    /// An HTML page (embeds).
    Html,
    /// CSL-JSON (citations).
    CslJson,
}

impl Representation {
    pub fn media_type(self) -> &'static str {
        match self {
            Representation::Json => "application/json",
            Representation::JsonLd => "application/ld+json",
            Representation::Html => "text/html",
            Representation::CslJson => crate::domain::csl::MEDIA_TYPE,
        }
    }
}

/// The representation of `offered` (in order of preference) the request's `Accept` ranks
/// highest.
pub fn negotiate(req: &HttpRequest, offered: &[Representation]) -> Result<Representation> {
    let ranges: Vec<String> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect();
    let first = offered[0];
    if ranges.iter().all(|r| r.trim().is_empty()) {
        return Ok(first);
    }
    let accept = ranges.join(",");
    let mut best: Option<(Representation, f32)> = None;
    for &offer in offered {
        let weight = weight(&accept, offer.media_type());
        if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
            best = Some((offer, weight));
        }
    }
    best.map(|(offer, _)| offer).ok_or_else(|| {
        let types: Vec<&str> = offered.iter().map(|o| o.media_type()).collect();
        AppError::NotAcceptable(format!(
            "this resource is available as {}; Accept allows none of them",
            types.join(" or ")
        ))
    })
}

/// The weight `accept` gives `media_type` (0 when no range matches).
fn weight(accept: &str, media_type: &str) -> f32 {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    let mut found: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let specificity = if name == media_type {
            2
        } else if name.strip_suffix("/*") == Some(kind) {
            1
        } else if name == "*/*" {
            0
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .map_or(1.0, |q| q.clamp(0.0, 1.0));
        if found.is_none_or(|(s, _)| specificity > s) {
            found = Some((specificity, q));
        }
    }
    found.map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Representation::{Json, JsonLd};

    fn pick(accept: Option<&str>) -> std::result::Result<Representation, String> {
        let mut req = actix_web::test::TestRequest::default();
        if let Some(accept) = accept {
            req = req.insert_header((header::ACCEPT, accept));
        }
        negotiate(&req.to_http_request(), &[Json, JsonLd]).map_err(|e| e.to_string())
    }

    #[test]
    fn the_best_weighted_most_specific_range_wins() {
        assert_eq!(pick(None), Ok(Json));
        assert_eq!(pick(Some("*/*")), Ok(Json));
        assert_eq!(pick(Some("application/ld+json")), Ok(JsonLd));
        assert_eq!(pick(Some("Application/LD+JSON; profile=x")), Ok(JsonLd));
        assert_eq!(
            pick(Some("application/json;q=0.5, application/ld+json")),
            Ok(JsonLd)
        );
        assert_eq!(pick(Some("application/ld+json;q=0.4, */*;q=0.5")), Ok(Json));
        assert_eq!(
            pick(Some("application/*, application/json;q=0")),
            Ok(JsonLd)
        );
        assert_eq!(pick(Some("text/html, application/json;q=0.9")), Ok(Json));
        assert!(pick(Some("text/csv")).is_err_and(|e| e.contains("application/ld+json")));
        assert!(pick(Some("*/*;q=0")).is_err());
    }
}
