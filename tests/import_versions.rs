//! A re-import respects what editors did: an edited draft is a conflict unless --force, versions and
//! revisions stay one-to-one, and the command says where it wrote and what the page's state is.

mod common;

use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, SEED, TestApp};
use serde_json::{Value, json};

const DRAFT: &str =
    "query($s: String!) { article(slug: $s) { id version thesis status revisions { version author } } }";

async fn draft(app: &TestApp, token: &str) -> Value {
    app.data_as(token, DRAFT, json!({ "s": ORIGINAL_SLUG })).await["article"].clone()
}

fn versions_are_unique(article: &Value) {
    let mut versions: Vec<i64> =
        article["revisions"].as_array().unwrap().iter().map(|r| r["version"].as_i64().unwrap()).collect();
    let listed = versions.len();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), listed, "two revisions share a version: {article}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimporting_over_an_editors_change_is_a_conflict_unless_forced() {
    let app = TestApp::new().await;
    let editor = app.token("ed", Role::Editor).await;
    let path = app.write_page("original.txt", SEED);
    app.import_paths(&[std::path::Path::new(&path)], false);
    let before = draft(&app, &editor).await;
    app.data_as(
        &editor,
        "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"Ed's thesis.\" }) { version } }",
        json!({ "id": before["id"], "v": before["version"] }),
    )
    .await;

    let out = app.cli(&["import", &path]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stderr.contains("original.txt") && stderr.contains("--force") && stderr.contains("edited"), "{stderr}");
    assert!(stderr.contains("1 file could not be imported"), "{stderr}");
    assert!(stdout.contains("imported 0 of 1 page into") && stdout.contains("1 failed"), "{stdout}");
    assert_eq!(draft(&app, &editor).await["thesis"], "Ed's thesis.", "the editor's change stays");

    let out = app.cli(&["import", &path, "--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = draft(&app, &editor).await;
    assert!(after["thesis"].as_str().unwrap().starts_with("Behind-the-Scenes"), "{after}");
    versions_are_unique(&after);

    // The last import's text is the draft again: re-importing needs no force.
    let out = app.cli(&["import", &path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_or_scheduling_since_the_import_is_no_edit() {
    let app = TestApp::new().await;
    let publisher = app.token("pub", Role::Publisher).await;
    let path = app.write_page("original.txt", SEED);
    app.import_paths(&[std::path::Path::new(&path)], false);
    let d = draft(&app, &publisher).await;
    let published = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": d["id"], "v": d["version"] }),
        )
        .await;
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!, $at: DateTime) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: $at) { version } }",
        json!({ "id": d["id"], "v": published["publishArticle"]["version"], "at": at }),
    )
    .await;
    // Every version is listed, the schedule's too, once each.
    let d = draft(&app, &publisher).await;
    let listed: Vec<i64> = d["revisions"].as_array().unwrap().iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(listed, [3, 2, 1], "{d}");

    let out = app.cli(&["import", &path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("updated {ORIGINAL_SLUG} (published; ")), "a published page says so: {stdout}");
    assert!(!stdout.contains("(draft)"), "{stdout}");
    let d = draft(&app, &publisher).await;
    assert_eq!(d["version"], 4);
    versions_are_unique(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_never_record_one_version_twice() {
    let app = TestApp::new().await;
    let dir = app.path("pages");
    for i in 0..20 {
        app.write_page(&format!("pages/p{i}.txt"), &common::page(&format!("Race Page {i}"), "races"));
    }
    app.import_paths(&[&dir], false);
    let runs: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_backlot"))
                .args(["import", dir.to_str().unwrap()])
                .env("DATABASE_URL", &app.url)
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run backlot")
        })
        .collect();
    let outputs: Vec<_> = runs.into_iter().map(|child| child.wait_with_output().expect("backlot ran")).collect();
    if app.backend == "postgres" {
        // Row locks make the writers take turns; none fails.
        for out in &outputs {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    // (SQLite may refuse a concurrent writer outright; what matters here is what was recorded.)
    use sea_orm::{EntityTrait, QueryOrder};
    let revisions =
        entity::revision::Entity::find().order_by_asc(entity::revision::Column::Id).all(&app.db).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in &revisions {
        assert!(seen.insert((r.entity_type.clone(), r.document_id.clone(), r.version)), "duplicate revision {r:?}");
    }
}
