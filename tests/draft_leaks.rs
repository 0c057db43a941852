//! Draft, scheduled and archived content linked from published content never reaches the public,
//! by any path: slug, node, nested relations both ways, connections and counts, search, questions,
//! snippets, reuse channels, filters and ordering.

mod common;

use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_unpublished_is_reachable_publicly() {
    let app = TestApp::with_demo().await;
    let admin = app.token("admin", Role::Admin).await;

    let [draft_id, scheduled_id, archived_id, record_id, snippet_id] = common::unpublished_fixtures(&app, &admin).await;
    let ids = json!({ "d": draft_id, "s": scheduled_id, "a": archived_id, "r": record_id, "n": snippet_id });
    let public = app
        .data(
            r#"query($d: ID!, $s: ID!, $a: ID!, $r: ID!, $n: ID!) {
              d: article(slug: "draft-zebrafish") { id }
              s: article(slug: "scheduled-quokka") { id }
              a: article(slug: "archived-narwhal") { id }
              r: proofRecord(slug: "pelican-record") { id }
              nd: node(id: $d) { id } ns: node(id: $s) { id } na: node(id: $a) { id } nr: node(id: $r) { id } nn: node(id: $n) { id }
              original: article(slug: "behind-the-scenes-production-as-brand-proof") {
                title thesis relatedArticles { slug } relatedLinks { title article { slug } }
                proofRecord { snippets { body } articles { slug } }
              }
              articles(first: 100) { totalCount edges { node { slug title } } }
              byTitle: articles(first: 1, orderBy: { field: TITLE, direction: ASC }) { edges { node { title } } }
              textFilter: articles(filter: { text: "axolotl" }) { totalCount }
              collection(slug: "proof") { articles(first: 100) { totalCount } }
              questions(first: 100) { totalCount edges { node { question answer } } }
              proofRecords { totalCount }
              reuseChannel(slug: "social-posts") {
                proofRecords { totalCount } assets(first: 100) { totalCount edges { node { url } } }
                snippets(first: 100) { totalCount edges { node { body } } }
              }
              proofSnippets(channel: "social-posts", first: 100) { totalCount edges { node { body } } }
              s1: search(query: "zebrafish") { __typename } s2: search(query: "quokka") { __typename }
              s3: search(query: "narwhal") { __typename } s4: search(query: "axolotl") { __typename }
              s5: search(query: "pelican") { __typename } s6: search(query: "secret") { __typename }
            }"#,
            ids,
        )
        .await;
    for key in ["d", "s", "a", "r", "nd", "ns", "na", "nr", "nn"] {
        assert_eq!(public[key], Value::Null, "{key} leaked: {public:#}");
    }
    let original = &public["original"];
    assert_eq!(original["title"], "Behind-the-Scenes Production as Brand Proof", "the unpublished retitle leaked");
    assert_eq!(original["relatedArticles"], json!([{ "slug": "website-direction" }]));
    assert_eq!(original["proofRecord"]["articles"], json!([{ "slug": ORIGINAL_SLUG }]));
    assert_eq!(public["articles"]["totalCount"], 14);
    assert_eq!(public["byTitle"]["edges"][0]["node"]["title"], "Behind-the-Scenes Production as Brand Proof");
    assert_eq!(public["textFilter"]["totalCount"], 0);
    assert_eq!(public["collection"]["articles"]["totalCount"], 14);
    assert_eq!(public["proofRecords"]["totalCount"], 2);
    let social = &public["reuseChannel"];
    assert_eq!(social["proofRecords"]["totalCount"], 1);
    assert_eq!(social["assets"]["totalCount"], 4);
    assert_eq!(social["snippets"]["totalCount"], 2);
    assert_eq!(public["proofSnippets"]["totalCount"], 2);
    for key in ["s1", "s2", "s3", "s4", "s5", "s6"] {
        assert_eq!(public[key], json!([]), "{key} found unpublished text");
    }
    let text = public.to_string();
    for word in ["zebrafish", "quokka", "narwhal", "axolotl", "pelican", "walrus", "Zebrafish", "Quokka", "Narwhal"] {
        assert!(!text.contains(word), "{word} leaked: {text}");
    }

    // The same queries with a preview token do see the drafts.
    let preview = app.token("preview", Role::Preview).await;
    let seen = app
        .data_as(
            &preview,
            "{ article(slug: \"draft-zebrafish\") { status } proofSnippets(channel: \"social-posts\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(seen["article"]["status"], "DRAFT");
    assert_eq!(seen["proofSnippets"]["totalCount"], 5);
}
