//! The schema.org mapping: each collection's item as a node of the most specific type.

use chrono::DateTime;
use serde_json::{Map, Value as Json, json};

use crate::domain::Collection;
use crate::domain::gtin::Gtin;
use crate::domain::names;
use crate::service::syndication;

/// An item as a schema.org node; `brief` for a related item (what identifies it).
pub fn node(collection: Collection, item: &Map<String, Json>, brief: bool) -> Map<String, Json> {
    let mut n = Node {
        item,
        out: Map::new(),
    };
    match collection {
        Collection::Articles => article(&mut n, brief),
        Collection::Conditions => condition(&mut n, brief),
        Collection::Techniques => technique(&mut n, brief),
        Collection::Benefits => {
            n.set_type("MedicalEntity");
            n.text("name", "name");
            n.text("description", "summary");
            if !brief {
                n.evidence();
            }
        }
        Collection::Citations => citation(&mut n, false),
        Collection::Authors => person(&mut n, brief),
        Collection::Publishers => {
            n.set_type("Organization");
            n.text("name", "name");
            n.text("description", "summary");
            n.text("url", "url");
            n.text("logo", "logo_url");
        }
        Collection::Products => product(&mut n, brief),
    }
    if !brief {
        n.syndication(collection);
    }
    n.out
}

struct Node<'a> {
    item: &'a Map<String, Json>,
    out: Map<String, Json>,
}

