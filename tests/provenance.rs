//! Snippets that know where they came from: provenance, drift to stale and back, grapheme counts, and
//! channels that require a credit line. Every public read here runs the same query text before and after a
//! write, so a cached answer that outlived the write would fail the test too.

mod common;

use backlot::service::token::Role;
use common::{TestApp, error_code, page};
use serde_json::{Value, json};

/// The public marketing pulls of `social-posts`: the top-level connection, the channel's, and the record's.
const PUBLIC_PULL: &str = r#"{
  proofSnippets(channel: "social-posts", first: 100) { totalCount nodes { id body } }
  reuseChannel(slug: "social-posts") { snippets(first: 100) { totalCount nodes { id } } }
  proofRecord(slug: "roastery-day") { snippets { id } }
}"#;

const EDITOR_VIEW: &str = r#"query($id: ID!) { node(id: $id) { ... on ProofSnippet {
  version stale staleReason staleSince fits overflowBy
  source { proofRecord { slug } observationPositions observations { title } recordVersion approvedAt
           question { question } sectionPosition section { heading } }
} } }"#;

struct Desk {
    app: TestApp,
    admin: String,
    editor: String,
    record: String,
}

fn observations(details: &[&str]) -> Value {
    Value::Array(
        details
            .iter()
            .enumerate()
            .map(|(i, d)| json!({ "kind": "DECISION", "title": format!("Observation {i}"), "detail": d }))
            .collect(),
    )
}

/// A published proof record `roastery-day` with three observations, offered to social posts.
async fn desk() -> Desk {
    let app = TestApp::new().await;
    let admin = app.token("admin", Role::Admin).await;
    let editor = app.token("editor", Role::Editor).await;
    let created = app
        .data_as(
            &admin,
            "mutation($o: [ObservationInput!]) { createProofRecord(input: { title: \"Roastery day\", client: \"Northwind\", \
             observations: $o, channels: [\"social-posts\", \"hiring-materials\"] }) { id version } }",
            json!({ "o": observations(&["Shot in 14-minute roast cycles.", "Two cameras, one light.", "Audio recorded apart."]) }),
        )
        .await;
    let record = created["createProofRecord"]["id"].as_str().unwrap().to_string();
    let desk = Desk { app, admin, editor, record };
    desk.publish_record().await;
    desk
}

impl Desk {
    async fn record_version(&self) -> i64 {
        let data = self
            .app
            .data_as(
                &self.admin,
                "query($id: ID!) { node(id: $id) { ... on ProofRecord { version } } }",
                json!({ "id": self.record }),
            )
            .await;
        data["node"]["version"].as_i64().unwrap()
    }

    async fn publish_record(&self) {
        let version = self.record_version().await;
        self.app
            .data_as(
                &self.admin,
                "mutation($id: ID!, $v: Int!) { publishProofRecord(id: $id, expectedVersion: $v) { version } }",
                json!({ "id": self.record, "v": version }),
            )
            .await;
    }

    /// Replaces the draft record's observations (an editor's edit).
    async fn set_observations(&self, details: &[&str]) {
        let version = self.record_version().await;
        self.app
            .data_as(
                &self.editor,
                "mutation($id: ID!, $v: Int!, $o: [ObservationInput!]) { updateProofRecord(id: $id, expectedVersion: $v, \
                 input: { observations: $o }) { version } }",
                json!({ "id": self.record, "v": version, "o": observations(details) }),
            )
            .await;
    }

    /// Creates and publishes a social-posts snippet of the record with `source`; returns its ID.
    async fn published_snippet(&self, body: &str, source: Value) -> String {
        let created = self
            .app
            .data_as(
                &self.editor,
                "mutation($body: String!, $source: SnippetSourceInput) { createSnippet(input: { proofRecord: \"roastery-day\", \
                 channel: \"social-posts\", body: $body, source: $source }) { id version } }",
                json!({ "body": body, "source": source }),
            )
            .await;
        let id = created["createSnippet"]["id"].as_str().unwrap().to_string();
        self.app
            .data_as(
                &self.admin,
                "mutation($id: ID!) { publishSnippet(id: $id, expectedVersion: 1) { version } }",
                json!({ "id": id }),
            )
            .await;
        id
    }

    async fn editor_view(&self, id: &str) -> Value {
        self.app.data_as(&self.editor, EDITOR_VIEW, json!({ "id": id })).await["node"].clone()
    }

