//! A person's name as reference managers keep it (CSL's `family` and `given`, or a
//! `literal` for a body such as a working group), and how a name written as one string
//! is split. The migration that structured citation authors and every write path use it.

/// A name: `family` (and `given`), or `literal` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub family: Option<String>,
    pub given: Option<String>,
    pub literal: Option<String>,
}

/// Particles that belong to the family name ("van der Berg").
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten",
    "dos", "das", "bin", "al",
];
/// Words that make a name an organisation's.
const BODIES: &[&str] = &[
    "group",
    "organization",
    "organisation",
    "association",
    "college",
    "collaboration",
    "society",
    "institute",
    "committee",
    "network",
    "council",
    "foundation",
    "consortium",
    "investigators",
    "panel",
    "agency",
    "department",
    "university",
    "centre",
    "center",
];

impl PersonName {
    pub fn literal(text: &str) -> Self {
        Self {
            family: None,
            given: None,
            literal: Some(text.to_owned()),
        }
    }

    fn person(family: &str, given: &str) -> Self {
        Self {
            family: Some(family.to_owned()),
            given: (!given.is_empty()).then(|| given.to_owned()),
            literal: None,
        }
    }

    /// Splits a name written as one string, as carefully as a string allows:
    /// `Family, Given`; `Family INITIALS` (Vancouver's form: "Kowalski H", "van der Berg
    /// JA"); `Given [particles] Family` ("Hanna van Kowalski"); and, for an organisation
    /// or anything longer than a person's name, the whole string as a literal.
    pub fn split(text: &str) -> Self {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let words: Vec<&str> = text.split(' ').collect();
        let lower = text.to_lowercase();
        let body = lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| BODIES.contains(&word));
        if body || words.len() > 5 || text.is_empty() {
            return Self::literal(&text);
        }
        if let Some((family, given)) = text.split_once(',') {
            let (family, given) = (family.trim(), given.trim());
            // "Qaseem A, Wilt TJ" is two names, not one written family first.
            let two_names =
                family.split(' ').count() > 1 && family.rsplit(' ').next().is_some_and(is_initials);
            return if family.is_empty() || given.contains(',') || two_names {
                Self::literal(&text)
            } else {
                Self::person(family, given)
            };
        }
        let last = words[words.len() - 1];
        if words.len() > 1 && is_initials(last) {
            return Self::person(&words[..words.len() - 1].join(" "), last);
        }
        if words.len() == 1 {
            return Self::person(last, "");
        }
        // Given names, then the family name with its particles.
        let family_from = (1..words.len())
            .find(|&i| PARTICLES.contains(&words[i].to_lowercase().as_str()))
            .unwrap_or(words.len() - 1);
        Self::person(
            &words[family_from..].join(" "),
            &words[..family_from].join(" "),
        )
    }

    /// `{"family", "given"}` or `{"literal"}`, as stored and served.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (key, value) in [
            ("family", &self.family),
            ("given", &self.given),
            ("literal", &self.literal),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), serde_json::Value::String(value.clone()));
            }
        }
        serde_json::Value::Object(map)
    }

    /// One line, family name first ("Kowalski H"): what full-text search reads.
    pub fn display(&self) -> String {
        match (&self.literal, &self.family, &self.given) {
            (Some(literal), ..) => literal.clone(),
            (None, Some(family), Some(given)) => format!("{family} {given}"),
            (None, Some(family), None) => family.clone(),
            (None, None, Some(given)) => given.clone(),
            (None, None, None) => String::new(),
        }
    }
}

/// "H", "JA", "J.A.", "J-P": up to four capitals, with dots or hyphens.
fn is_initials(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| *c != '.' && *c != '-').collect();
    !letters.is_empty()
        && letters.len() <= 4
        && letters.iter().all(|c| c.is_uppercase())
        && word
            .chars()
            .all(|c| c.is_uppercase() || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        text: &str,
    ) -> (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ) {
        let name = PersonName::split(text);
        let leak = |s: Option<String>| s.map(|s| &*Box::leak(s.into_boxed_str()));
        (leak(name.family), leak(name.given), leak(name.literal))
    }

    #[test]
    fn names_split_carefully() {
        assert_eq!(parts("Kowalski H"), (Some("Kowalski"), Some("H"), None));
        assert_eq!(
            parts("van der Berg JA"),
            (Some("van der Berg"), Some("JA"), None)
        );
        assert_eq!(parts("Qaseem, Amir"), (Some("Qaseem"), Some("Amir"), None));
        assert_eq!(
            parts("Hanna van Kowalski"),
            (Some("van Kowalski"), Some("Hanna"), None)
        );
        assert_eq!(parts("Amir Qaseem"), (Some("Qaseem"), Some("Amir"), None));
        assert_eq!(parts("Cochrane"), (Some("Cochrane"), None, None));
        assert_eq!(
            parts("Clinical Guidelines Committee of the American College of Physicians"),
            (
                None,
                None,
                Some("Clinical Guidelines Committee of the American College of Physicians")
            )
        );
        assert_eq!(
            parts("WHO Working Group"),
            (None, None, Some("WHO Working Group"))
        );
        assert_eq!(
            parts("Qaseem A, Wilt TJ"),
            (None, None, Some("Qaseem A, Wilt TJ"))
        );
        assert_eq!(PersonName::split("  Kowalski   H ").display(), "Kowalski H");
    }
}