impl Node<'_> {
    fn set_type(&mut self, name: &str) {
        self.out.insert("@type".into(), json!(name));
    }

    fn str(&self, field: &str) -> Option<&str> {
        self.item
            .get(field)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    }

    fn put(&mut self, property: &str, value: Json) {
        let empty = matches!(&value, Json::Null) || value.as_array().is_some_and(Vec::is_empty);
        if !empty {
            self.out.insert(property.into(), value);
        }
    }

    /// `property` ← the item's text `field`.
    fn text(&mut self, property: &str, field: &str) {
        if let Some(value) = self.str(field) {
            let value = json!(value);
            self.put(property, value);
        }
    }

    /// `property` ← the item's list of texts `field`.
    fn list(&mut self, property: &str, field: &str) {
        if let Some(list) = self.item.get(field).cloned() {
            self.put(property, list);
        }
    }

    /// `property` ← the date (YYYY-MM-DD) or time of the item's timestamp `field`.
    fn date(&mut self, property: &str, field: &str, day_only: bool) {
        let Some(at) = self
            .str(field)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        else {
            return;
        };
        let value = if day_only {
            at.format("%Y-%m-%d").to_string()
        } else {
            at.to_rfc3339()
        };
        self.put(property, json!(value));
    }

    /// `property` ← the related items embedded under `relation`, as brief nodes: one
    /// node for a to-one relation, a list otherwise.
    fn related(&mut self, property: &str, relation: &str, to: Collection) {
        let value = match self.item.get(relation) {
            Some(Json::Object(one)) => Json::Object(node(to, one, true)),
            _ => Json::Array(self.related_nodes(relation, to)),
        };
        self.put(property, value);
    }

    /// The item's canonical page as its `url` (unless it has an address of its own), and
    /// for an article, the licence it is offered under.
    fn syndication(&mut self, collection: Collection) {
        let terms = self.item.get(syndication::KEY);
        let term = |name: &str| {
            terms
                .and_then(|t| t.get(name))
                .filter(|v| v.is_string())
                .cloned()
        };
        if !self.out.contains_key("url")
            && let Some(url) = term("canonical_url")
        {
            self.put("url", url);
        }
        if collection == Collection::Articles
            && let Some(licence) = term("licence_url")
        {
            self.put("license", licence);
        }
    }

    /// A medical entity's citations: guidelines as its `guideline`, the other works as
    /// what it is the `subjectOf`.
    fn evidence(&mut self) {
        let (mut guidelines, mut works) = (Vec::new(), Vec::new());
        for cited in self.embedded("citations") {
            let mut c = Node {
                item: cited,
                out: Map::new(),
            };
            let guideline = c.str("kind") == Some("guideline");
            citation(&mut c, !guideline);
            if guideline {
                guidelines.push(Json::Object(c.out));
            } else {
                works.push(Json::Object(c.out));
            }
        }
        self.put("guideline", Json::Array(guidelines));
        self.put("subjectOf", Json::Array(works));
    }

    /// An article's citations, each as a creative work (`citation` takes no other).
    fn works_cited(&mut self) {
        let works: Vec<Json> = self
            .embedded("citations")
            .map(|cited| {
                let mut c = Node {
                    item: cited,
                    out: Map::new(),
                };
                citation(&mut c, true);
                Json::Object(c.out)
            })
            .collect();
        self.put("citation", Json::Array(works));
    }

    /// The items embedded under the claim relation `relation`, as brief nodes, each with
    /// the evidence behind its claim as the `study` that supports it.
    fn claim_nodes(&self, relation: &str, to: Collection) -> Vec<Json> {
        self.embedded(relation)
            .map(|one| {
                let mut brief = node(to, one, true);
                if let Some(study) = study(self.item, one, to) {
                    brief.insert("study".into(), study);
                }
                Json::Object(brief)
            })
            .collect()
    }

    fn embedded(&self, relation: &str) -> impl Iterator<Item = &Map<String, Json>> + use<'_> {
        self.item
            .get(relation)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_object)
    }

    fn related_nodes(&self, relation: &str, to: Collection) -> Vec<Json> {
        match self.item.get(relation) {
            Some(Json::Array(many)) => many
                .iter()
                .filter_map(Json::as_object)
                .map(|one| Json::Object(node(to, one, true)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn article(n: &mut Node, brief: bool) {
    n.set_type("MedicalWebPage");
    n.text("headline", "title");
    n.text("name", "title");
    n.text("description", "summary");
    if brief {
        return;
    }
    n.date("datePublished", "published_at", false);
    n.date("dateModified", "updated_at", false);
    n.date("lastReviewed", "last_reviewed_at", true);
    n.related("author", "author", Collection::Authors);
    n.related("reviewedBy", "reviewer", Collection::Authors);
    n.related("publisher", "publisher", Collection::Publishers);
    let conditions = n.related_nodes("conditions", Collection::Conditions);
    if let Some(first) = conditions.first() {
        n.put("mainEntity", first.clone());
    }
    n.put("about", Json::Array(conditions));
    let mut mentions = n.related_nodes("techniques", Collection::Techniques);
    mentions.extend(n.related_nodes("benefits", Collection::Benefits));
    mentions.extend(n.related_nodes("products", Collection::Products));
    n.put("mentions", Json::Array(mentions));
    n.works_cited();
}

fn condition(n: &mut Node, brief: bool) {
    n.set_type("MedicalCondition");
    n.text("name", "name");
    n.list("alternateName", "alternate_names");
    n.text("description", "summary");
    let codes: Vec<Json> = n
        .item
        .get("icd10")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(|code| json!({ "@type": "MedicalCode", "codeValue": code, "codingSystem": "ICD-10" }))
        .collect();
    n.put("code", Json::Array(codes));
    if brief {
        return;
    }
    if let Some(region) = n.str("body_region") {
        let anatomy = json!({ "@type": "AnatomicalStructure", "name": region });
        n.put("associatedAnatomy", anatomy);
    }
    let treatments = n.claim_nodes("techniques", Collection::Techniques);
    n.put("possibleTreatment", Json::Array(treatments));
    n.evidence();
}

fn technique(n: &mut Node, brief: bool) {
    n.set_type("MedicalTherapy");
    n.text("name", "name");
    n.text("description", "summary");
    if brief {
        return;
    }
    n.text("howPerformed", "description");
    n.evidence();
    // schema.org relates conditions to therapies (`possibleTreatment`), not the reverse.
    let conditions = n.claim_nodes("conditions", Collection::Conditions);
    if !conditions.is_empty() {
        n.put("@reverse", json!({ "possibleTreatment": conditions }));
    }
}

/// The evidence behind the claim linking `item` and `related` (a technique and a
/// condition, either way round), as a `MedicalStudy`: schema.org has no GRADE certainty,
/// so the statement names it in words and the grading is spelled out beside it.
fn study(item: &Map<String, Json>, related: &Map<String, Json>, to: Collection) -> Option<Json> {
    let evidence = related.get("link")?.get("evidence")?.as_object()?;
    let (technique, condition) = match to {
        Collection::Techniques => (related, item),
        _ => (item, related),
    };
    let mut n = Node {
        item: evidence,
        out: Map::new(),
    };
    n.set_type("MedicalStudy");
    n.text("name", "statement");
    n.text("description", "summary");
    let certainty = n.str("certainty").unwrap_or_default().replace('_', " ");
    let mut grading = format!("GRADE certainty of the evidence: {certainty}.");
    if let Some(level) = evidence.get("level").and_then(Json::as_i64) {
        grading.push_str(&format!(" OCEBM 2011 level of evidence: {level}."));
    }
    n.put("disambiguatingDescription", json!(grading));
    let name = |end: &Map<String, Json>| end.get("name").cloned().unwrap_or(Json::Null);
    let subject = json!({ "@type": "MedicalTherapy", "name": name(technique) });
    n.put("studySubject", subject);
    let condition = json!({ "@type": "MedicalCondition", "name": name(condition) });
    n.put("healthCondition", condition);
    n.evidence();
    Some(Json::Object(n.out))
}

/// A citation; `as_work` where only a creative work fits (an article's `citation`, an
/// entity's `subjectOf`): a guideline is then the scholarly article that publishes it.
fn citation(n: &mut Node, as_work: bool) {
    let kind = n.str("kind").unwrap_or_default().to_owned();
    let guideline = kind == "guideline" && !as_work;
    n.set_type(match kind.as_str() {
        "guideline" if guideline => "MedicalGuideline",
        "report" => "Report",
        _ => "MedicalScholarlyArticle",
    });
    n.text("name", "title");
    n.text("description", "summary");
    n.text("url", "url");
    let doi = n.str("doi").map(str::to_owned);
    let pmid = n.str("pmid").map(str::to_owned);
    if let Some(doi) = &doi {
        n.put("sameAs", json!(format!("https://doi.org/{doi}")));
    }
    let identifiers: Vec<Json> = [("DOI", doi), ("PMID", pmid)]
        .into_iter()
        .filter_map(|(id, value)| {
            value.map(|v| json!({ "@type": "PropertyValue", "propertyID": id, "value": v }))
        })
        .collect();
    n.put("identifier", Json::Array(identifiers));
    let year = n.item.get("year").and_then(Json::as_i64);
    if guideline {
        // A guideline is a medical entity, not a creative work: no journal or authors.
        n.put(
            "guidelineDate",
            year.map_or(Json::Null, |y| json!(y.to_string())),
        );
        return;
    }
    n.text("headline", "title");
    n.put(
        "datePublished",
        year.map_or(Json::Null, |y| json!(y.to_string())),
    );
    if let Some(journal) = n.str("journal") {
        let journal = json!({ "@type": "Periodical", "name": journal });
        n.put("isPartOf", journal);
    }
    // MEDLINE's publication types, as schema.org suggests.
    let publication = match kind.as_str() {
        "review" => Some("Review"),
        "meta_analysis" => Some("Meta-Analysis"),
        "guideline" => Some("Practice Guideline"),
        _ => None,
    };
    if let Some(publication) = publication {
        n.put("publicationType", json!(publication));
    }
    let names = n.item.get("authors").map(names::stored).unwrap_or_default();
    let authors: Vec<Json> = names
        .iter()
        .map(|name| match (&name.literal, &name.family) {
            (Some(body), _) => json!({ "@type": "Organization", "name": body }),
            (None, family) => {
                let full = [name.given.as_deref(), family.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut person = json!({ "@type": "Person", "name": full, "familyName": family });
                if let Some(given) = &name.given {
                    person["givenName"] = json!(given);
                }
                person
            }
        })
        .collect();
    n.put("author", Json::Array(authors));
}

fn person(n: &mut Node, brief: bool) {
    n.set_type("Person");
    n.text("name", "name");
    n.text("honorificSuffix", "credentials");
    n.text("jobTitle", "job_title");
    if let Some(credentials) = n.str("credentials") {
        let credential =
            json!({ "@type": "EducationalOccupationalCredential", "name": credentials });
        n.put("hasCredential", credential);
    }
    n.list("sameAs", "same_as");
    if brief {
        return;
    }
    n.text("description", "bio");
    n.text("image", "image_url");
    n.list("knowsAbout", "specialties");
}

fn product(n: &mut Node, brief: bool) {
    n.set_type("Product");
    n.text("name", "name");
    n.text("sku", "sku");
    if let Some(gtin) = n.str("gtin").and_then(|g| Gtin::parse(g).ok()) {
        n.put(gtin.schema_property(), json!(gtin.as_str()));
    }
    if let Some(brand) = n.str("brand") {
        let brand = json!({ "@type": "Brand", "name": brand });
        n.put("brand", brand);
    }
    n.text("url", "url");
    if brief {
        return;
    }
    n.text("category", "category");
    n.text("description", "description");
    n.text("image", "image_url");
}