    /// Snippet IDs each public pull offers: (proofSnippets, reuseChannel.snippets, proofRecord.snippets).
    async fn public_ids(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let data = self.app.data(PUBLIC_PULL, json!({})).await;
        // Counts agree with what is listed: a withheld snippet is not counted either.
        for list in [&data["proofSnippets"], &data["reuseChannel"]["snippets"]] {
            assert_eq!(list["totalCount"].as_u64(), Some(list["nodes"].as_array().unwrap().len() as u64), "{data}");
        }
        let ids = |v: &Value| v.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
        (
            ids(&data["proofSnippets"]["nodes"]),
            ids(&data["reuseChannel"]["snippets"]["nodes"]),
            ids(&data["proofRecord"]["snippets"]),
        )
    }

    async fn offered(&self, id: &str) -> bool {
        let (top, channel, record) = self.public_ids().await;
        let found = [&top, &channel, &record].map(|ids| ids.iter().any(|i| i == id));
        assert!(found.iter().all(|f| *f == found[0]), "the public pulls disagree about {id}: {found:?}");
        found[0]
    }
}

/// The full cycle: approved -> its observation edited -> stale, gone from every public pull -> re-approved ->
/// offered again, with the source's current version recorded. Editing another observation changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_snippet_leaves_the_marketing_pull_until_it_is_approved_again() {
    let desk = desk().await;
    let id = desk
        .published_snippet(
            "Shot in 14-minute roast cycles, so the roastery never stopped.",
            json!({ "observations": [0] }),
        )
        .await;
    assert!(desk.offered(&id).await);
    let view = desk.editor_view(&id).await;
    assert_eq!(view["stale"], false);
    assert_eq!(view["source"]["proofRecord"]["slug"], "roastery-day");
    assert_eq!(view["source"]["observationPositions"], json!([0]));
    assert_eq!(view["source"]["observations"], json!([{ "title": "Observation 0" }]));

    // Another observation edited: this snippet does not quote it.
    desk.set_observations(&["Shot in 14-minute roast cycles.", "Three cameras, one light.", "Audio recorded apart."])
        .await;
    assert_eq!(desk.editor_view(&id).await["stale"], false);
    assert!(desk.offered(&id).await);

    // The quoted observation edited on the draft: stale at once, without a publish.
    desk.set_observations(&["Shot in 12-minute roast cycles.", "Three cameras, one light.", "Audio recorded apart."])
        .await;
    let view = desk.editor_view(&id).await;
    assert_eq!(view["stale"], true, "{view}");
    assert_eq!(view["staleReason"], "observation 0 of the proof record was edited");
    assert!(view["staleSince"].is_string());
    assert!(!desk.offered(&id).await, "a stale snippet is not offered");
    let by_node = desk.app.data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(by_node["node"], Value::Null);

    // Re-approval (editor) brings it back, with the record's current version as its source version.
    let version = view["version"].as_i64().unwrap();
    let approved = desk
        .app
        .data_as(
            &desk.editor,
            "mutation($id: ID!, $v: Int!) { approveSnippet(id: $id, expectedVersion: $v) { version stale } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(approved["approveSnippet"]["stale"], false);
    assert_eq!(approved["approveSnippet"]["version"], version + 1);
    let view = desk.editor_view(&id).await;
    assert_eq!(view["source"]["recordVersion"], desk.record_version().await);
    assert!(desk.offered(&id).await, "re-approved: offered again");

    // The public cannot read the flag or the source themselves.
    for field in ["stale", "staleReason", "source { approvedAt }"] {
        let query = format!(r#"{{ proofSnippets(channel: "social-posts") {{ nodes {{ {field} }} }} }}"#);
        let peek = desk.app.graphql(&query, json!({})).await;
        assert_eq!(error_code(&peek), "UNAUTHENTICATED", "{peek}");
    }

    // A stale version is refused like any other write.
    let stale = desk
        .app
        .graphql_as(
            &desk.editor,
            "mutation($id: ID!) { approveSnippet(id: $id, expectedVersion: 1) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
}

/// A removed observation stales the snippet; it cannot be approved as it is, and editing its source (then
/// publishing) brings it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_observation_stales_the_snippet_until_its_source_is_edited() {
    let desk = desk().await;
    let id = desk.published_snippet("Audio was recorded apart from the roaster.", json!({ "observations": [2] })).await;
    desk.set_observations(&["Shot in 14-minute roast cycles.", "Two cameras, one light."]).await;
    let view = desk.editor_view(&id).await;
    assert_eq!(view["staleReason"], "observation 2 of the proof record was removed");
    assert!(!desk.offered(&id).await);

    let version = view["version"].as_i64().unwrap();
    let refused = desk
        .app
        .graphql_as(
            &desk.editor,
            "mutation($id: ID!, $v: Int!) { approveSnippet(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "source.observations[0]");

    let edited = desk
        .app
        .data_as(
            &desk.editor,
            "mutation($id: ID!, $v: Int!) { updateSnippet(id: $id, expectedVersion: $v, input: { source: { observations: [1] } }) \
             { version stale source { observationPositions } } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(edited["updateSnippet"]["stale"], false, "an edit approves the draft");
    assert_eq!(edited["updateSnippet"]["source"]["observationPositions"], json!([1]));
    assert!(!desk.offered(&id).await, "the published copy still quotes what was removed");
    desk.app
        .data_as(
            &desk.admin,
            "mutation($id: ID!, $v: Int!) { publishSnippet(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": edited["updateSnippet"]["version"] }),
        )
        .await;
    assert!(desk.offered(&id).await);
}

/// Republishing the record with the same content leaves a snippet of the whole record alone; republishing
/// it with different content stales it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republishing_stales_a_snippet_only_when_the_content_changed() {
    let desk = desk().await;
    let id = desk.published_snippet("A working roastery, filmed without stopping it.", Value::Null).await;
    assert_eq!(desk.editor_view(&id).await["source"]["observationPositions"], json!([]));

    desk.publish_record().await;
    desk.publish_record().await;
    assert_eq!(desk.editor_view(&id).await["stale"], false, "unchanged content does not stale it");
    assert!(desk.offered(&id).await);

    let version = desk.record_version().await;
    desk.app
        .data_as(
            &desk.editor,
            "mutation($id: ID!, $v: Int!) { updateProofRecord(id: $id, expectedVersion: $v, input: { summary: \"A new summary.\" }) { version } }",
            json!({ "id": desk.record, "v": version }),
        )
        .await;
    desk.publish_record().await;
    let view = desk.editor_view(&id).await;
    assert_eq!(view["staleReason"], "the proof record was edited");
    assert!(!desk.offered(&id).await);
}

