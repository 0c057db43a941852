//! Search ranks a bounded set of candidates: the most recently indexed matches of the reader's stage.

mod common;

use common::TestApp;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const SEARCH: &str = r#"query($q: String!, $first: Int) { search(query: $q, first: $first) {
    __typename ... on Article { slug } ... on ProofRecord { slug } ... on Question { question } } }"#;

/// More draft entries than a search ranks, all newer than every published one: the stage is chosen before
/// the candidates are cut, so drafts never crowd the published matches out of a public search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_drafts_do_not_crowd_published_matches_out_of_a_search() {
    let app = TestApp::new().await;
    let bulk = backlot::app::connect_for(&app.url, backlot::app::Workload::Bulk).await.unwrap();
    backlot::synthetic::generate(&bulk, 0, 30, 1, 0, |_| {}).await.expect("published pages");
    // Each draft page adds five draft entries (page, proof record, three questions), nearly all with "frame".
    let drafts = backlot::service::search::RANKED_CANDIDATES / 4 + 10;
    backlot::synthetic::generate(&bulk, 30, drafts, 2, 100, |_| {}).await.expect("draft pages");
    let newer_drafts = bulk
        .query_one_raw(Statement::from_string(
            bulk.get_database_backend(),
            "SELECT count(*) AS n FROM search_documents WHERE stage = 'draft' \
             AND id > (SELECT max(id) FROM search_documents WHERE stage = 'published')",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(newer_drafts as usize > backlot::service::search::RANKED_CANDIDATES, "{newer_drafts} newer draft entries");

    let hits = app.data(SEARCH, json!({ "q": "frame", "first": 20 })).await;
    let hits = hits["search"].as_array().unwrap();
    assert_eq!(hits.len(), 20, "{hits:?}");
    // Synthetic page n has the slug "...-no-n"; pages 0 to 29 are the published ones.
    for slug in hits.iter().filter_map(|h| h["slug"].as_str()) {
        let n: usize = slug.rsplit('-').next().and_then(|n| n.parse().ok()).expect("a synthetic slug");
        assert!(n < 30, "a draft page was found: {slug}");
    }
}

/// The candidates come from the full-text index in rowid order, so the statement's LIMIT stops the index
/// scan after them instead of ranking every match (a word in most documents matched 880,000 entries at
/// 100,000 articles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_stops_reading_the_index_after_its_candidates() {
    let app = TestApp::with_demo().await;
    if app.backend != "sqlite" {
        return; // PostgreSQL's plan depends on its statistics.
    }
    app.recorded.lock().unwrap().clear();
    app.data(SEARCH, json!({ "q": "proof" })).await;
    let statement = app
        .recorded
        .lock()
        .unwrap()
        .iter()
        .find(|s| s.sql.contains("search_fts"))
        .cloned()
        .expect("the search statement");
    let explain = Statement { sql: format!("EXPLAIN QUERY PLAN {}", statement.sql), ..statement };
    let rows = app.db.query_all_raw(explain).await.unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect();
    let scan = plan.iter().find(|step| step.contains("search_fts")).expect("an index step");
    // FTS5's plan number: 0x40 is "rows in rowid order" (so a LIMIT can stop the scan).
    let index: u32 = scan
        .split("INDEX ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no FTS5 plan number in {scan:?}"));
    assert!(index & 0x40 != 0, "the index is not read in rowid order: {plan:?}");
}
