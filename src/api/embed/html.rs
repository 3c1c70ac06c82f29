//! Writing HTML safely: every text escaped, every link an http(s) URL, the JSON-LD block
//! unable to end its script element, and the one stylesheet allowed by its hash.

use base64::Engine;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Text or an attribute value, escaped for any HTML context it is quoted in.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `url` if a link may point there: an absolute http(s) URL with a host.
pub fn safe_href(url: &str) -> Option<&str> {
    let parsed = url::Url::parse(url).ok()?;
    (matches!(parsed.scheme(), "https" | "http") && parsed.host_str().is_some()).then_some(url)
}

/// A link to `url` showing `text`, or the text alone when the URL is not one to follow.
pub fn link(url: Option<&str>, text: &str, rel: &str) -> String {
    match url.and_then(safe_href) {
        Some(href) => format!(
            "<a href=\"{}\" rel=\"{rel}\">{}</a>",
            escape(href),
            escape(text)
        ),
        None => escape(text),
    }
}

/// JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` as JSON
/// escapes (so neither `</script>` nor `<!--` can appear), and U+2028/2029 too.
pub fn json_in_script(value: &Json) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The CSP source allowing exactly `style` as an inline stylesheet.
pub fn style_hash(style: &str) -> String {
    let digest = Sha256::digest(style.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Percent-encodes a query parameter's value.
pub fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_escapes_its_context() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;"
        );
        let json = serde_json::json!({ "name": "</script><!-- \u{2028}&" });
        let out = json_in_script(&json);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('\u{2028}'));
        let back: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(back, json, "still the same JSON");
    }

    #[test]
    fn only_web_links_are_followed() {
        assert!(safe_href("https://example.org/a?b").is_some());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "mailto:a@b.c",
        ] {
            assert!(safe_href(bad).is_none(), "{bad}");
        }
        assert_eq!(link(Some("javascript:x"), "<b>", "x"), "&lt;b&gt;");
    }
}
