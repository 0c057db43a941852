//! `backlot export` and `backlot import --bundle`, run as a user runs them: a lossless round trip from SQLite to
//! the other backend (PostgreSQL when `BACKLOT_TEST_POSTGRES_URL` is set), and every way a bundle is refused.

mod common;

use std::sync::Arc;

use backlot::service::bundle;
use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp, page};
use serde_json::{Value, json};

/// A source app on SQLite whatever the test backend, so the round trip always starts where users start.
async fn sqlite_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("source.db").display());
    let db = backlot::app::connect(&url).await.expect("connect");
    backlot::app::migrate_database(&url).await.expect("migrate");
    let settings = backlot::config::ApiSettings { cache_poll_ms: 20, ..Default::default() };
    let router =
        backlot::app::build(db.clone(), &backlot::app::AppConfig { api: settings, ..Default::default() }).router;
    TestApp { db, url, router, statements: Arc::default(), recorded: Arc::default(), dir, backend: "sqlite" }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exports `app`'s database to `name` in its directory; returns the bundle's text.
fn export(app: &TestApp, name: &str) -> String {
    let path = app.path(name);
    let out = app.cli(&["export", "--out", path.to_str().expect("UTF-8 path")]);
    assert!(out.status.success(), "export failed: {}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("exported "), "summary line: {}", stdout(&out));
    std::fs::read_to_string(path).expect("bundle written")
}

/// The bundle with the header's `exportedAt` taken out: what two exports of the same content share.
fn comparable(bundle: &str) -> String {
    let (header, rows) = bundle.split_once('\n').expect("a header line");
    let mut header: Value = serde_json::from_str(header).expect("header is JSON");
    header.as_object_mut().expect("header is an object").remove("exportedAt");
    format!("{header}\n{rows}")
}

fn rows_of(bundle: &str, table: &str) -> Vec<Value> {
    let prefix = format!("{{\"table\":\"{table}\",");
    bundle
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["row"].clone())
        .collect()
}

async fn id_and_version(app: &TestApp, token: &str, slug: &str) -> (Value, i64) {
    let a = app.data_as(token, "query($s: String!) { article(slug: $s) { id version } }", json!({ "s": slug })).await;
    (a["article"]["id"].clone(), a["article"]["version"].as_i64().expect("a version"))
}

const ARTICLE_PAGE: &str = r#"query($slug: String!) { article(slug: $slug) {
    id slug title thesis point status publishedAt createdAt updatedAt version
    audience { summary roles readerNeed }
    realProblem recordMatters smarterQuestion proves
    sections { heading paragraphs }
    questions { id question answer }
    collection { id slug name }
    relatedArticles { slug title }
    relatedLinks { title slug article { slug } }
    proofRecord {
        id slug client deliverable problemSolved capturedOn location status version
        observations { kind title detail }
        assets { id url alt caption width height release }
        channels { slug }
        snippets { id body charCount version }
    }
} }"#;

const INDEX: &str = r#"{ articles(first: 100) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id slug title publishedAt version collection { slug } questions { id question } } } } }"#;

const COLLECTION: &str = r#"{ collections { id slug name description version
    articles(first: 100) { totalCount nodes { slug } } } }"#;

const CHANNEL_PULL: &str = r#"{ reuseChannel(slug: "social-posts") {
    id name maxChars version
    snippets(first: 100) { totalCount edges { cursor node { id body charCount proofRecord { slug client } } } }
    assets(first: 100) { totalCount edges { node { id url caption credit release } } }
} reuseChannels { id slug name } }"#;

const SEARCH: &str = r#"query($q: String!) { search(query: $q, first: 50) {
    __typename ... on Article { id slug } ... on ProofRecord { id slug } ... on Question { id question }
} }"#;

const NODE: &str = r#"query($id: ID!) { node(id: $id) { id ... on Article { slug title version } } }"#;

