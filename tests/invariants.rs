//! The contract's invariants 1-5, checked on every public path.

mod common;

use base64::Engine;
use common::{ORIGINAL_SLUG, SEED, TestApp, error_code, page};
use entity::{ReleaseStatus, Stage, asset, proof_record};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

fn global_id(type_name: &str, key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}"))
}

fn body_text(v: &Value) -> String {
    v.to_string()
}

/// Invariant 1: a draft proof record (created by the import) is unreachable on every public path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_never_public() {
    let app = TestApp::new().await;
    app.import("original.txt", SEED, true);
    app.import("draft.txt", &page("Secret Draft Page", "unreleased work"), false);

    let draft_record = proof_record::Entity::find()
        .filter(proof_record::Column::Slug.eq(ORIGINAL_SLUG))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the import created the paired record");
    assert_eq!(draft_record.stage, Stage::Draft);
    let draft_article = entity::article::Entity::find()
        .filter(entity::article::Column::Slug.eq("secret-draft-page"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    let data = app
        .data(
            r#"query($pr: ID!, $a: ID!) {
              byRecordSlug: proofRecord(slug: "behind-the-scenes-production-as-brand-proof") { id }
              byArticleSlug: article(slug: "secret-draft-page") { id }
              recordNode: node(id: $pr) { id }
              articleNode: node(id: $a) { id }
              proofRecords { totalCount edges { node { slug } } }
              articles(first: 100) { totalCount edges { node { slug proofRecord { id } } } }
              article(slug: "behind-the-scenes-production-as-brand-proof") { proofRecord { id } }
              questions(first: 100) { totalCount edges { node { article { slug } } } }
              collection(slug: "proof") { articles { totalCount } }
              reuseChannel(slug: "case-studies") { proofRecords { totalCount } assets { totalCount } snippets { totalCount } }
              secret: search(query: "secret draft") { __typename }
              unreleased: search(query: "unreleased") { __typename }
            }"#,
            json!({
                "pr": global_id("ProofRecord", &draft_record.document_id),
                "a": global_id("Article", &draft_article.document_id),
            }),
        )
        .await;
    assert_eq!(data["byRecordSlug"], Value::Null);
    assert_eq!(data["byArticleSlug"], Value::Null);
    assert_eq!(data["recordNode"], Value::Null);
    assert_eq!(data["articleNode"], Value::Null);
    assert_eq!(data["proofRecords"]["totalCount"], 0);
    assert_eq!(data["articles"]["totalCount"], 1);
    assert_eq!(data["article"]["proofRecord"], Value::Null);
    assert_eq!(data["questions"]["totalCount"], 3, "only the published page's questions");
    assert_eq!(data["collection"]["articles"]["totalCount"], 1);
    assert_eq!(data["reuseChannel"]["proofRecords"]["totalCount"], 0);
    assert_eq!(data["secret"], json!([]));
    assert_eq!(data["unreleased"], json!([]));
    assert!(!body_text(&data).contains("secret-draft-page"));
}

/// Invariant 2: PENDING and DENIED frames never reach the public, by any path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_denied_assets_are_never_public() {
    let app = TestApp::with_demo().await;
    let hidden = asset::Entity::find()
        .filter(asset::Column::Release.is_in([ReleaseStatus::Pending, ReleaseStatus::Denied]))
        .all(&app.db)
        .await
        .unwrap();
    assert!(hidden.len() >= 2, "the demo set has pending and denied frames");
    let data = app
        .data(
            r#"{
              article(slug: "behind-the-scenes-production-as-brand-proof") { proofRecord { assets { url release } } }
              proofRecords { edges { node { assets { url release } } } }
              reuseChannels { slug assets(first: 100) { totalCount edges { node { url release } } } }
            }"#,
            json!({}),
        )
        .await;
    let text = body_text(&data);
    for asset in &hidden {
        assert!(!text.contains(&asset.url), "{} leaked", asset.url);
        let node = app
            .data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": global_id("Asset", &asset.document_id) }))
            .await;
        assert_eq!(node["node"], Value::Null);
    }
    assert!(!text.contains("PENDING") && !text.contains("DENIED"));
    let social = data["reuseChannels"].as_array().unwrap().iter().find(|c| c["slug"] == "social-posts").unwrap();
    assert_eq!(social["assets"]["totalCount"], 4);
}

/// Invariant 3: every snippet offered for a channel fits its maxChars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippets_fit_their_channel() {
    let app = TestApp::with_demo().await;
    let data = app
        .data(
            "{ reuseChannels { slug maxChars snippets(first: 100) { edges { node { body charCount } } } } }",
            json!({}),
        )
        .await;
    let mut checked = 0;
    for channel in data["reuseChannels"].as_array().unwrap() {
        for edge in channel["snippets"]["edges"].as_array().unwrap() {
            let count = edge["node"]["charCount"].as_i64().unwrap();
            assert_eq!(count as usize, edge["node"]["body"].as_str().unwrap().chars().count());
            if let Some(max) = channel["maxChars"].as_i64() {
                assert!(count <= max, "{} snippet of {count} chars over {max}", channel["slug"]);
            }
            checked += 1;
        }
    }
    assert!(checked >= 6);

    // The store refuses a snippet longer than its channel takes.
    let record = proof_record::Entity::find().one(&app.db).await.unwrap().unwrap();
    let err = backlot::service::snippet::create_draft(
        &app.db,
        backlot::service::snippet::SnippetDraft {
            proof_record_document_id: record.document_id,
            article_document_id: None,
            channel: "social-posts".into(),
            body: "é".repeat(281),
            ..Default::default()
        },
    )
    .await
    .expect_err("281 characters do not fit social-posts");
    assert!(err.to_string().contains("281 characters"), "{err}");
}