/// A question or section of the snippet's article: named by ID or position, checked against that article,
/// and an edit of it (as a re-import makes) stales the snippet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_sources_are_checked_and_drift_when_edited() {
    let desk = desk().await;
    desk.app.import("quoted.txt", &page("Quoted Page", "roasting"), true);
    desk.app.import("other.txt", &page("Other Page", "weaving"), true);
    let ids = desk
        .app
        .data(r#"{ a: article(slug: "quoted-page") { questions { id } } b: article(slug: "other-page") { questions { id } } }"#, json!({}))
        .await;
    let question = ids["a"]["questions"][0]["id"].as_str().unwrap().to_string();
    let foreign = ids["b"]["questions"][0]["id"].as_str().unwrap().to_string();
    let create = "mutation($article: String, $source: SnippetSourceInput) { createSnippet(input: { proofRecord: \"roastery-day\", \
                  article: $article, channel: \"social-posts\", body: \"Quoted.\", source: $source }) { id source { question { question } section { heading } } } }";

    for (article, source, field) in [
        (json!("quoted-page"), json!({ "question": foreign }), "source.question"),
        (json!("quoted-page"), json!({ "section": 7 }), "source.section"),
        (Value::Null, json!({ "section": 0 }), "source.section"),
        (json!("quoted-page"), json!({ "observations": [0, 9] }), "source.observations[1]"),
        (json!("quoted-page"), json!({ "question": desk.record }), "source.question"),
    ] {
        let refused = desk.app.graphql_as(&desk.editor, create, json!({ "article": article, "source": source })).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{source}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }

    let on_question = desk
        .app
        .data_as(&desk.editor, create, json!({ "article": "quoted-page", "source": { "question": question } }))
        .await;
    assert_eq!(on_question["createSnippet"]["source"]["question"]["question"], "Is this a test about roasting?");
    let on_section =
        desk.app.data_as(&desk.editor, create, json!({ "article": "quoted-page", "source": { "section": 1 } })).await;
    assert_eq!(on_section["createSnippet"]["source"]["section"]["heading"], "Section two");
    let on_question = on_question["createSnippet"]["id"].as_str().unwrap().to_string();
    let on_section = on_section["createSnippet"]["id"].as_str().unwrap().to_string();

    // Re-importing the page with the same text changes nothing; with another answer, the question drifts.
    desk.app.import("quoted.txt", &page("Quoted Page", "roasting"), false);
    assert_eq!(desk.editor_view(&on_question).await["stale"], false);
    let edited = page("Quoted Page", "roasting").replace("Yes, it is a test.", "No, it is a rehearsal.");
    desk.app.import("quoted.txt", &edited, false);
    assert_eq!(desk.editor_view(&on_question).await["staleReason"], "the quoted question of the article was edited");
    assert_eq!(desk.editor_view(&on_section).await["stale"], false, "its section did not change");

    let edited = edited.replace("Second body paragraph.", "Second body paragraph, rewritten.");
    desk.app.import("quoted.txt", &edited, false);
    assert_eq!(desk.editor_view(&on_section).await["staleReason"], "section 1 of the article was edited");
}

