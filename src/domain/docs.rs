//! Human descriptions of collections, fields and relations: the API documentation that
//! GraphQL introspection (and the SDL) shows. Kept beside the model so a new field gets
//! its description where it is declared.

use super::model::Collection;
use super::relations::{Relation, RelationKind};

/// `word` with its indefinite article: "an article", "a technique", "an in_review".
pub fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

pub fn collection_description(collection: Collection) -> &'static str {
    match collection {
        Collection::Publishers => "An organisation that publishes content (the health publisher).",
        Collection::Authors => {
            "A person who writes or medically reviews content, with credentials."
        }
        Collection::Citations => {
            "A piece of research evidence (study, guideline, review, meta-analysis or report) \
             that backs claims."
        }
        Collection::Conditions => "A health condition, such as lower back pain.",
        Collection::Techniques => "A massage technique, professional or self-applied.",
        Collection::Benefits => "A benefit a technique yields, with its mechanism.",
        Collection::Products => "A product sold by a storefront, used with techniques.",
        Collection::Articles => {
            "An editorial article with its author, medical reviewer and the items it mentions."
        }
    }
}

/// The description of a common or collection field.
pub fn field_description(collection: Collection, field: &str) -> String {
    let one = collection.singular();
    let text = match (collection, field) {
        (_, "id") => "Stable identifier (a UUID, unique across every collection).",
        (_, "slug") => "URL-safe key, unique within the collection; used in URLs and references.",
        (_, "status") => {
            "Editorial status. Consumers without the preview scope only ever see published items."
        }
        (_, "published_at") => "When the item was first published; null until then.",
        (_, "created_at") => "When the item was created.",
        (_, "updated_at") => "When the item last changed.",
        (_, "version") => "Bumped on every change; used for optimistic concurrency.",
        (Collection::Products, "name") => "Product name as shown in the storefront.",
        (_, "name") => "Display name.",
        (_, "title") => "Title.",
        (_, "summary") => "Short plain-text summary, suitable for cards and meta descriptions.",
        (_, "body") => "Full text in Markdown.",
        (_, "description") => "Longer description in Markdown.",
        (_, "url") => "Canonical web address (https).",
        (_, "logo_url") => "Logo image address (https).",
        (_, "licence_url") => {
            "The licence the publisher's articles are offered under (https); overrides the \
             deployment's syndication terms."
        }
        (_, "attribution_text") => {
            "The attribution a storefront shows with the publisher's articles; overrides the \
             deployment's."
        }
        (_, "attribution_url") => {
            "Where the attribution links (https); overrides the deployment's."
        }
        (_, "disclaimer") => {
            "The medical disclaimer shown with the publisher's articles; overrides the \
             deployment's."
        }
        (_, "canonical_url") => {
            "The article's canonical page (https), e.g. on the publisher's site; else the \
             deployment's canonical base URL gives one."
        }
        (_, "image_url") => "Image address (https).",
        (_, "credentials") => "Professional credentials, e.g. \"CRT\" or \"MD\".",
        (_, "job_title") => "Job title.",
        (_, "bio") => "Biography in Markdown.",
        (_, "specialties") => "Areas of expertise.",
        (_, "same_as") => "Profile addresses elsewhere (schema.org sameAs).",
        (_, "alternate_names") => "Other names the condition is known by.",
        (_, "body_region") => "Body region affected, e.g. \"lower back\".",
        (_, "icd10") => "ICD-10 codes of the condition.",
        (_, "statistics") => "Figures about the condition, each backed by a citation.",
        (Collection::Techniques, "kind") => "Applied by a professional or by oneself.",
        (_, "pressure") => "Typical pressure of the technique.",
        (_, "mechanism") => "How the benefit comes about, in Markdown.",
        (Collection::Citations, "kind") => "Kind of evidence.",
        (_, "journal") => "Journal or publishing body.",
        (_, "year") => "Year of publication (follows `issued`).",
        (_, "issued") => "Date of publication: YYYY, YYYY-MM or YYYY-MM-DD.",
        (_, "volume") => "Volume of the journal.",
        (_, "issue") => "Issue of the journal.",
        (_, "pages") => "Pages, e.g. 514-530 (or an article number).",
        (Collection::Citations, "publisher") => {
            "Publisher or issuing body (of a guideline or report)."
        }
        (_, "accessed") => "Date the online source was consulted: YYYY-MM-DD.",
        (_, "doi") => {
            "Digital Object Identifier, e.g. 10.1000/xyz123: stored without a resolver \
             prefix, in lower case; unique."
        }
        (_, "pmid") => "PubMed identifier; unique.",
        (_, "pmcid") => "PubMed Central identifier, e.g. PMC5467890; unique.",
        (Collection::Citations, "authors") => {
            "Authors in order: people as `{family, given}`, bodies as `{literal}`."
        }
        (_, "sample_size") => "Number of participants, for studies.",
        (_, "sku") => "Stock keeping unit, unique across products.",
        (_, "gtin") => {
            "Global Trade Item Number (barcode): GTIN-8, -12, -13 or -14 with a valid check \
             digit, unique across products (the forms of one number are one GTIN)."
        }
        (_, "brand") => "Brand.",
        (_, "category") => "Storefront category.",
        (_, "price_cents") => "Price in the currency's minor unit.",
        (_, "currency") => "ISO 4217 currency code.",
        (_, "author") => "The author who wrote the article.",
        (_, "reviewer") => {
            "The author (with credentials) who medically reviews it; recording a review \
             sets it."
        }
        (_, "publisher") => "The publisher of the article.",
        (_, "last_reviewed_at") => "When it was last medically reviewed.",
        (_, "publish_at") => {
            "When the scheduler publishes it (within a few seconds of the time, with the \
             blockers of a publication); cleared once it is published. Needs `publish`."
        }
        (_, "unpublish_at") => {
            "When the scheduler takes it back to draft; cleared once it is unpublished or \
             archived. Needs `publish`."
        }
        (_, "schedule_error") => {
            "Why the last scheduled step was refused (its blockers), set by the scheduler; \
             cleared by the next publication."
        }
        (_, "next_review_due") => {
            "When the next medical review is due (set on publish and on each recorded review)."
        }
        _ => return format!("The {one}'s {}.", field.replace('_', " ")),
    };
    text.to_owned()
}

