//! Markdown fields and the forms a reader may ask for: the stored CommonMark, HTML that is
//! safe to insert into a storefront's page, or plain text for previews. Renditions are made
//! once per write (and again when [`RENDERER_VERSION`] changes), never per read.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser};

/// Bumped whenever [`render`] may give a different result for the same Markdown (a rule
/// changed, ammonia or pulldown-cmark upgraded): stored renditions are then made again.
pub const RENDERER_VERSION: i64 = 1;

/// The form of a Markdown field in a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextFormat {
    /// The stored CommonMark, unchanged.
    #[default]
    Markdown,
    /// Rendered and sanitised HTML.
    Html,
    /// Plain text: the words without markup (raw HTML and images left out).
    Text,
}

impl TextFormat {
    pub const NAMES: &'static [&'static str] = &["markdown", "html", "text"];

    pub fn parse(input: &str) -> Result<Self, crate::error::AppError> {
        match input {
            "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            "text" => Ok(Self::Text),
            other => Err(super::bad(
                "format",
                format!(
                    "unknown format {other:?} (allowed: {})",
                    Self::NAMES.join(", ")
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The renditions of one Markdown value, as stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    pub html: String,
    pub text: String,
}

/// CommonMark with GitHub's tables and strikethrough; nothing that needs a script.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Both renditions (the text is read off the HTML, so sanitising happens once).
pub fn render(markdown: &str) -> Rendition {
    let html = html(markdown);
    Rendition {
        text: text_of_html(&html),
        html,
    }
}

/// Markdown rendered to HTML, then sanitised: whatever the stored text holds, the result
/// runs no script, loads nothing but `https` images and leaves the page by no link that
/// could reach back into it.
pub fn html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    limit_depth(SANITISER.clean(&raw).to_string())
}

/// How deeply elements may nest. Browsers cap the depth of the tree they build (and DOM
/// libraries run out of stack long before tens of thousands of levels), each differently;
/// no prose needs more than a few levels, so deeper tags are dropped and their text kept.
pub const MAX_DEPTH: usize = 100;

/// Drops the tags nested deeper than [`MAX_DEPTH`] from sanitised HTML (well formed: every
/// element but the void ones is closed), keeping all text.
fn limit_depth(html: String) -> String {
    if html.matches('<').count() <= MAX_DEPTH {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    let mut depth = 0usize;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let (tag, after) = split_tag(&rest[open + 1..]);
        rest = after;
        let closing = tag.starts_with('/');
        let void = matches!(tag_name(tag), "br" | "hr" | "img" | "wbr");
        let level = if closing { depth } else { depth + 1 };
        if level <= MAX_DEPTH {
            out.push('<');
            out.push_str(tag);
            out.push('>');
        }
        match (closing, void) {
            (true, _) => depth = depth.saturating_sub(1),
            (false, false) => depth += 1,
            (false, true) => {}
        }
    }
    out.push_str(rest);
    out
}

fn tag_name(tag: &str) -> &str {
    tag.trim_start_matches('/')
        .split(|c: char| c.is_ascii_whitespace() || c == '/')
        .next()
        .unwrap_or_default()
}

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    // What CommonMark produces, and the few inline elements writers add by hand. No SVG
    // or MathML (foreign content is where sanitisers and parsers disagree), no forms,
    // media, frames or style.
    let tags: HashSet<&str> = [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
        "wbr",
    ]
    .into();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(tags)
        .url_schemes(["https", "http", "mailto", "tel"].into())
        // A relative URL would resolve against the storefront's own site.
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| {
            // Markup inside an attribute is harmless here but turns into markup wherever
            // the HTML is parsed again in another context (the mutation-XSS family):
            // such values are dropped, as DOMPurify drops them.
            if value.contains(['<', '>']) {
                return None;
            }
            let https = value
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
            match (element, attribute) {
                ("img", "src") if !https => None,
                _ => Some(Cow::Borrowed(value)),
            }
        });
    builder
});

/// The words of the Markdown as the safe HTML shows them: blocks apart, markup, images and
/// anything the sanitiser removed left out.
pub fn text(markdown: &str) -> String {
    text_of_html(&html(markdown))
}

/// The text of HTML as ammonia serialises it: every `<` in text is escaped, so each one
/// opens a tag, and text holds only the entities below.
fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut pre = 0usize;
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open], pre > 0);
        let (tag, after) = split_tag(&rest[open + 1..]);
        rest = after;
        let closing = tag.starts_with('/');
        let name = tag_name(tag);
        match name {
            "pre" if closing => pre = pre.saturating_sub(1),
            "pre" => pre += 1,
            _ => {}
        }
        match (name, closing) {
            (
                "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "table"
                | "ul" | "ol" | "dl" | "figure" | "details",
                true,
            )
            | ("hr", false) => end_block(&mut out),
            ("li" | "tr" | "dt" | "dd" | "div" | "figcaption" | "summary" | "caption", true)
            | ("br", false) => end_line(&mut out),
            ("td" | "th", true) => out.push(' '),
            _ => {}
        }
    }
    push_text(&mut out, rest, pre > 0);
    out.truncate(out.trim_end().len());
    out
}

