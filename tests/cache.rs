//! The public response cache: hits, ETag/304, invalidation by writes in this process and in another
//! `backlot serve` process on the same database, and never for token holders.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::service::token::Role;
use common::{Served, TestApp, post_to, serve, serve_with};
use serde_json::json;

const THESIS: &str = r#"{"query":"{ article(slug: \"website-direction\") { thesis } }"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_answers_are_cached_with_etags_and_writes_invalidate_them() {
    let app = TestApp::with_demo().await;
    let first = app.post_json(serde_json::from_str(THESIS).unwrap()).await;
    assert!(first.headers.get("etag").is_some(), "an ETag");
    // Writes anywhere in this process (other tests run in parallel here) invalidate every entry, so
    // allow a few tries for an undisturbed hit.
    let mut hit = false;
    for _ in 0..20 {
        let (again, statements) = app.count_statements(app.post_json(serde_json::from_str(THESIS).unwrap())).await;
        assert_eq!(again.body, first.body);
        if statements == 0 {
            hit = true;
            break;
        }
    }
    assert!(hit, "a cached answer runs no SQL");
    let etag = app.post_json(serde_json::from_str(THESIS).unwrap()).await.headers["etag"].to_str().unwrap().to_string();

    let not_modified = app
        .request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("if-none-match", &etag)
                .body(Body::from(THESIS))
                .unwrap(),
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);

    // A token holder's draft edit changes nothing public; publishing it does, at once.
    let publisher = app.token("publisher", Role::Publisher).await;
    let draft = app.data_as(&publisher, "{ article(slug: \"website-direction\") { id version } }", json!({})).await;
    let updated = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"Fresh thesis.\" }) { version } }",
            json!({ "id": draft["article"]["id"], "v": draft["article"]["version"] }),
        )
        .await;
    let preview = app.post_as(&publisher, "{ article(slug: \"website-direction\") { thesis } }", json!({})).await;
    assert_eq!(preview.json()["data"]["article"]["thesis"], "Fresh thesis.");
    assert!(preview.headers.get("etag").is_none(), "token answers are never cached");
    let public = app.post_json(serde_json::from_str(THESIS).unwrap()).await;
    assert_ne!(public.json()["data"]["article"]["thesis"], "Fresh thesis.", "the draft must not reach the public");

    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
        json!({ "id": draft["article"]["id"], "v": updated["updateArticle"]["version"] }),
    )
    .await;
    let public = app.post_json(serde_json::from_str(THESIS).unwrap()).await;
    assert_eq!(public.json()["data"]["article"]["thesis"], "Fresh thesis.");
    assert_ne!(public.headers.get("etag").unwrap().to_str().unwrap(), etag);
}