/// The description of a relation field (`Technique.benefits`).
pub fn relation_description(relation: &Relation) -> String {
    if let RelationKind::ToOne { .. } = relation.kind {
        let own = field_description(relation.from, relation.name);
        return format!("{} Null when absent or not visible to the caller.", own);
    }
    let from = relation.from.singular();
    let to = relation.to.as_str();
    let what = match (relation.from, relation.name) {
        (Collection::Conditions, "techniques") => "Techniques that help this condition".into(),
        (Collection::Techniques, "conditions") => "Conditions this technique helps".into(),
        (Collection::Techniques, "benefits") => "Benefits this technique yields".into(),
        (Collection::Benefits, "techniques") => "Techniques that yield this benefit".into(),
        (Collection::Techniques, "products") => "Products used with this technique".into(),
        (Collection::Products, "techniques") => "Techniques this product is used with".into(),
        (Collection::Articles, "related") => "Articles this article links to as related".into(),
        (Collection::Articles, "related_by") => "Articles that list this one as related".into(),
        (Collection::Authors, "reviewed_articles") => "Articles this author reviewed".into(),
        (_, "citations") => format!("Evidence cited for this {from}"),
        (Collection::Articles, _) => format!("The {to} this article mentions"),
        (_, "articles") if matches!(relation.kind, RelationKind::ToMany { .. }) => {
            format!("Articles of this {from}")
        }
        (_, "articles") => format!("Articles that mention this {from}"),
        _ => format!("The {to} linked to this {from}"),
    };
    format!("{what}, in editorial order. Only items the caller may see are listed.")
}

#[cfg(test)]
mod tests {
    #[test]
    fn articles_agree_with_their_words() {
        assert_eq!(super::a("article"), "an article");
        assert_eq!(super::a("author"), "an author");
        assert_eq!(super::a("technique"), "a technique");
    }
}
