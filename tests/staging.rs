//! Content is staged: slugs stay unique per stage with a clear CONFLICT, scheduled publishing survives a
//! failing document, and collections are staged like the articles in them.

mod common;

use backlot::service::token::Role;
use common::{TestApp, error_code, page};
use serde_json::{Value, json};

async fn create(app: &TestApp, token: &str, title: &str, slug: &str) -> (String, i64) {
    let data = app
        .data_as(
            token,
            "mutation($t: String!, $s: String!) { createArticle(input: { title: $t, slug: $s, thesis: \"T.\" }) { id version } }",
            json!({ "t": title, "s": slug }),
        )
        .await;
    (data["createArticle"]["id"].as_str().unwrap().to_string(), data["createArticle"]["version"].as_i64().unwrap())
}

async fn publish(app: &TestApp, token: &str, id: &str, version: i64) -> Value {
    app.graphql_as(
        token,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { slug version } }",
        json!({ "id": id, "v": version }),
    )
    .await
}

async fn rename(app: &TestApp, token: &str, id: &str, version: i64, slug: &str) -> i64 {
    let data = app
        .data_as(
            token,
            "mutation($id: ID!, $v: Int!, $s: String!) { updateArticle(id: $id, expectedVersion: $v, input: { slug: $s }) { version } }",
            json!({ "id": id, "v": version, "s": slug }),
        )
        .await;
    data["updateArticle"]["version"].as_i64().unwrap()
}

/// A published "taken", whose draft has been renamed away, and a new draft "B" that took the old slug.
async fn renamed_and_retaken(app: &TestApp, token: &str) -> (String, i64) {
    let (a, v) = create(app, token, "A", "taken").await;
    let body = publish(app, token, &a, v).await;
    let v = body["data"]["publishArticle"]["version"].as_i64().unwrap();
    rename(app, token, &a, v, "renamed").await;
    create(app, token, "B", "taken").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_onto_a_slug_another_article_has_published_is_a_conflict() {
    let app = TestApp::new().await;
    let publisher = app.token("pub", Role::Publisher).await;
    let (b, v) = renamed_and_retaken(&app, &publisher).await;
    let body = publish(&app, &publisher, &b, v).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("\"taken\"") && message.contains("\"A\""), "{message}");
    // Nothing changed: the public still sees A under its published slug.
    let data = app.data("{ article(slug: \"taken\") { title } articles { totalCount } }", json!({})).await;
    assert_eq!(data, json!({ "article": { "title": "A" }, "articles": { "totalCount": 1 } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_scheduled_publish_does_not_stop_the_others() {
    let app = TestApp::new().await;
    let publisher = app.token("pub", Role::Publisher).await;
    let (b, bv) = renamed_and_retaken(&app, &publisher).await;
    let (c, cv) = create(&app, &publisher, "C", "c").await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339();
    for (id, v) in [(&b, bv), (&c, cv)] {
        app.data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!, $at: DateTime) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: $at) { version } }",
            json!({ "id": id, "v": v, "at": at }),
        )
        .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let published = backlot::service::scheduler::run_due(&app.db).await.expect("the scheduler run completes");
    assert_eq!(published, 1, "B fails (its slug is taken), C after it is still published");
    let data =
        app.data("{ c: article(slug: \"c\") { title } taken: article(slug: \"taken\") { title } }", json!({})).await;
    assert_eq!(data, json!({ "c": { "title": "C" }, "taken": { "title": "A" } }));
    // B stays scheduled, for an editor to sort out.
    let data = app
        .data_as(
            &publisher,
            "query($id: ID!) { node(id: $id) { ... on Article { status publishAt } } }",
            json!({ "id": b }),
        )
        .await;
    assert_eq!(data["node"]["status"], "DRAFT");
    assert!(data["node"]["publishAt"].is_string(), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_from_a_draft_import_is_private_until_something_in_it_is_published() {
    let app = TestApp::new().await;
    let preview = app.token("preview", Role::Preview).await;
    let text = page("Shelf Page", "shelves").replace("browse Proof", "browse Secret Shelf");
    app.import("shelf.txt", &text, false);

    let id =
        app.data_as(&preview, "{ collection(slug: \"secret-shelf\") { id } }", json!({})).await["collection"]["id"]
            .clone();
    assert!(id.is_string(), "an editor sees the new collection");
    let public =
        "query($id: ID!) { collections { slug } collection(slug: \"secret-shelf\") { name } node(id: $id) { id }
                  articles { nodes { collection { slug } } } }";
    let data = app.data(public, json!({ "id": id })).await;
    assert_eq!(data, json!({ "collections": [], "collection": null, "node": null, "articles": { "nodes": [] } }));

    app.import("shelf.txt", &text, true);
    let data = app.data(public, json!({ "id": id })).await;
    assert_eq!(data["collections"], json!([{ "slug": "secret-shelf" }]));
    assert_eq!(data["collection"]["name"], "Secret Shelf");
    assert_eq!(data["node"]["id"], id);
    assert_eq!(data["articles"]["nodes"][0]["collection"]["slug"], "secret-shelf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_onto_a_slug_another_article_has_published_fails_that_file_with_a_conflict() {
    let app = TestApp::new().await;
    let publisher = app.token("pub", Role::Publisher).await;
    let text = page("Shared Slug", "slugs");
    app.import("first.txt", &text, true);
    let a = app.data_as(&publisher, "{ article(slug: \"shared-slug\") { id version } }", json!({})).await["article"]
        .clone();
    rename(&app, &publisher, a["id"].as_str().unwrap(), a["version"].as_i64().unwrap(), "renamed").await;

    let path = app.write_page("again.txt", &text);
    let other = app.write_page("other.txt", &page("Other Page", "others"));
    let out = app.cli(&["import", &path, &other, "--publish"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("again.txt") && stderr.contains("another published article"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("unique"), "{stderr}");
    let data = app
        .data("{ a: article(slug: \"shared-slug\") { title } o: article(slug: \"other-page\") { title } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "a": { "title": "Shared Slug" }, "o": { "title": "Other Page" } }),
        "the other file still imports"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_records_keep_slugs_unique_across_stages_too() {
    let app = TestApp::new().await;
    let token = app.token("pub", Role::Publisher).await;
    let create = "mutation($t: String!) { createProofRecord(input: { title: $t, slug: \"rec\" }) { id version } }";
    let publish = "mutation($id: ID!, $v: Int!) { publishProofRecord(id: $id, expectedVersion: $v) { version } }";
    let a = app.data_as(&token, create, json!({ "t": "Record A" })).await["createProofRecord"].clone();
    let v = app.data_as(&token, publish, json!({ "id": a["id"], "v": a["version"] })).await["publishProofRecord"]["version"]
        .clone();
    app.data_as(
        &token,
        "mutation($id: ID!, $v: Int!) { updateProofRecord(id: $id, expectedVersion: $v, input: { slug: \"rec-old\" }) { version } }",
        json!({ "id": a["id"], "v": v }),
    )
    .await;
    let b = app.data_as(&token, create, json!({ "t": "Record B" })).await["createProofRecord"].clone();
    let body = app.graphql_as(&token, publish, json!({ "id": b["id"], "v": b["version"] })).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("\"Record A\""), "{body}");
    let data = app.data("{ proofRecord(slug: \"rec\") { title } }", json!({})).await;
    assert_eq!(data["proofRecord"]["title"], "Record A");
}