/// Publishes a new thesis through `writer`, then waits for `reader` to serve it; how long that took after
/// the publish was acknowledged, failing past `bound`.
fn publish_and_wait(writer: &Served, reader: &Served, token: &str, thesis: &str, bound: Duration) -> Duration {
    let draft =
        post_to(writer.1, Some(token), r#"{"query":"{ article(slug: \"website-direction\") { id version } }"}"#);
    let (id, version) = (&draft["data"]["article"]["id"], draft["data"]["article"]["version"].as_i64().unwrap());
    let update = json!({ "query": "mutation($id: ID!, $v: Int!, $t: String) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: $t }) { version } }", "variables": { "id": id, "v": version, "t": thesis } });
    let updated = post_to(writer.1, Some(token), &update.to_string());
    let publish = json!({ "query": "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }", "variables": { "id": id, "v": updated["data"]["updateArticle"]["version"] } });
    let published = post_to(writer.1, Some(token), &publish.to_string());
    assert!(published.get("errors").is_none(), "{published}");
    let acknowledged = Instant::now();
    loop {
        let now = post_to(reader.1, None, THESIS);
        if now["data"]["article"]["thesis"] == thesis {
            return acknowledged.elapsed();
        }
        assert!(acknowledged.elapsed() < bound, "the other process kept serving the stale page past {bound:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn publisher_token(app: &TestApp) -> String {
    let out = app.cli(&["token", "create", "--name", "pub", "--role", "publisher"]);
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_stops_serving_a_stale_page_within_a_second_of_a_write() {
    let app = TestApp::with_demo().await;
    let token = publisher_token(&app);
    let (writer, reader) = (serve(&app.url), serve(&app.url));
    let before = post_to(reader.1, None, THESIS);
    assert_eq!(post_to(reader.1, None, THESIS), before, "warm and cached");
    publish_and_wait(&writer, &reader, &token, "Changed elsewhere.", Duration::from_secs(1));
}

/// On PostgreSQL a write reaches the other processes by LISTEN/NOTIFY, not by the poll: with the poll
/// an hour apart, the other process still drops its stale page at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_another_process_hears_of_a_write_without_polling() {
    let app = TestApp::with_demo().await;
    if app.backend != "postgres" {
        return;
    }
    let token = publisher_token(&app);
    let writer = serve(&app.url);
    let reader = serve_with(&app.url, &["--cache-poll-ms", "3600000"]);
    // The first poll runs at start-up; give the listener its moment to subscribe too.
    std::thread::sleep(Duration::from_millis(300));
    let before = post_to(reader.1, None, THESIS);
    assert_eq!(post_to(reader.1, None, THESIS), before, "warm and cached");
    // The target is well under 100 ms; the bound leaves room for a loaded CI machine.
    let took = publish_and_wait(&writer, &reader, &token, "Heard by notification.", Duration::from_millis(500));
    eprintln!("another process served the new page {took:?} after the publish");
}

const OTHER_PAGE: &str = r#"{"query":"{ article(slug: \"behind-the-scenes-production-as-brand-proof\") { title thesis proofRecord { client assets { url release } } } }"}"#;
const INDEX: &str = r#"{"query":"{ articles(first: 10) { totalCount edges { node { slug thesis } } } }"}"#;
const SEARCH: &str = r#"{"query":"{ search(query: \"website\") { __typename ... on Article { slug } } }"}"#;
const CHANNEL: &str =
    r#"{"query":"{ reuseChannel(slug: \"social-posts\") { snippets(first: 5) { edges { node { body } } } } }"}"#;
const MISSING: &str = r#"{"query":"{ article(slug: \"arrives-later\") { title } }"}"#;

/// Whether `reader` (a `serve --bench` process, which counts each answer's SQL) answered `body` from its
/// cache: a hit runs no SQL, so it has no statement count.
fn is_hit(reader: &Served, body: &str) -> bool {
    !common::post_for_headers(reader.1, None, body).0.contains_key("x-backlot-sql-statements")
}

/// Waits up to a second for `reader` to answer `body` with something other than `before`.
fn changes_within_a_second(reader: &Served, body: &str, before: &serde_json::Value) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let now = post_to(reader.1, None, body);
        if &now != before {
            return now;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "still the old answer a second later: {body}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Dependency-tagged invalidation: a publish drops the cached answers that read the article (its page, the
/// lists and search it is in) and keeps the others, in another process too; a draft edit drops nothing; a
/// cached "not found" goes when the slug arrives; a write that cannot say what it changed drops everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_drops_only_the_cached_answers_that_could_show_what_it_changed() {
    let app = TestApp::with_demo().await;
    let publisher = app.token("tagged-publisher", Role::Publisher).await;
    let reader = serve_with(&app.url, &["--bench", "--cache-poll-ms", "20"]);
    let all = [THESIS, OTHER_PAGE, INDEX, SEARCH, CHANNEL, MISSING];
    // The first poll (which tells the process the generation it caches for) may still be under way.
    let started = Instant::now();
    for body in all {
        while !is_hit(&reader, body) {
            assert!(started.elapsed() < Duration::from_secs(2), "never cached: {body}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    eprintln!("warm after {:?}", started.elapsed());
    let (headers, other_page) = common::post_for_headers(reader.1, None, OTHER_PAGE);
    let keys = headers.get("surrogate-key").expect("a Surrogate-Key header");
    assert!(keys.split(' ').any(|k| k == "article:behind-the-scenes-production-as-brand-proof"), "{keys}");
    assert!(keys.split(' ').any(|k| k.starts_with("proof-record:")), "the paired record is read too: {keys}");
    assert_eq!(headers.get("cache-tag").map(|t| t.replace(',', " ")).as_ref(), Some(keys));

    // A draft edit changes nothing public: everything stays cached.
    let draft = app.data_as(&publisher, "{ article(slug: \"website-direction\") { id version } }", json!({})).await;
    let updated = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"Tagged thesis.\" }) { version } }",
            json!({ "id": draft["article"]["id"], "v": draft["article"]["version"] }),
        )
        .await;
    std::thread::sleep(Duration::from_millis(200));
    for body in all {
        assert!(is_hit(&reader, body), "a draft edit dropped a cached answer: {body}");
    }

    // Publishing it drops its page, the index and search, and nothing else.
    let before = post_to(reader.1, None, THESIS);
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
        json!({ "id": draft["article"]["id"], "v": updated["updateArticle"]["version"] }),
    )
    .await;
    let after = changes_within_a_second(&reader, THESIS, &before);
    assert_eq!(after["data"]["article"]["thesis"], "Tagged thesis.");
    for kept in [OTHER_PAGE, CHANNEL, MISSING] {
        assert!(is_hit(&reader, kept), "a publish dropped an answer it cannot change: {kept}");
    }
    assert_eq!(post_to(reader.1, None, OTHER_PAGE), other_page);
    for dropped in [INDEX, SEARCH] {
        assert!(!is_hit(&reader, dropped), "a list that shows the article was kept: {dropped}");
    }

    // A cached "not found" goes when a document with that slug is published.
    let missing = post_to(reader.1, None, MISSING);
    assert_eq!(missing["data"]["article"], serde_json::Value::Null);
    let created = app
        .data_as(
            &publisher,
            r#"mutation { createArticle(input: { title: "Arrives Later" }) { id version } }"#,
            json!({}),
        )
        .await;
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
        json!({ "id": created["createArticle"]["id"], "v": created["createArticle"]["version"] }),
    )
    .await;
    let arrived = changes_within_a_second(&reader, MISSING, &missing);
    assert_eq!(arrived["data"]["article"]["title"], "Arrives Later");
    assert!(is_hit(&reader, OTHER_PAGE));

    // A write that does not say what it changed (an admin's collection edit) drops everything.
    let admin = app.token("tagged-admin", Role::Admin).await;
    app.data_as(&admin, r#"mutation { createCollection(input: { name: "Tagged Shelf" }) { slug } }"#, json!({})).await;
    let started = Instant::now();
    while is_hit(&reader, OTHER_PAGE) {
        assert!(started.elapsed() < Duration::from_secs(1), "an untagged write left the cache as it was");
        std::thread::sleep(Duration::from_millis(10));
    }

    // A collection is public once it holds a published article: publishing one into it shows the cached
    // "not found" collection, and still keeps the other pages.
    const SHELF: &str = r#"{"query":"{ collection(slug: \"tagged-shelf\") { name } }"}"#;
    let shelf = post_to(reader.1, None, SHELF);
    assert_eq!(shelf["data"]["collection"], serde_json::Value::Null, "{shelf}");
    post_to(reader.1, None, OTHER_PAGE);
    assert!(is_hit(&reader, SHELF) && is_hit(&reader, OTHER_PAGE));
    let shelved = app
        .data_as(
            &publisher,
            r#"mutation { createArticle(input: { title: "On The Shelf", collection: "tagged-shelf" }) { id version } }"#,
            json!({}),
        )
        .await;
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
        json!({ "id": shelved["createArticle"]["id"], "v": shelved["createArticle"]["version"] }),
    )
    .await;
    let shown = changes_within_a_second(&reader, SHELF, &shelf);
    assert_eq!(shown["data"]["collection"]["name"], "Tagged Shelf");
    assert!(is_hit(&reader, OTHER_PAGE));
}

/// A write whose unit of work does not declare what it changed drops everything, even when one of its steps
/// noted something (here a proof-record file import whose new text makes a quoting snippet stale).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_record_import_that_drifts_a_snippet_drops_the_pages_that_show_the_record() {
    let app = TestApp::with_demo().await;
    let reader = serve_with(&app.url, &["--bench", "--cache-poll-ms", "20"]);
    const RECORD: &str =
        r#"{"query":"{ article(slug: \"behind-the-scenes-production-as-brand-proof\") { proofRecord { client } } }"}"#;
    let started = Instant::now();
    while !is_hit(&reader, RECORD) {
        assert!(started.elapsed() < Duration::from_secs(2), "never cached");
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = post_to(reader.1, None, RECORD);
    let file = std::fs::read_to_string("demo/behind-the-scenes-production-as-brand-proof.proof.txt").unwrap();
    let changed = file
        .replace("client: Northwind Coffee Roasters (demo)", "client: Northwind Renamed (demo)")
        .replace("The head roaster explained each step", "The head roaster narrated each step");
    let path = app.write_page("renamed.proof.txt", &changed);
    let out = app.cli(&["import", &path, "--publish"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = changes_within_a_second(&reader, RECORD, &before);
    assert_eq!(after["data"]["article"]["proofRecord"]["client"], "Northwind Renamed (demo)");
}