// Ordered by title so both pages start with the original page and carry the same kinds of relations.
const INDEX_QUERY: &str = r#"query($first: Int) { articles(first: $first, orderBy: { field: TITLE, direction: ASC }) { totalCount edges { node {
    title sections { heading body } questions { question answer } collection { name }
    relatedArticles { slug }
    proofRecord { client observations { kind title } assets { url release } channels { slug } snippets { body } }
} } } }"#;

/// Invariant 4: the SQL statements of a list query do not grow with the page size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_queries_run_a_fixed_number_of_statements() {
    let app = TestApp::with_demo().await;
    for i in 0..30 {
        app.import(&format!("bulk/{i}.txt"), &page(&format!("Bulk Page {i}"), "bulk"), true);
    }
    let (small, small_count) = app.count_statements(app.graphql(INDEX_QUERY, json!({ "first": 2 }))).await;
    let (large, large_count) = app.count_statements(app.graphql(INDEX_QUERY, json!({ "first": 100 }))).await;
    assert!(small.get("errors").is_none() && large.get("errors").is_none(), "{large:#}");
    assert_eq!(large["data"]["articles"]["edges"].as_array().unwrap().len(), 44);
    assert_eq!(small_count, large_count, "statements must not grow with the page size");
    assert!(large_count <= 12, "articles(first: 100) with relations ran {large_count} statements");

    let (_, page_statements) = app
        .count_statements(app.graphql(
            r#"{ article(slug: "behind-the-scenes-production-as-brand-proof") { sections { body } questions { answer }
                 proofRecord { observations { title } assets { url } } } }"#,
            json!({}),
        ))
        .await;
    assert!(page_statements <= 6, "the article page ran {page_statements} statements");
}

/// Invariant 5: errors carry a stable code and never SQL text, panics or stack traces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_coded_and_never_leak_internals() {
    let app = TestApp::with_demo().await;
    let nasty = [
        r#"{ articles(first: 1000) { totalCount } }"#,
        r#"{ articles(after: "eyJrIjoxLCJpIjoiJzsgRFJPUCBUQUJMRSBhcnRpY2xlczsgLS0ifQ") { totalCount } }"#,
        r#"{ search(query: "'; DROP TABLE articles; --") { __typename } }"#,
        r#"{ search(query: "a\" OR 1=1 --") { __typename } }"#,
        r#"{ node(id: "QXJ0aWNsZTonOyBEUk9QIFRBQkxFIGFydGljbGVzOyAtLQ") { id } }"#,
        r#"{ articles(filter: { text: "NEAR(\"a\" \"b\")" }) { totalCount } }"#,
        r#"{ articles(filter: { publishedAfter: "yesterday" }) { totalCount } }"#,
    ];
    for query in nasty {
        let body = app.graphql(query, json!({})).await;
        let text = body_text(&body);
        for leak in ["SELECT", "sqlx", "sqlite", "postgres", "panicked", "stack backtrace", "DbErr"] {
            assert!(!text.contains(leak), "{query} leaked {leak}: {text}");
        }
        if body.get("errors").is_some() {
            let code = error_code(&body);
            assert!(
                ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"].contains(&code.as_str()),
                "{query} gave code {code}: {text}"
            );
        }
    }
    let data = app.data("{ articles { totalCount } }", json!({})).await;
    assert_eq!(data["articles"]["totalCount"], 14, "nothing was dropped");
}

/// A list page reads its rows in index order: sorting every row of a stage on each uncached page made
/// the index cost grow with the size of the site (SQLite's plan says `USE TEMP B-TREE FOR ORDER BY`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_read_rows_in_index_order_instead_of_sorting_the_table() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::with_demo().await;
    if app.backend != "sqlite" {
        return; // PostgreSQL's planner picks by table statistics; a test table is too small to tell.
    }
    let queries = [
        "{ articles(first: 5) { edges { node { slug } } } }",
        "{ articles(first: 5, orderBy: { field: TITLE, direction: ASC }) { edges { node { slug } } } }",
        "{ proofRecords(first: 5) { edges { node { slug } } } }",
    ];
    for query in queries {
        app.recorded.lock().unwrap().clear();
        app.data(query, json!({})).await;
        let pages: Vec<Statement> = app
            .recorded
            .lock()
            .unwrap()
            .iter()
            .filter(|s| {
                (s.sql.contains("FROM \"articles\"") || s.sql.contains("FROM \"proof_records\""))
                    && s.sql.contains(" ORDER BY ")
                    && s.sql.contains(" LIMIT ")
            })
            .cloned()
            .collect();
        assert!(!pages.is_empty(), "{query}: no list statement recorded");
        for page in pages {
            let explain = Statement { sql: format!("EXPLAIN QUERY PLAN {}", page.sql), ..page.clone() };
            let rows = app.db.query_all_raw(explain).await.unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect();
            assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{query}: {plan:?}\n{}", page.sql);
        }
    }
}

