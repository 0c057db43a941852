//! Automatic persisted queries (Apollo's `persistedQuery` extension) and the allow-list mode.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::http::persisted::{PersistedQueries, sha256_hex};
use backlot::service::token::Role;
use common::{TestApp, error_code};
use serde_json::{Value, json};

const QUERY: &str = "query Index { articles(first: 2) { nodes { slug title } } }";

fn extension(query: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } })
}

/// A GET URL carrying only the hash (and variables), as a CDN-friendly client sends it.
fn hashed_get_url(query: &str) -> String {
    let extensions = extension(query).to_string();
    let encoded: String = extensions
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("/graphql?extensions={encoded}")
}

async fn get(app: &TestApp, url: &str, accept: &str, etag: Option<&str>) -> common::HttpResponse {
    let mut request = Request::get(url).header("accept", accept);
    if let Some(tag) = etag {
        request = request.header("if-none-match", tag);
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_unknown_at_first_is_learned_once_and_then_served_by_get_from_the_cache() {
    let app = TestApp::with_demo().await;

    // The hash alone: not known yet. A request error, in the form Apollo clients look for.
    let miss = app.post_json(json!({ "extensions": extension(QUERY) })).await;
    assert_eq!(miss.status, StatusCode::BAD_REQUEST, "graphql-response+json request error: {}", miss.body);
    assert_eq!(error_code(&miss.json()), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(miss.json()["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(miss.json().get("data").is_none());
    let legacy = get(&app, &hashed_get_url(QUERY), "application/json", None).await;
    assert_eq!(legacy.status, StatusCode::OK, "legacy application/json answers 200: {}", legacy.body);
    assert_eq!(error_code(&legacy.json()), "PERSISTED_QUERY_NOT_FOUND");

    // The client sends the text with its hash once; the answer is the query's.
    let full = app.post_json(json!({ "query": QUERY, "extensions": extension(QUERY) })).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    let slugs = full.json()["data"]["articles"]["nodes"].clone();
    assert_eq!(slugs.as_array().map(Vec::len), Some(2), "{}", full.body);

    // From then on the hash alone runs it, over GET too, and the answer is cached (ETag, 304).
    let by_hash = get(&app, &hashed_get_url(QUERY), "application/json", None).await;
    assert_eq!(by_hash.status, StatusCode::OK, "{}", by_hash.body);
    assert_eq!(by_hash.json()["data"]["articles"]["nodes"], slugs);
    let etag = by_hash.headers.get("etag").and_then(|v| v.to_str().ok()).expect("a cacheable answer has an ETag");
    let again = get(&app, &hashed_get_url(QUERY), "application/json", Some(etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_that_does_not_match_its_text_is_refused_and_not_learned() {
    let app = TestApp::with_demo().await;
    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ collections { slug } }") } });
    let refused = app.post_json(json!({ "query": QUERY, "extensions": wrong })).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("extensions.persistedQuery.sha256Hash"), "names the parameter: {}", refused.body);
    let later = app.post_json(json!({ "extensions": wrong })).await;
    assert_eq!(error_code(&later.json()), "PERSISTED_QUERY_NOT_FOUND", "the wrong pairing was not stored");

    let old = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(QUERY) } });
    let refused = app.post_json(json!({ "query": QUERY, "extensions": old })).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("extensions.persistedQuery.version"), "{}", refused.body);

    // A mutation by hash over GET is still a mutation: 405, as with its text.
    let mutation = "mutation { revokeApiToken(name: \"nobody\") }";
    app.post_json(json!({ "query": mutation, "extensions": extension(mutation) })).await;
    let over_get = get(&app, &hashed_get_url(mutation), "application/json", None).await;
    assert_eq!(over_get.status, StatusCode::METHOD_NOT_ALLOWED, "{}", over_get.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_allow_list_anonymous_clients_run_only_listed_operations() {
    let mut app = TestApp::with_demo().await;
    let listed = HashMap::from([(sha256_hex(QUERY), Arc::from(QUERY))]);
    let config =
        backlot::app::AppConfig { persisted: Arc::new(PersistedQueries::new(listed, true)), ..Default::default() };
    app.router = backlot::app::build(app.db.clone(), &config).router;

    // Listed: by hash with no registration step, and by its text.
    let by_hash = get(&app, &hashed_get_url(QUERY), "application/json", None).await;
    assert_eq!(by_hash.json()["data"]["articles"]["nodes"].as_array().map(Vec::len), Some(2), "{}", by_hash.body);
    let by_text = app.post_json(json!({ "query": QUERY })).await;
    assert_eq!(by_text.status, StatusCode::OK, "{}", by_text.body);

    // Anything else, even with a correct hash to register it, is refused.
    let other = "{ collections { slug } }";
    for body in [json!({ "query": other }), json!({ "query": other, "extensions": extension(other) })] {
        let refused = app.post_json(body).await;
        assert_eq!(error_code(&refused.json()), "PERSISTED_QUERY_NOT_IN_LIST", "{}", refused.body);
    }

    // A token holder (an editor's tool, GraphiQL) may still ask anything.
    let editor = app.token("editor", Role::Editor).await;
    let free = app.data_as(&editor, other, json!({})).await;
    assert!(free["collections"].is_array(), "{free}");
}

#[test]
fn serve_refuses_an_allow_list_without_a_manifest_and_a_manifest_that_lies() {
    let dir = tempfile::tempdir().unwrap();
    let backlot = env!("CARGO_BIN_EXE_backlot");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("pq.db").display());
    let out = std::process::Command::new(backlot)
        .args(["serve", "--database-url", &db, "--listen", "127.0.0.1:0", "--persisted-queries-only"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--persisted-queries"));

    let manifest = dir.path().join("manifest.json");
    let lying = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": sha256_hex("{ other }"), "name": "Index", "type": "query", "body": QUERY }] });
    std::fs::write(&manifest, lying.to_string()).unwrap();
    let out = std::process::Command::new(backlot)
        .args(["serve", "--database-url", &db, "--listen", "127.0.0.1:0", "--persisted-queries"])
        .arg(&manifest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("operations[0].id is not the SHA-256 of its body"), "{stderr}");
}