const PREVIEW: &str = r#"query($slug: String!) { article(slug: $slug) {
    id status version publishAt publishedAt updatedAt thesis
    revisions { version author createdAt content }
} proofRecords(first: 100) { totalCount nodes { id slug status version assets { id release } } } }"#;

/// Search hits in a fixed order: the same hits, whichever backend's ranking ordered them.
fn unranked(mut answer: Value) -> Value {
    if let Some(hits) = answer["data"]["search"].as_array_mut() {
        hits.sort_by_key(|h| h["id"].to_string());
    }
    answer
}

/// Answers that must not change across the move, public and (with a preview token) editorial. Search order
/// is compared only on one backend: SQLite ranks with FTS5's bm25, PostgreSQL with ts_rank.
async fn answers(app: &TestApp, preview: &str, slugs: &[&str], node_id: &Value, ranked: bool) -> Vec<Value> {
    let search = |answer: Value| if ranked { answer } else { unranked(answer) };
    let mut out = vec![
        app.graphql(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await,
        app.graphql(INDEX, json!({})).await,
        app.graphql(COLLECTION, json!({})).await,
        app.graphql(CHANNEL_PULL, json!({})).await,
        search(app.graphql(SEARCH, json!({ "q": "production" })).await),
        search(app.graphql(SEARCH, json!({ "q": "proof record" })).await),
        app.graphql(NODE, json!({ "id": node_id })).await,
    ];
    for slug in slugs {
        out.push(app.graphql(ARTICLE_PAGE, json!({ "slug": slug })).await);
        out.push(app.graphql_as(preview, PREVIEW, json!({ "slug": slug })).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_moves_everything_from_sqlite_to_the_other_backend_losslessly() {
    // The source: the demo set, imported pages, edits with revisions, a scheduled publish, an archived page.
    let source = sqlite_app().await;
    backlot::demo::load(&source.db).await.expect("demo loads").expect("empty database");
    source.import("extra.txt", &page("Bundle Extra", "moving databases"), true);
    source.import("later.txt", &page("Bundle Later", "scheduled pages"), false);
    source.import("gone.txt", &page("Bundle Gone", "archived pages"), true);
    let admin = source.token("admin", Role::Admin).await;
    let (id, v) = id_and_version(&source, &admin, ORIGINAL_SLUG).await;
    source
        .data_as(
            &admin,
            "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"An unpublished edit.\" }) { version } }",
            json!({ "id": id, "v": v }),
        )
        .await;
    let (later, v) = id_and_version(&source, &admin, "bundle-later").await;
    source
        .data_as(
            &admin,
            "mutation($id: ID!, $v: Int!) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: \"2031-05-04T09:30:00.123456Z\") { version } }",
            json!({ "id": later, "v": v }),
        )
        .await;
    let (gone, v) = id_and_version(&source, &admin, "bundle-gone").await;
    source
        .data_as(
            &admin,
            "mutation($id: ID!, $v: Int!) { archiveArticle(id: $id, expectedVersion: $v) { status } }",
            json!({ "id": gone, "v": v }),
        )
        .await;

    let first = export(&source, "first.ndjson");
    assert!(first.starts_with("{\"format\":\"backlot-bundle\",\"version\":1,\"schema\":\"m2"), "{first:.200}");
    for table in bundle::TABLES {
        assert!(!rows_of(&first, table).is_empty(), "the source has {table} rows to carry");
    }
    assert!(rows_of(&first, "articles").iter().any(|r| r["publish_at"] == "2031-05-04T09:30:00.123456Z"));
    assert!(rows_of(&first, "articles").iter().any(|r| r["status"] == "ARCHIVED"));
    assert!(rows_of(&first, "revisions").len() > 1);
    assert!(!first.contains("blt_"), "no token secret in a bundle");
    let rows = first.lines().count() - 2;
    assert_eq!(first.lines().last(), Some(format!("{{\"end\":true,\"rows\":{rows}}}").as_str()));
    assert!(!common::exists(&source.path("first.ndjson.partial")), "the partial file was renamed");

    // The target: a fresh database on the test backend; its cache holds an answer from before the import.
    let target = TestApp::new().await;
    // Once the cache knows the database's generation it keeps answers; this one would go stale.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(target.data(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await["article"], Value::Null);
    let out = target.cli(&["import", "--bundle", source.path("first.ndjson").to_str().unwrap()]);
    assert!(out.status.success(), "import failed: {}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("imported "), "summary line: {}", stdout(&out));

    // Exported again (to stdout this time): the same bytes but for the export time.
    let again = target.cli(&["export"]);
    assert!(again.status.success(), "export failed: {}", stderr(&again));
    assert!(stderr(&again).contains("exported "), "summary on stderr: {}", stderr(&again));
    assert_eq!(
        comparable(&stdout(&again)),
        comparable(&first),
        "round trip through {} changed the bundle",
        target.backend
    );

    // The public API (and the editorial one) answers the same, and the cache saw the import.
    let preview_source = source.token("preview", Role::Preview).await;
    let preview_target = target.token("preview", Role::Preview).await;
    let slugs = ["bundle-extra", "bundle-later", "bundle-gone", "website-direction"];
    let ranked = target.backend == source.backend;
    let before = answers(&source, &preview_source, &slugs, &id, ranked).await;
    let after = answers(&target, &preview_target, &slugs, &id, ranked).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert!(b.get("errors").is_none(), "{b:#}");
        assert_eq!(a, b);
    }
    assert!(after[4]["data"]["search"].as_array().is_some_and(|hits| hits.len() > 3), "search finds the content");
    assert_ne!(after[0]["data"]["article"], Value::Null);

    // New rows get fresh ids after the restored ones (PostgreSQL's sequences were moved past them).
    let admin = target.token("admin", Role::Admin).await;
    target
        .data_as(
            &admin,
            r#"mutation { createArticle(input: { title: "After The Move", sections: [{ heading: "H", body: "B." }], questions: [{ question: "Why?", answer: "Because." }] }) { id } }"#,
            json!({}),
        )
        .await;
    target.data_as(&admin, r#"mutation { createCollection(input: { name: "Moved" }) { id } }"#, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_a_database_that_has_content() {
    let source = TestApp::with_demo().await;
    export(&source, "demo.ndjson");
    let bundle = source.path("demo.ndjson");
    let target = TestApp::new().await;
    target.import("one.txt", &page("Already Here", "content"), true);
    let out = target.cli(&["import", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("the database is not empty ("), "{}", stderr(&out));
    assert!(stderr(&out).contains("articles has 2 row(s)"), "{}", stderr(&out));
    let index = target.data("{ articles(first: 10) { totalCount } }", json!({})).await;
    assert_eq!(index["articles"]["totalCount"], 1, "nothing was added");
}

/// The lines of `bundle`, with `edit` applied to them.
fn edited(bundle: &str, edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut lines: Vec<String> = bundle.lines().map(str::to_string).collect();
    edit(&mut lines);
    lines.join("\n") + "\n"
}

fn index_of(lines: &[String], table: &str) -> usize {
    let prefix = format!("{{\"table\":\"{table}\",");
    lines.iter().rposition(|l| l.starts_with(&prefix)).expect("a row of that table")
}

fn set(line: &str, column: &str, value: Value) -> String {
    let mut parsed: Value = serde_json::from_str(line).unwrap();
    parsed["row"][column] = value;
    // Keep the table first, as exports write it.
    format!("{{\"table\":{},\"row\":{}}}", parsed["table"], parsed["row"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_bundle_is_refused_with_its_line_number_and_nothing_is_written() {
    let source = TestApp::with_demo().await;
    let good = export(&source, "good.ndjson");
    let target = TestApp::new().await;

    type Edit = Box<dyn FnOnce(&mut Vec<String>) -> usize>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "bad JSON",
            Box::new(|l| {
                let i = l.len() - 1;
                l[i] = "{\"table\":\"audit_log\",\"row\":{".into();
                i
            }),
            "not a bundle row",
        ),
        (
            "unknown table",
            Box::new(|l| {
                let i = l.len() - 1;
                l[i] = "{\"table\":\"widgets\",\"row\":{\"id\":1}}".into();
                i
            }),
            "unknown table \"widgets\"",
        ),
        (
            "wrong type",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "version", json!("two"));
                i
            }),
            "articles: version: expected a 32-bit integer",
        ),
        (
            "a NUL character",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "title", json!("A\u{0}B"));
                i
            }),
            "articles: title: contains a NUL character",
        ),
        (
            "a slug no API could write",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "slug", json!("a".repeat(5_000)));
                i
            }),
            "articles: slug: must be lower-case ASCII letters",
        ),
        (
            "a time past year 9999",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "created_at", json!("+10000-01-01T00:00:00Z"));
                i
            }),
            "articles: created_at:",
        ),
        (
            "a version below 1",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "version", json!(-5));
                i
            }),
            "articles: version: must be 1 or more",
        ),
        (
            "a published row that is not PUBLISHED",
            Box::new(|l| {
                let i = l
                    .iter()
                    .position(|x| x.contains("\"table\":\"articles\"") && x.contains("\"stage\":\"published\""))
                    .expect("a published article");
                l[i] = set(&l[i], "status", json!("DRAFT"));
                i
            }),
            "articles: status: a row of the published stage must be PUBLISHED",
        ),
        (
            "a revision whose content is not JSON",
            Box::new(|l| {
                let i = index_of(l, "revisions");
                l[i] = set(&l[i], "content", json!("{not json"));
                i
            }),
            "revisions: content: is not JSON",
        ),
        (
            "bad enum value",
            Box::new(|l| {
                let i = index_of(l, "assets");
                l[i] = set(&l[i], "release", json!("MAYBE"));
                i
            }),
            "assets: release: invalid value \"MAYBE\"",
        ),
        (
            "null in a required column",
            Box::new(|l| {
                let i = index_of(l, "articles");
                l[i] = set(&l[i], "slug", Value::Null);
                i
            }),
            "articles: slug: must not be null",
        ),
        (
            "dangling foreign key",
            Box::new(|l| {
                let i = index_of(l, "article_sections");
                l[i] = set(&l[i], "article_id", json!(999_999));
                i
            }),
            "article_sections.article_id = 999999: no articles row",
        ),
        (
            "unknown column",
            Box::new(|l| {
                let i = index_of(l, "observations");
                l[i] = set(&l[i], "mood", json!("calm"));
                i
            }),
            "unknown column \"mood\"",
        ),
        (
            "tables out of order",
            Box::new(|l| {
                let row = l.remove(l.len() - 2);
                l.insert(1, row);
                2
            }),
            "collections rows must come before",
        ),
        (
            "bad timestamp",
            Box::new(|l| {
                let i = index_of(l, "revisions");
                l[i] = set(&l[i], "created_at", json!("yesterday"));
                i
            }),
            "revisions: created_at: expected an RFC 3339 timestamp",
        ),
        (
            "cut short",
            Box::new(|l| {
                l.truncate(l.len() - 5);
                l.len()
            }),
            "the bundle ends without its end line",
        ),
        (
            "a row missing",
            Box::new(|l| {
                l.remove(l.len() - 2);
                l.len() - 1
            }),
            "the end line counts",
        ),
    ];
    for (name, edit, message) in cases {
        let mut line = 0;
        let text = edited(&good, |l| line = edit(l) + 1);
        let path = target.write_page(&format!("{}.ndjson", name.replace(' ', "-")), &text);
        let out = target.cli(&["import", "--bundle", &path]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains(&format!("line {line}: ")), "{name}: the message names line {line}: {err}");
        assert!(err.contains(message), "{name}: {err}");
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert_eq!(bundle::non_empty(&target.db).await.unwrap(), None, "{name}: nothing was written");
    }

    // A bundle that validates but breaks a constraint of the database is rolled back whole.
    let text = edited(&good, |l| {
        let i = index_of(l, "articles");
        let duplicate = set(&l[i], "id", json!(999_999));
        l.insert(i + 1, duplicate);
        let end: Value = serde_json::from_str(l.last().unwrap()).unwrap();
        *l.last_mut().unwrap() = json!({ "end": true, "rows": end["rows"].as_u64().unwrap() + 1 }).to_string();
    });
    let path = target.write_page("duplicate.ndjson", &text);
    let out = target.cli(&["import", "--bundle", &path]);
    assert!(!out.status.success(), "a duplicate (slug, stage) is refused");
    assert_eq!(bundle::non_empty(&target.db).await.unwrap(), None, "rolled back: {}", stderr(&out));
    let channels = target.data("{ reuseChannels { slug } }", json!({})).await;
    assert_eq!(channels["reuseChannels"].as_array().unwrap().len(), 6, "the default channels are still there");

    // A line longer than any row can be is refused by its number, without reading it whole.
    let text = edited(&good, |l| {
        let i = index_of(l, "articles");
        let huge = "x".repeat(backlot::service::bundle::MAX_LINE_BYTES as usize + 10);
        l[i] = set(&l[i], "thesis", json!(huge));
    });
    let line = text.lines().position(|l| l.len() > 1_000_000).unwrap() + 1;
    let path = target.write_page("huge.ndjson", &text);
    let out = target.cli(&["import", "--bundle", &path]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("line {line}")) && stderr(&out).contains("longer than"), "{}", stderr(&out));

    // A pipe cannot be read twice (checked whole, then restored): refused with a clear message.
    #[cfg(unix)]
    {
        let out = std::process::Command::new("bash")
            .args([
                "-c",
                &format!(
                    "cat {} | {} import --bundle /dev/stdin",
                    source.path("good.ndjson").display(),
                    env!("CARGO_BIN_EXE_backlot")
                ),
            ])
            .env("DATABASE_URL", &target.url)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        assert!(stderr(&out).contains("regular file"), "{}", stderr(&out));
    }

    // And the good bundle still restores into that database afterwards.
    let out = target.cli(&["import", "--bundle", source.path("good.ndjson").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_from_a_newer_format_or_schema_is_refused() {
    let source = TestApp::with_demo().await;
    let good = export(&source, "good.ndjson");
    let target = TestApp::new().await;
    let cases = [
        (
            "newer-version",
            "\"version\":1,",
            "\"version\":2,",
            "bundle format version 2 is newer than this backlot reads",
        ),
        ("newer-schema", "\"schema\":\"m2", "\"schema\":\"m2099", "is not one this backlot knows"),
        ("other-format", "backlot-bundle", "someone-elses-bundle", "format is \"someone-elses-bundle\""),
    ];
    for (name, from, to, message) in cases {
        let text = good.replacen(from, to, 1);
        assert_ne!(text, good);
        let path = target.write_page(&format!("{name}.ndjson"), &text);
        let out = target.cli(&["import", "--bundle", &path]);
        assert_eq!(out.status.code(), Some(4), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains("line 1: "), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
        assert_eq!(bundle::non_empty(&target.db).await.unwrap(), None);
    }
}

/// A migration that adds a table must say whether bundles carry it, or its rows would silently stay behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_is_either_in_the_bundle_or_excluded_with_a_reason() {
    let app = TestApp::new().await;
    let tables = bundle::database_tables(&app.db).await.expect("tables");
    let excluded: Vec<&str> = bundle::EXCLUDED.iter().map(|(t, _)| *t).collect();
    for table in &tables {
        assert!(
            bundle::TABLES.contains(&table.as_str()) || excluded.contains(&table.as_str()),
            "table {table} is neither exported nor excluded: add it to service::bundle::TABLES (in dependency \
             order, with its foreign keys) or to EXCLUDED with the reason"
        );
    }
    for table in bundle::TABLES.iter().chain(&excluded) {
        assert!(tables.iter().any(|t| t == table), "{table} is listed but does not exist");
    }
}