/// A channel's pages (the marketing pull) check each candidate row's visibility, release scope and credit
/// by index and stop after the page: `IN (subquery)` filters made SQLite collect every published proof
/// record (`LIST SUBQUERY`) and sort every matching frame (`TEMP B-TREE`) on each uncached read, so the pull
/// took 50-120 ms at 10,000 articles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_pages_look_up_visibility_per_row_instead_of_collecting_every_visible_key() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::with_demo().await;
    if app.backend != "sqlite" {
        return; // PostgreSQL's planner picks by table statistics; a test table is too small to tell.
    }
    let query = r#"{ reuseChannel(slug: "social-posts") { snippets(first: 5) { edges { node { body } } }
        assets(first: 5) { edges { node { url } } } } }"#;
    app.recorded.lock().unwrap().clear();
    let data = app.data(query, json!({})).await;
    assert!(data["reuseChannel"]["snippets"]["edges"].is_array(), "{data}");
    let pages: Vec<Statement> = app
        .recorded
        .lock()
        .unwrap()
        .iter()
        .filter(|s| {
            (s.sql.contains("FROM \"assets\"") || s.sql.contains("FROM \"proof_snippets\""))
                && s.sql.contains(" LIMIT ")
        })
        .cloned()
        .collect();
    assert_eq!(pages.len(), 2, "one page statement each for snippets and frames");
    for page in pages {
        let explain = Statement { sql: format!("EXPLAIN QUERY PLAN {}", page.sql), ..page.clone() };
        let rows = app.db.query_all_raw(explain).await.unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect();
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE") || step.contains("LIST SUBQUERY")),
            "{plan:?}\n{}",
            page.sql
        );
    }
}

/// Invariant 2 at read time: withdrawing a frame's release on the draft (CLEARED to DENIED or PENDING) takes
/// it off every public path at once, cached pages included, with no publish; loosening it waits for one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_release_leaves_the_public_pages_without_a_publish() {
    let app = TestApp::with_demo().await;
    let page = format!(r#"{{ article(slug: "{ORIGINAL_SLUG}") {{ proofRecord {{ assets {{ url release }} }} }} }}"#);
    let public_urls = |data: &Value| -> Vec<String> {
        data["article"]["proofRecord"]["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["url"].as_str().unwrap().to_string())
            .collect()
    };
    let before = app.data(&page, json!({})).await;
    let cleared = before["article"]["proofRecord"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["release"] == "CLEARED")
        .expect("a cleared frame on the demo page")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let publisher = app.token("rights-publisher", backlot::service::token::Role::Publisher).await;
    let draft_query = format!(
        r#"{{ article(slug: "{ORIGINAL_SLUG}") {{ proofRecord {{ id version
        assets {{ url kind alt caption credit width height shows release capturedAt }} }} }} }}"#
    );
    let set_release = |release: &'static str| {
        let app = &app;
        let publisher = publisher.clone();
        let draft_query = draft_query.clone();
        let cleared = cleared.clone();
        async move {
            let draft = app.data_as(&publisher, &draft_query, json!({})).await;
            let record = &draft["article"]["proofRecord"];
            let mut assets = record["assets"].as_array().unwrap().clone();
            for asset in &mut assets {
                if asset["url"] == cleared.as_str() {
                    asset["release"] = json!(release);
                }
            }
            let mutation = "mutation($id: ID!, $v: Int!, $assets: [AssetInput!]!) {
                updateProofRecord(id: $id, expectedVersion: $v, input: { assets: $assets }) { id version } }";
            let variables = json!({ "id": record["id"], "v": record["version"], "assets": assets });
            app.data_as(&publisher, mutation, variables).await["updateProofRecord"].clone()
        }
    };

    for withdrawn in ["DENIED", "PENDING"] {
        set_release(withdrawn).await;
        let after = app.data(&page, json!({})).await;
        assert!(!public_urls(&after).contains(&cleared), "{withdrawn}: the frame is still public: {after}");
        let channel = app
            .data(
                "{ reuseChannel(slug: \"proof-pages\") { assets(first: 100) { edges { node { url } } } } }",
                json!({}),
            )
            .await;
        assert!(!channel.to_string().contains(&cleared), "{withdrawn}: still offered for reuse: {channel}");
        set_release("CLEARED").await;
        let loosened = app.data(&page, json!({})).await;
        assert!(!public_urls(&loosened).contains(&cleared), "loosening waits for the publish: {loosened}");
        let record = set_release("CLEARED").await;
        app.data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { publishProofRecord(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": record["id"], "v": record["version"] }),
        )
        .await;
        let republished = app.data(&page, json!({})).await;
        assert!(public_urls(&republished).contains(&cleared), "published again: {republished}");
    }
}
