//! An independent check that HTML cannot run script: every tag, attribute and URL of the
//! markup, as html5ever's tokenizer reads it, against a short list of what is harmless.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

const TAGS: &[&str] = &[
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
];

const ATTRIBUTES: &[&str] = &[
    "href", "src", "alt", "title", "lang", "rel", "hreflang", "cite", "datetime", "start", "align",
    "colspan", "rowspan", "headers", "scope", "width", "height", "char", "charoff", "span",
    "summary", "dir", "size",
];

#[derive(Default)]
struct Findings(RefCell<Vec<String>>);

impl Findings {
    fn tag(&self, tag: &Tag) {
        let name = tag.name.to_string();
        if !TAGS.contains(&name.as_str()) {
            self.0.borrow_mut().push(format!("tag <{name}>"));
        }
        if tag.kind == TagKind::EndTag {
            return;
        }
        for attribute in &tag.attrs {
            let key = attribute.name.local.to_string();
            let value = attribute.value.to_string();
            if !ATTRIBUTES.contains(&key.as_str()) {
                self.0
                    .borrow_mut()
                    .push(format!("attribute {key} on <{name}>"));
            }
            if matches!(key.as_str(), "href" | "src" | "cite") && !safe_url(&name, &key, &value) {
                self.0
                    .borrow_mut()
                    .push(format!("URL {key}={value:?} on <{name}>"));
            }
            if key == "href" && name == "a" && !tag_has_rel(tag) {
                self.0.borrow_mut().push("a link without rel".into());
            }
        }
    }
}

fn tag_has_rel(tag: &Tag) -> bool {
    tag.attrs
        .iter()
        .any(|a| &*a.name.local == "rel" && &*a.value == "noopener noreferrer nofollow")
}

/// Absolute URLs only, with a scheme that cannot run script; images over https only.
fn safe_url(tag: &str, attribute: &str, value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if tag == "img" && attribute == "src" {
        return lower.starts_with("https://");
    }
    ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

impl TokenSink for Findings {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => self.tag(&tag),
            Token::CommentToken(_) => self.0.borrow_mut().push("a comment".into()),
            Token::DoctypeToken(_) => self.0.borrow_mut().push("a doctype".into()),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// What in `html` could run script or load from elsewhere; empty when nothing can.
pub fn unsafe_parts(html: &str) -> Vec<String> {
    let tokenizer = Tokenizer::new(Findings::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.take()
}

#[test]
fn the_check_finds_script_handlers_and_bad_urls() {
    assert!(
        unsafe_parts(
            "<p>fine <a href=\"https://e.com\" rel=\"noopener noreferrer nofollow\">x</a></p>"
        )
        .is_empty()
    );
    for bad in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\" rel=\"noopener noreferrer nofollow\">x</a>",
        "<img src=\"http://e.com/a.png\">",
        "<svg onload=alert(1)>",
        "<p style=\"x\">",
        "<!-- x -->",
    ] {
        assert!(!unsafe_parts(bad).is_empty(), "{bad}");
    }
}

/// A start tag: its name and its attributes.
pub type StartTag = (String, Vec<(String, String)>);

/// The start tags of a whole page with their attributes (`script` and `style` contents read
/// as text, as a browser reads them).
pub fn start_tags(html: &str) -> Vec<StartTag> {
    #[derive(Default)]
    struct Tags(RefCell<Vec<StartTag>>);
    impl TokenSink for Tags {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            use html5ever::tokenizer::states::RawKind;
            let Token::TagToken(tag) = token else {
                return TokenSinkResult::Continue;
            };
            if tag.kind == TagKind::EndTag {
                return TokenSinkResult::Continue;
            }
            let name = tag.name.to_string();
            let attributes = tag
                .attrs
                .iter()
                .map(|a| (a.name.local.to_string(), a.value.to_string()))
                .collect();
            self.0.borrow_mut().push((name.clone(), attributes));
            match name.as_str() {
                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                "style" => TokenSinkResult::RawData(RawKind::Rawtext),
                _ => TokenSinkResult::Continue,
            }
        }
    }
    let tokenizer = Tokenizer::new(Tags::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.take()
}