/// charCount counts extended grapheme clusters: a family emoji, a letter with a combining accent and a CJK
/// character are one each, and a channel's maxChars means the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn char_count_counts_what_a_reader_sees() {
    let desk = desk().await;
    let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
    let combining = "e\u{0301}";
    let cjk = "\u{6F22}\u{5B57}";
    desk.app
        .data_as(
            &desk.admin,
            "mutation { createReuseChannel(input: { name: \"Tiny\", maxChars: 4 }) { slug } }",
            json!({}),
        )
        .await;
    let create = "mutation($body: String!, $channel: String!) { createSnippet(input: { proofRecord: \"roastery-day\", \
                  channel: $channel, body: $body }) { charCount fits overflowBy inSocial: fits(channel: \"social-posts\") } }";
    for (body, count) in [(family.to_string(), 1), (combining.to_string(), 1), (cjk.to_string(), 2)] {
        let data = desk.app.data_as(&desk.editor, create, json!({ "body": body, "channel": "social-posts" })).await;
        assert_eq!(data["createSnippet"]["charCount"], count, "{body:?}");
    }

    // Four graphemes (eleven code points) fit a four-character channel; five do not.
    let four = format!("{family}{combining}{cjk}");
    assert_eq!(four.chars().count(), 11);
    let data = desk.app.data_as(&desk.editor, create, json!({ "body": four, "channel": "tiny" })).await;
    assert_eq!(data["createSnippet"], json!({ "charCount": 4, "fits": true, "overflowBy": 0, "inSocial": true }));
    let refused =
        desk.app.graphql_as(&desk.editor, create, json!({ "body": format!("{four}!"), "channel": "tiny" })).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["message"], "body: is 5 characters; channel \"tiny\" takes at most 4");

    // Would a longer snippet fit another channel? Editors ask with `channel`.
    let long = "x".repeat(10);
    let data = desk
        .app
        .data_as(
            &desk.editor,
            "mutation($body: String!) { createSnippet(input: { proofRecord: \"roastery-day\", channel: \"social-posts\", body: $body }) \
             { fits(channel: \"tiny\") overflowBy(channel: \"tiny\") } }",
            json!({ "body": long }),
        )
        .await;
    assert_eq!(data["createSnippet"], json!({ "fits": false, "overflowBy": 6 }));

    // Asking about another channel is batched: a page of snippets costs what one does.
    let list = |first: i32| {
        format!(
            r#"{{ proofSnippets(channel: "social-posts", first: {first}) {{ nodes {{ fits(channel: "tiny") overflowBy(channel: "tiny") own: fits }} }} }}"#
        )
    };
    let (one, one_statements) = desk.app.count_statements(desk.app.data_as(&desk.editor, &list(1), json!({}))).await;
    let (all, all_statements) = desk.app.count_statements(desk.app.data_as(&desk.editor, &list(100), json!({}))).await;
    assert_eq!(one["proofSnippets"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(all["proofSnippets"]["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(one_statements, all_statements);
}

/// Hiring materials require a credit line: a snippet without one is refused there, and a channel that starts
/// requiring one stops offering the snippets without it until they get one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_may_require_a_credit_line() {
    let desk = desk().await;
    let channels = desk.app.data(r#"{ reuseChannels { slug requiresCredit } }"#, json!({})).await;
    let requiring: Vec<&str> = channels["reuseChannels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["requiresCredit"] == true)
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(requiring, ["hiring-materials"]);

    let create = "mutation($credit: String) { createSnippet(input: { proofRecord: \"roastery-day\", channel: \"hiring-materials\", \
                  body: \"Our crew works around the roast.\", credit: $credit }) { id credit fits } }";
    let refused = desk.app.graphql_as(&desk.editor, create, json!({ "credit": null })).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "credit");
    let blank = desk.app.graphql_as(&desk.editor, create, json!({ "credit": "  " })).await;
    assert_eq!(error_code(&blank), "BAD_USER_INPUT", "a blank credit is no credit");
    let ok = desk.app.data_as(&desk.editor, create, json!({ "credit": "Northwind crew" })).await;
    assert_eq!(ok["createSnippet"]["fits"], true);

    // social-posts starts requiring a credit: the uncredited snippet stops being offered and no longer fits.
    let id = desk.published_snippet("No presenter, no script.", Value::Null).await;
    assert!(desk.offered(&id).await);
    desk.app
        .data_as(
            &desk.admin,
            "mutation { updateReuseChannel(slug: \"social-posts\", expectedVersion: 1, input: { requiresCredit: true }) { requiresCredit } }",
            json!({}),
        )
        .await;
    assert!(!desk.offered(&id).await);
    let view = desk.editor_view(&id).await;
    assert_eq!(view["fits"], false);
    let version = view["version"].as_i64().unwrap();
    let credited = desk
        .app
        .data_as(
            &desk.editor,
            "mutation($id: ID!, $v: Int!) { updateSnippet(id: $id, expectedVersion: $v, input: { credit: \"Northwind crew\" }) { version fits } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(credited["updateSnippet"]["fits"], true);
    desk.app
        .data_as(
            &desk.admin,
            "mutation($id: ID!, $v: Int!) { publishSnippet(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": credited["updateSnippet"]["version"] }),
        )
        .await;
    assert!(desk.offered(&id).await);
}

/// The demo set has one stale snippet: editors see why, the public is never offered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_one_stale_snippet() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let query = r#"{ reuseChannel(slug: "launch-recaps") { snippets(first: 100) { nodes { body } } } }"#;
    let seen = app
        .data_as(
            &editor,
            r#"{ proofSnippets(channel: "launch-recaps", first: 100) { nodes { body stale staleReason } } }"#,
            json!({}),
        )
        .await;
    let stale: Vec<&Value> =
        seen["proofSnippets"]["nodes"].as_array().unwrap().iter().filter(|n| n["stale"] == true).collect();
    assert_eq!(stale.len(), 1, "{seen}");
    assert_eq!(stale[0]["staleReason"], "observation 4 of the proof record was edited");
    let public = app.data(query, json!({})).await.to_string();
    assert!(!public.contains("recorded live"), "{public}");
    assert!(public.contains("Launch week"), "{public}");
}

/// The migration recounts existing snippets in grapheme clusters and makes hiring materials require a credit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_recounts_existing_snippets() {
    use migration::MigratorTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{ConnectionTrait, EntityTrait};

    let app = TestApp::with_demo().await;
    let snippet = entity::proof_snippet::Entity::find().one(&app.db).await.unwrap().unwrap();
    // Schema changes on one connection of its own, as `backlot migrate` makes them.
    let mut options = sea_orm::ConnectOptions::new(app.url.clone());
    options.max_connections(1);
    let db = sea_orm::Database::connect(options).await.unwrap();
    // Roll back to just before the provenance migration, however many came after it.
    let applied = migration::Migrator::get_applied_migrations(&db).await.expect("applied migrations");
    let after = applied.iter().rev().take_while(|m| !m.name().contains("snippet_provenance")).count();
    migration::Migrator::down(&db, Some(after as u32 + 1)).await.expect("roll back the provenance migration");
    // As the previous release stored it: counted in code points.
    let body = "Cre\u{0300}me bru\u{0302}le\u{0301}e \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let stored = Query::update()
        .table(Alias::new("proof_snippets"))
        .value(Alias::new("body"), body)
        .value(Alias::new("char_count"), body.chars().count() as i32)
        .and_where(Expr::col(Alias::new("document_id")).eq(snippet.document_id.as_str()))
        .to_owned();
    let backend = db.get_database_backend();
    db.execute_raw(backend.build(&stored)).await.unwrap();
    migration::Migrator::up(&db, None).await.expect("migrate again");

    let rows = entity::proof_snippet::Entity::find().all(&db).await.unwrap();
    let recounted: Vec<i32> =
        rows.iter().filter(|r| r.document_id == snippet.document_id).map(|r| r.char_count).collect();
    assert_eq!(body.chars().count(), 21);
    assert_eq!(recounted, vec![14; recounted.len()], "{rows:?}");
    assert!(!recounted.is_empty());
    let hiring = entity::reuse_channel::Entity::find().all(&db).await.unwrap();
    assert!(hiring.iter().all(|c| c.requires_credit == (c.slug == "hiring-materials")));
}
