//! Settings of embed pages and the oEmbed provider.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct EmbedSettings {
    /// The URL clients reach this deployment at (e.g. `https://content.example.com`):
    /// embed pages and oEmbed answers link there, and oEmbed answers for URLs of this
    /// origin only. Default: the origin each request names (its `Host` header).
    #[arg(long, env = "SALVE_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,

    /// Who may show embed pages in a frame: the sources of their CSP `frame-ancestors`,
    /// space-separated (e.g. `https://shop.example.com`), `*` for any site or `'none'`.
    #[arg(long, env = "SALVE_EMBED_FRAME_ANCESTORS", default_value = "*",
          value_parser = frame_ancestors)]
    pub embed_frame_ancestors: String,

    /// The name oEmbed answers give as `provider_name`.
    #[arg(long, env = "SALVE_PROVIDER_NAME", default_value = "Salve",
          value_parser = super::header_text)]
    pub provider_name: String,
}

impl Default for EmbedSettings {
    fn default() -> Self {
        super::declared_defaults()
    }
}

/// An http(s) origin, without a path, query or fragment; kept without a trailing slash.
fn public_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    let origin_only = matches!(url.scheme(), "https" | "http")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !origin_only {
        return Err(format!(
            "{value:?} must be an http(s) origin such as https://content.example.com"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// CSP source expressions: printable, without the `;` and `,` that would end the directive.
fn frame_ancestors(value: &str) -> Result<String, String> {
    let valid = !value.trim().is_empty()
        && value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b';' && b != b',');
    if valid {
        Ok(value.trim().to_owned())
    } else {
        Err(
            "must be CSP sources separated by spaces (e.g. https://shop.example.com), * or 'none'"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(
            public_url("https://content.example.com/").unwrap(),
            "https://content.example.com"
        );
        assert_eq!(
            public_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "content.example.com",
            "ftp://x.org",
            "https://x.org/api",
            "https://x.org/?a",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frame_ancestors_stay_one_directive() {
        assert!(frame_ancestors("https://a.example https://b.example").is_ok());
        assert!(frame_ancestors("'none'").is_ok());
        for bad in ["", "*; script-src *", "a,b", "a\nb"] {
            assert!(frame_ancestors(bad).is_err(), "{bad:?}");
        }
    }
}
