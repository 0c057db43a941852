//! Draft, scheduled and archived content linked from published content never reaches the public,
//! by any path: slug, node, nested relations both ways, connections and counts, search, questions,
//! snippets, reuse channels, filters and ordering.

mod common;

use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp};
use serde_json::{Value, json};

async fn create_article(app: &TestApp, token: &str, title: &str, secret: &str) -> (Value, i64) {
    let body = app
        .data_as(
            token,
            r#"mutation($t: String!, $s: String!) { createArticle(input: {
                title: $t, thesis: $s, collection: "proof",
                questions: [{ question: "Is this secret?", answer: $s }],
                relatedTitles: ["Behind-the-Scenes Production as Brand Proof"]
            }) { id version } }"#,
            json!({ "t": title, "s": secret }),
        )
        .await;
    (body["createArticle"]["id"].clone(), body["createArticle"]["version"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_unpublished_is_reachable_publicly() {
    let app = TestApp::with_demo().await;
    let admin = app.token("admin", Role::Admin).await;

    // A draft, a scheduled and an archived article, each linked from and to the published original.
    let (draft_id, _) = create_article(&app, &admin, "Draft Zebrafish", "zebrafish plans").await;
    let (scheduled_id, v) = create_article(&app, &admin, "Scheduled Quokka", "quokka launch").await;
    app.data_as(
        &admin,
        "mutation($id: ID!, $v: Int!) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: \"2100-01-01T00:00:00Z\") { id } }",
        json!({ "id": scheduled_id, "v": v }),
    )
    .await;
    let (archived_id, v) = create_article(&app, &admin, "Archived Narwhal", "narwhal history").await;
    let p = app
        .data_as(
            &admin,
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": archived_id, "v": v }),
        )
        .await;
    let v = p["publishArticle"]["version"].as_i64().unwrap();
    app.data_as(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveArticle(id: $id, expectedVersion: $v) { status } }",
        json!({ "id": archived_id, "v": v }),
    )
    .await;

    // The published original now links to all three, and has an unpublished edit of its own.
    let original = app
        .data_as(&admin, "{ article(slug: \"behind-the-scenes-production-as-brand-proof\") { id version } }", json!({}))
        .await;
    app.data_as(
        &admin,
        r#"mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: {
            title: "AAA Axolotl Retitle", thesis: "axolotl rewrite",
            relatedTitles: ["Draft Zebrafish", "Scheduled Quokka", "Archived Narwhal", "Website Direction"]
        }) { version } }"#,
        json!({ "id": original["article"]["id"], "v": original["article"]["version"] }),
    )
    .await;

    // A draft proof record paired to the draft article, with a snippet published ahead of it.
    let record = app
        .data_as(&admin, r#"mutation { createProofRecord(input: { title: "Pelican Record", client: "pelican corp",
            channels: ["social-posts"], assets: [{ url: "https://x.invalid/pelican.jpg", release: CLEARED }] }) { id } }"#, json!({}))
        .await;
    let snippet = app
        .data_as(&admin, r#"mutation { createSnippet(input: { proofRecord: "pelican-record", channel: "social-posts", body: "pelican claim" }) { id version } }"#, json!({}))
        .await;
    app.data_as(
        &admin,
        "mutation($id: ID!, $v: Int!) { publishSnippet(id: $id, expectedVersion: $v) { status } }",
        json!({ "id": snippet["createSnippet"]["id"], "v": snippet["createSnippet"]["version"] }),
    )
    .await;
    // And a draft snippet on a published record.
    app.data_as(&admin, r#"mutation { createSnippet(input: { proofRecord: "behind-the-scenes-production-as-brand-proof", channel: "social-posts", body: "walrus draft claim" }) { id } }"#, json!({})).await;

    let ids = json!({
        "d": draft_id, "s": scheduled_id, "a": archived_id,
        "r": record["createProofRecord"]["id"], "n": snippet["createSnippet"]["id"],
    });
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
