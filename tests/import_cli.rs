//! `backlot import` as a user runs it, checked through the public GraphQL API.

mod common;

use common::{ORIGINAL_SLUG, SEED, TestApp, WEBSITE_DIRECTION, error_code, page};
use serde_json::json;

const ARTICLE_PAGE: &str = r#"query($slug: String!) {
  article(slug: $slug) {
    title slug thesis point status
    audience { summary roles readerNeed }
    realProblem recordMatters smarterQuestion proves
    sections { position heading body paragraphs }
    questions { position question answer }
    collection { slug name }
    proofRecord { slug status }
    relatedLinks { title slug article { slug } }
    relatedArticles { slug }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_the_original_page_gives_every_typed_field() {
    let app = TestApp::new().await;
    let out = app.import("original.txt", SEED, true);
    assert!(out.contains(&format!("created {ORIGINAL_SLUG} (published)")), "{out}");
    assert!(out.contains(&format!("imported 1 of 1 page into {}: 1 created, 0 updated, 0 failed", app.url)), "{out}");

    let data = app.data(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await;
    let a = &data["article"];
    assert_eq!(a["title"], "Behind-the-Scenes Production as Brand Proof");
    assert_eq!(a["slug"], ORIGINAL_SLUG);
    assert_eq!(a["status"], "PUBLISHED");
    assert_eq!(
        a["thesis"],
        "Behind-the-Scenes Production as Brand Proof is behind-the-scenes production systems proof."
    );
    assert!(a["point"].as_str().unwrap().starts_with("The point is not to preserve an artifact"));
    assert_eq!(a["audience"]["roles"], json!(["brand leads", "founders", "production teams", "creators"]));
    assert!(a["audience"]["summary"].as_str().unwrap().starts_with("This article is for brand leads"));
    assert!(a["audience"]["readerNeed"].as_str().unwrap().starts_with("It is written for readers"));
    assert_eq!(
        a["realProblem"],
        "Behind-the-scenes content gets treated as filler when it should explain the production system behind the finished asset."
    );
    assert!(a["recordMatters"].as_str().unwrap().starts_with("The production record matters because"));
    assert!(a["smarterQuestion"].as_str().unwrap().starts_with("What should the viewer understand"));
    assert_eq!(
        a["proves"],
        "This proves that process visibility can become brand proof when the capture is intentional."
    );

    let sections = a["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0]["heading"], "BTS is process architecture, not filler");
    assert_eq!(sections[1]["heading"], "Work smart, not hard");
    assert_eq!(sections[1]["paragraphs"].as_array().unwrap().len(), 2);
    assert!(sections[1]["paragraphs"][1].as_str().unwrap().starts_with("Working smart means"));

    let questions = a["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    assert_eq!(questions[0]["question"], "What makes behind-the-scenes content useful instead of filler?");
    assert_eq!(questions[1]["question"], "What business problem does BTS content solve?");
    assert_eq!(questions[2]["question"], "Where can BTS content be reused?");
    assert!(questions[2]["answer"].as_str().unwrap().starts_with("It can support case studies"));
    assert_eq!(questions.iter().map(|q| q["position"].as_i64().unwrap()).collect::<Vec<_>>(), vec![0, 1, 2]);

    assert_eq!(a["collection"], json!({ "slug": "proof", "name": "Proof" }));
    // The paired proof record exists as a DRAFT, so the public does not see it.
    assert_eq!(a["proofRecord"], json!(null));
    assert_eq!(
        a["relatedLinks"],
        json!([{ "title": "Website Direction", "slug": "website-direction", "article": null }])
    );
    assert_eq!(a["relatedArticles"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_related_link_resolves_when_its_page_arrives() {
    let app = TestApp::new().await;
    app.import("original.txt", SEED, true);
    app.import("website-direction.txt", WEBSITE_DIRECTION, true);
    let data = app.data(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await;
    assert_eq!(data["article"]["relatedArticles"], json!([{ "slug": "website-direction" }]));
    assert_eq!(data["article"]["relatedLinks"][0]["article"], json!({ "slug": "website-direction" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_are_drafts_unless_published_and_reimport_updates_in_place() {
    let app = TestApp::new().await;
    let out = app.import("original.txt", SEED, false);
    assert!(out.contains("(draft)"), "{out}");
    let data = app.data(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await;
    assert_eq!(data["article"], json!(null), "a draft must not be public");
    let count = app.data("{ articles { totalCount } questions { totalCount } }", json!({})).await;
    assert_eq!(count, json!({ "articles": { "totalCount": 0 }, "questions": { "totalCount": 0 } }));

    let out = app.import("original.txt", SEED, true);
    assert!(out.contains(&format!("updated {ORIGINAL_SLUG} (published)")), "{out}");
    let out = app.import("original.txt", SEED, true);
    assert!(out.contains("0 created, 1 updated"), "{out}");
    let count = app.data("{ articles { totalCount } questions { totalCount } }", json!({})).await;
    assert_eq!(count, json!({ "articles": { "totalCount": 1 }, "questions": { "totalCount": 3 } }));
    let sections = app.data(ARTICLE_PAGE, json!({ "slug": ORIGINAL_SLUG })).await;
    assert_eq!(sections["article"]["sections"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_does_not_parse_names_file_and_line_and_writes_nothing() {
    let app = TestApp::new().await;
    app.write_page("pages/a-good.txt", &page("Good Page", "goodness"));
    let bad = app.write_page(
        "pages/b-bad.txt",
        "Broken Page is broken. The point is errors.\nWho this helps\nThis article is for testers.\nQuestions this page should help you ask\nWhere is the answer?\n",
    );
    let out = app.cli(&["import", app.path("pages").to_str().unwrap(), "--publish"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains(&bad) && stderr.contains("line 5"), "{stderr}");
    assert!(stdout.contains("created good-page"), "{stdout}");
    assert!(stdout.contains("1 created, 0 updated, 1 failed"), "{stdout}");
    let data = app
        .data("{ a: article(slug: \"broken-page\") { slug } b: article(slug: \"good-page\") { slug } }", json!({}))
        .await;
    assert_eq!(data, json!({ "a": null, "b": { "slug": "good-page" } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_while_writing_leaves_the_database_as_it_was() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::new().await;
    // Parses, but its slug is too long to store: the error comes after its collection was written.
    let long_title = format!("Long {}", "word ".repeat(50));
    let out = app.cli(&["import", &app.write_page("long.txt", &page(long_title.trim(), "length"))]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slug"));
    assert_eq!(entity::proof_record::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(entity::collection::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(entity::article::Entity::find().count(&app.db).await.unwrap(), 0);
}

/// Everything a reader sees of the imported pages, without the ids each database assigns.
async fn public_view(app: &TestApp, slugs: &[&str]) -> serde_json::Value {
    let mut view = Vec::new();
    for slug in slugs {
        view.push(app.data(ARTICLE_PAGE, json!({ "slug": slug })).await);
    }
    let search = "{ search(query: \"bulk\", first: 100) { __typename ... on Article { slug } ... on Question { question } } \
                  articles(first: 100, orderBy: { field: TITLE, direction: ASC }) { totalCount edges { node { slug } } } \
                  collections { slug name } }";
    view.push(app.data(search, json!({})).await);
    json!(view)
}

fn bulk_pages(app: &TestApp, folder: &str) -> std::path::PathBuf {
    app.write_page(&format!("{folder}/original.txt"), SEED);
    app.write_page(&format!("{folder}/website-direction.txt"), WEBSITE_DIRECTION);
    for i in 0..5 {
        app.write_page(&format!("{folder}/bulk-{i}.txt"), &page(&format!("Bulk Page {i}"), "bulk imports"));
    }
    app.path(folder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_written_together_match_pages_written_one_at_a_time() {
    // Distinct slugs of a batch are written together (set-based); a slug repeated within a batch is
    // written one page at a time. All three ways must give readers the same thing.
    let created = TestApp::new().await;
    let out = created.import_paths(&[&bulk_pages(&created, "pages")], true);
    assert!(out.contains("7 created, 0 updated, 0 failed"), "{out}");

    let updated = TestApp::new().await;
    let folder = bulk_pages(&updated, "pages");
    updated.import_paths(&[&folder], false);
    let out = updated.import_paths(&[&folder], true);
    assert!(out.contains("0 created, 7 updated, 0 failed"), "{out}");

    let one_by_one = TestApp::new().await;
    for i in 0..5 {
        one_by_one.write_page(&format!("pages/1/bulk-{i}.txt"), &page(&format!("Bulk Page {i}"), "an early draft"));
    }
    let second = bulk_pages(&one_by_one, "pages/2");
    let out = one_by_one.import_paths(&[&one_by_one.path("pages/1"), &second], true);
    assert!(out.contains("7 created, 5 updated, 0 failed"), "{out}");

    let slugs = [ORIGINAL_SLUG, "website-direction", "bulk-page-0", "bulk-page-4"];
    let view = public_view(&created, &slugs).await;
    assert_eq!(view, public_view(&updated, &slugs).await);
    assert_eq!(view, public_view(&one_by_one, &slugs).await);
    assert_eq!(view[2]["article"]["questions"].as_array().map(Vec::len), Some(2), "{view}");
    assert_eq!(view[4]["articles"]["totalCount"], json!(7));
    assert!(view[4]["search"].as_array().is_some_and(|hits| hits.len() == 10), "{}", view[4]["search"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reimport_keeps_ids_and_first_publication_and_bumps_the_version() {
    let app = TestApp::new().await;
    let folder = bulk_pages(&app, "pages");
    app.import_paths(&[&folder], true);
    let query = "{ article(slug: \"bulk-page-1\") { id version createdAt updatedAt publishedAt questions { id } proofRecord { id } } }";
    let before = app.data(query, json!({})).await;
    app.import_paths(&[&folder], true);
    let after = app.data(query, json!({})).await;
    for field in ["id", "createdAt", "publishedAt", "questions", "proofRecord"] {
        assert_eq!(before["article"][field], after["article"][field], "{field}");
    }
    assert_eq!(after["article"]["version"], json!(2));
    assert_ne!(before["article"]["updatedAt"], after["article"]["updatedAt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_mixes_new_pages_reimports_repeats_and_bad_pages_in_file_order() {
    let app = TestApp::new().await;
    app.import("first.txt", &page("Already Here", "history"), true);
    app.write_page("pages/1-new.txt", &page("Fresh Page", "novelty"));
    app.write_page("pages/2-again.txt", &page("Already Here", "a second draft"));
    app.write_page("pages/3-fresh-again.txt", &page("Fresh Page", "a later take"));
    let long_title = format!("Long {}", "word ".repeat(50));
    app.write_page("pages/4-too-long.txt", &page(long_title.trim(), "length"));
    let out = app.cli(&["import", app.path("pages").to_str().unwrap(), "--publish"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("[1/4] created fresh-page (published)"), "{stdout}");
    assert!(lines[1].starts_with("[2/4] updated already-here (published)"), "{stdout}");
    assert!(lines[2].starts_with("[3/4] updated fresh-page (published)"), "{stdout}");
    assert!(stderr.contains("[4/4] error") && stderr.contains("4-too-long.txt"), "{stderr}");
    assert!(stdout.contains("1 created, 2 updated, 1 failed"), "{stdout}");

    // The later file of a repeated slug wins, as if the files had been imported one after the other.
    let query = "{ fresh: article(slug: \"fresh-page\") { thesis questions { question } proofRecord { slug } } \
                 again: article(slug: \"already-here\") { thesis } articles { totalCount } }";
    let data = app.data(query, json!({})).await;
    assert_eq!(data["fresh"]["thesis"], json!("Fresh Page is a test page about a later take."));
    assert_eq!(data["fresh"]["questions"][0]["question"], json!("Is this a test about a later take?"));
    assert_eq!(data["again"]["thesis"], json!("Already Here is a test page about a second draft."));
    assert_eq!(data["articles"]["totalCount"], json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_in_a_batch_is_pinned_to_its_file_and_the_rest_are_stored() {
    use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait};
    let app = TestApp::new().await;
    // A constraint only the database knows about, standing in for a concurrent writer or a DBA's rule.
    let rule = match app.db.get_database_backend() {
        DbBackend::Postgres => {
            "CREATE FUNCTION refuse_cursed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.slug = 'cursed-page' THEN RAISE EXCEPTION 'cursed'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse_cursed BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_cursed();"
        }
        _ => {
            "CREATE TRIGGER refuse_cursed BEFORE INSERT ON articles WHEN NEW.slug = 'cursed-page' \
             BEGIN SELECT RAISE(ABORT, 'cursed'); END;"
        }
    };
    app.db.execute_unprepared(rule).await.unwrap();
    app.write_page("pages/a.txt", &page("Blessed Page", "luck"));
    app.write_page("pages/b.txt", &page("Cursed Page", "misfortune"));
    app.write_page("pages/c.txt", &page("Lucky Page", "luck"));
    let out = app.cli(&["import", app.path("pages").to_str().unwrap(), "--publish"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("[2/3] error"), "{stderr}");
    assert!(stdout.contains("2 created, 0 updated, 1 failed"), "{stdout}");
    let data = app.data("{ articles { edges { node { slug proofRecord { slug } } } } }", json!({})).await;
    let mut slugs: Vec<&str> =
        data["articles"]["edges"].as_array().unwrap().iter().filter_map(|e| e["node"]["slug"].as_str()).collect();
    slugs.sort();
    assert_eq!(slugs, ["blessed-page", "lucky-page"]);
    // Nothing of the failed page was kept: not its paired proof record, not its revision.
    assert_eq!(entity::proof_record::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(entity::revision::Entity::find().count(&app.db).await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_files_and_invalid_utf8_fail_with_clear_messages() {
    let app = TestApp::new().await;
    let out = app.cli(&["import", "no-such-file.txt"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.txt: no such file or directory"));

    let path = app.path("latin1.txt");
    std::fs::write(&path, b"Caf\xe9 Page is a page. The point is bytes.\n").unwrap();
    let out = app.cli(&["import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1: not valid UTF-8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_titles_get_ascii_slugs() {
    let app = TestApp::new().await;
    let out = app.import("cafe.txt", &page("Café Crème Brûlée Shoot", "desserts"), true);
    assert!(out.contains("created cafe-creme-brulee-shoot"), "{out}");
    let data = app.data("{ article(slug: \"cafe-creme-brulee-shoot\") { title } }", json!({})).await;
    assert_eq!(data["article"]["title"], "Café Crème Brûlée Shoot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_schema_and_help_work_from_the_command_line() {
    let app = TestApp::new().await;
    let out = app.cli(&["migrate"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let out = app.cli(&["schema"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("type Article implements Node"));

    let out = app.cli(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "import", "migrate", "schema", "Exit codes", "DATABASE_URL"] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }
    let out = app.cli(&["import"]);
    assert_eq!(out.status.code(), Some(2), "missing PATH is a usage error");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["migrate", "--database-url", "postgres://nobody:secret@127.0.0.1:1/none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open the database") && !stderr.contains("secret"), "{stderr}");
    let _ = error_code;
}

/// A page file larger than any page (a mistake, or an attack) is refused before it is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_file_too_large_is_refused_by_name() {
    let app = TestApp::new().await;
    let huge = page("Huge Page", &"words ".repeat(900_000));
    assert!(huge.len() > 4 * 1024 * 1024);
    let path = app.write_page("huge.txt", &huge);
    let out = app.cli(&["import", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("huge.txt") && stderr.contains("at most 4194304 bytes"), "{stderr}");
}
