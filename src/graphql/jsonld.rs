//! `Article.jsonLd`: schema.org structured data for a page, to drop into a
//! `<script type="application/ld+json">`: the `Article`, a `FAQPage` of its questions and its cleared
//! frames as `ImageObject`s, in one `@graph`.

use async_graphql::{Context, Result};
use entity::{ReleaseStatus, article, asset, collection, question};
use serde_json::{Value, json};

use super::loaders::{AssetsOf, CollectionRow, ProofRecordDoc, QuestionsOf, ScopeOf};

/// The article's JSON-LD, read through the request's loaders (so through its visibility).
pub(crate) async fn of_article(ctx: &Context<'_>, article: &article::Model) -> Result<Value> {
    let loader = super::loader(ctx);
    let questions = loader.load_one(QuestionsOf(article.id)).await?.unwrap_or_default();
    let collection = match article.collection_id {
        Some(id) => loader.load_one(CollectionRow(id)).await?.flatten(),
        None => None,
    };
    let record = match &article.proof_record_document_id {
        Some(doc) => loader.load_one(ProofRecordDoc(doc.clone())).await?.flatten(),
        None => None,
    };
    let mut frames = match record {
        Some(record) => loader.load_one(AssetsOf(record.id)).await?.unwrap_or_default(),
        None => Vec::new(),
    };
    if !super::visibility(ctx).is_public() {
        // A preview token reads every frame; the markup still holds only what the public page may show:
        // unexpired, and scoped (if at all) to the article page. Public reads are filtered in SQL already.
        let now = chrono::Utc::now();
        let scopes = loader.load_many(frames.iter().map(|f| ScopeOf(f.id))).await?;
        frames.retain(|f| {
            let scope = scopes.get(&ScopeOf(f.id)).map(Vec::as_slice).unwrap_or_default();
            f.release_expires_at.is_none_or(|at| at > now)
                && (scope.is_empty() || scope.iter().any(|c| c.slug == crate::service::release::PROOF_PAGES))
        });
    }
    // A cached copy must not outlive the earliest frame expiry it shows.
    super::release::note_frames(ctx, &frames);
    Ok(build(article, collection.as_ref(), &questions, &frames))
}

fn date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The graph itself. Node ids are fragments (`#article`), so they resolve against the page that embeds
/// the script. Keys come out sorted (serde_json's map) and items in page order: the output is deterministic.
pub fn build(
    article: &article::Model,
    collection: Option<&collection::Model>,
    questions: &[question::Model],
    frames: &[asset::Model],
) -> Value {
    // Whatever the caller may see, only frames released for the public are structured data; a preview
    // token must not get a PENDING frame into a page's markup.
    let frames: Vec<&asset::Model> = frames.iter().filter(|f| ReleaseStatus::PUBLIC.contains(&f.release)).collect();
    let frame_id = |f: &asset::Model| format!("#frame-{}", f.position);
    let mut page = json!({
        "@type": "Article",
        "@id": "#article",
        "headline": article.title,
        "dateModified": date(article.updated_at),
    });
    if let Some(thesis) = article.thesis.as_deref().filter(|t| !t.is_empty()) {
        page["description"] = json!(thesis);
    }
    if let Some(at) = article.published_at {
        page["datePublished"] = json!(date(at));
    }
    if let Some(c) = collection {
        let mut part = json!({ "@type": "Collection", "name": c.name, "identifier": c.slug });
        if let Some(d) = c.description.as_deref().filter(|d| !d.is_empty()) {
            part["description"] = json!(d);
        }
        page["isPartOf"] = part;
        page["about"] = json!({ "@type": "Thing", "name": c.name });
    }
    if !frames.is_empty() {
        page["image"] = frames.iter().map(|f| json!({ "@id": frame_id(f) })).collect();
    }
    let mut graph = vec![page];
    // Google's FAQPage rules: one Question per question, each with a non-empty name and answer text.
    let faq: Vec<Value> = questions
        .iter()
        .filter(|q| !q.question.trim().is_empty() && !q.answer.trim().is_empty())
        .map(|q| {
            json!({
                "@type": "Question",
                "name": q.question,
                "acceptedAnswer": { "@type": "Answer", "text": q.answer },
            })
        })
        .collect();
    if !faq.is_empty() {
        graph.push(json!({
            "@type": "FAQPage",
            "@id": "#faq",
            "isPartOf": { "@id": "#article" },
            "mainEntity": faq,
        }));
    }
    for f in frames {
        let mut image = json!({ "@type": "ImageObject", "@id": frame_id(f), "contentUrl": f.url });
        let text = [("caption", &f.caption), ("creditText", &f.credit), ("description", &f.alt)];
        for (key, value) in text {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                image[key] = json!(v);
            }
        }
        if let Some(w) = f.width {
            image["width"] = json!(w);
        }
        if let Some(h) = f.height {
            image["height"] = json!(h);
        }
        graph.push(image);
    }
    json!({ "@context": "https://schema.org", "@graph": graph })
}