/// The inside of a tag and what follows its `>` (quotes may hold a `>`).
fn split_tag(from: &str) -> (&str, &str) {
    let mut quote = None;
    for (at, c) in from.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return (&from[..at], &from[at + 1..]),
            _ => {}
        }
    }
    (from, "")
}

fn push_text(out: &mut String, text: &str, preformatted: bool) {
    let mut rest = text;
    while !rest.is_empty() {
        let (entity, decoded) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&nbsp;", '\u{a0}'),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .unwrap_or(("", '\0'));
        if !entity.is_empty() {
            out.push(decoded);
            rest = &rest[entity.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        match c {
            '\n' if !preformatted => {
                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
}

fn end_line(out: &mut String) {
    out.truncate(out.trim_end_matches([' ', '\n']).len());
    if !out.is_empty() {
        out.push('\n');
    }
}

fn end_block(out: &mut String) {
    end_line(out);
    if !out.is_empty() {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_text() {
        let md =
            "# Massage\n\nEases **pain**, see [NICE](https://www.nice.org.uk/).\n\n- one\n- two\n";
        let r = render(md);
        assert_eq!(
            r.html,
            "<h1>Massage</h1>\n<p>Eases <strong>pain</strong>, see <a href=\"https://www.nice.org.uk/\" \
             rel=\"noopener noreferrer nofollow\">NICE</a>.</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
        assert_eq!(r.text, "Massage\n\nEases pain, see NICE.\n\none\ntwo");
    }

    #[test]
    fn hostile_markup_does_not_survive() {
        let md = "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
                  [a](javascript:alert(1)) [b](data:text/html,x) ![c](http://e.com/i.png)\n\n\
                  <svg><script>alert(1)</script></svg><math><mi>x</mi></math>\n\n\
                  <a href=\"/relative\" style=\"color:red\" onclick=\"x()\">r</a>\n\n\
                  <p title=\"</p><img src=x onerror=alert(1)>\">t</p>";
        let html = html(md);
        for needle in [
            "<script",
            "onerror",
            "javascript:",
            "data:",
            "http://",
            "<svg",
            "<math",
            "style=",
            "onclick",
            "/relative",
            "&lt;",
        ] {
            assert!(!html.contains(needle), "{needle} survived in {html}");
        }
        let text = text(md);
        assert!(!text.contains("alert"), "{text}");
        assert_eq!(
            super::text("a &amp; b `<x>`\n\n    code\n    more\n\n| h | i |\n|---|---|\n| 1 | 2 |"),
            "a & b <x>\n\ncode\nmore\n\nh i\n1 2"
        );
    }

    #[test]
    fn images_load_only_over_https() {
        assert!(html("![x](https://e.com/i.png)").contains("src=\"https://e.com/i.png\""));
        assert!(!html("![x](HTTP://e.com/i.png)").contains("src="));
    }

    #[test]
    fn nesting_is_bounded_and_text_kept() {
        let deep = format!("{}deep{}", "<b>".repeat(5000), "</b>".repeat(5000));
        let html = html(&deep);
        assert_eq!(
            html.matches("<b>").count(),
            MAX_DEPTH - 1,
            "p holds the rest"
        );
        assert_eq!(html.matches("<b>").count(), html.matches("</b>").count());
        assert!(html.contains("deep"));
        let list = (0..300)
            .map(|n| format!("{}- item{n}\n", "  ".repeat(n)))
            .collect::<String>();
        let html = super::html(&list);
        assert!(html.contains("item299"));
        let mut depth = 0i32;
        let mut max = 0;
        for part in html.split('<').skip(1) {
            match (
                part.starts_with('/'),
                tag_name(part.split('>').next().unwrap_or("")),
            ) {
                (_, "br" | "hr" | "img" | "wbr") => {}
                (true, _) => depth -= 1,
                (false, _) => depth += 1,
            }
            max = max.max(depth);
        }
        assert_eq!(depth, 0);
        assert!(max as usize <= MAX_DEPTH, "{max}");
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!(TextFormat::parse("html").ok(), Some(TextFormat::Html));
        assert_eq!(TextFormat::Text.as_str(), "text");
        let err = TextFormat::parse("pdf").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("format") && e.contains("pdf")));
    }
}
