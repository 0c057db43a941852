//! Frame releases as rights data, on every public path and with no publish: a withdrawn release (here and in
//! another `backlot serve` process, cached pages included), an expiry passing with no write, channel scopes,
//! `releaseChanged` audit entries and the editors' chase list.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp, error_code, post_to, serve};
use serde_json::{Value, json};

const DRAFT: &str = r#"query($slug: String!) { proofRecord(slug: $slug) { id version
    assets { url kind alt caption credit width height shows release capturedAt releaseExpiresAt releaseChannels { slug } } } }"#;
const UPDATE: &str = "mutation($id: ID!, $v: Int!, $assets: [AssetInput!]!) {
    updateProofRecord(id: $id, expectedVersion: $v, input: { assets: $assets }) { id version } }";

fn frame_url(n: u32) -> String {
    format!("https://demo.backlot.invalid/bts/brand-proof-{n:02}.jpg")
}

/// The draft's frames as `AssetInput` values (scope as slugs), so a test can change one and send them all back.
async fn frames(app: &TestApp, token: &str) -> (Value, Vec<Value>) {
    let draft = app.data_as(token, DRAFT, json!({ "slug": ORIGINAL_SLUG })).await;
    let record = draft["proofRecord"].clone();
    let inputs = record["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut input = a.clone();
            let slugs: Vec<Value> =
                a["releaseChannels"].as_array().unwrap().iter().map(|c| c["slug"].clone()).collect();
            input["releaseChannels"] = Value::Array(slugs);
            input
        })
        .collect();
    (record, inputs)
}

/// Changes the draft frame with `url` through `change` and saves the record: the response body (errors too).
async fn edit_frame(app: &TestApp, token: &str, url: &str, change: impl Fn(&mut Value)) -> Value {
    let (record, mut assets) = frames(app, token).await;
    let frame = assets.iter_mut().find(|a| a["url"] == url).expect("the frame is on the draft");
    change(frame);
    app.graphql_as(token, UPDATE, json!({ "id": record["id"], "v": record["version"], "assets": assets })).await
}

fn page_query() -> String {
    format!(r#"{{ article(slug: "{ORIGINAL_SLUG}") {{ proofRecord {{ assets {{ url release }} }} }} }}"#)
}

fn urls(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|a| a["url"].as_str().unwrap().to_string()).collect()
}

fn page_urls(data: &Value) -> Vec<String> {
    urls(&data["article"]["proofRecord"]["assets"])
}

async fn channel_urls(app: &TestApp, slug: &str) -> (Vec<String>, i64) {
    let query =
        format!(r#"{{ reuseChannel(slug: "{slug}") {{ assets(first: 100) {{ totalCount nodes {{ url }} }} }} }}"#);
    let data = app.data(&query, json!({})).await;
    let assets = &data["reuseChannel"]["assets"];
    (urls(&assets["nodes"]), assets["totalCount"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_release_leaves_cached_pages_here_and_in_another_process_within_a_second() {
    let app = TestApp::with_demo().await;
    let out = app.cli(&["token", "create", "--name", "rights-editor", "--role", "editor"]);
    let editor = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    let reader = serve(&app.url);
    let revoked = frame_url(3);
    let page = json!({ "query": page_query() }).to_string();
    let social =
        json!({ "query": "{ reuseChannel(slug: \"social-posts\") { assets(first: 100) { nodes { url } } } }" })
            .to_string();

    // Warm both caches: this process's router and the other process.
    let here = app.data(&page_query(), json!({})).await;
    assert!(page_urls(&here).contains(&revoked), "cleared before: {here}");
    for _ in 0..2 {
        assert!(page_urls(&post_to(reader.1, None, &page)["data"]).contains(&revoked));
        assert!(post_to(reader.1, None, &social).to_string().contains(&revoked));
    }

    let changed = edit_frame(&app, &editor, &revoked, |f| {
        f["release"] = json!("DENIED");
        f["releaseReason"] = json!("The crew member withdrew consent");
    })
    .await;
    assert!(changed.get("errors").is_none(), "{changed}");
    let acknowledged = Instant::now();

    let here = app.data(&page_query(), json!({})).await;
    assert!(!page_urls(&here).contains(&revoked), "this process still shows the revoked frame: {here}");
    assert!(!channel_urls(&app, "social-posts").await.0.contains(&revoked));
    loop {
        let page_there = post_to(reader.1, None, &page);
        let social_there = post_to(reader.1, None, &social);
        if !page_urls(&page_there["data"]).contains(&revoked) && !social_there.to_string().contains(&revoked) {
            break;
        }
        assert!(acknowledged.elapsed() < Duration::from_secs(1), "the other process kept serving the revoked frame");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_passing_hides_the_frame_with_no_write_even_from_the_cache() {
    let app = TestApp::with_demo().await;
    // Another process, which sees no write to this database once the expiry is set, caches the page too.
    let reader = serve(&app.url);
    let editor = app.token("expiry-editor", Role::Editor).await;
    // The last frame social posts are offered (by id), so `first: 3` leaves it just past the page.
    let expiring = frame_url(6);
    // Whole seconds ahead, so the stored instant is exact on both backends.
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let at = chrono::DateTime::from_timestamp(at.timestamp(), 0).unwrap();
    let changed = edit_frame(&app, &editor, &expiring, |f| f["releaseExpiresAt"] = json!(at.to_rfc3339())).await;
    assert!(changed.get("errors").is_none(), "{changed}");

    // Setting an expiry tightens the release, so the published copy carries it at once.
    let published = app
        .data(
            &format!(
                r#"{{ article(slug: "{ORIGINAL_SLUG}") {{ proofRecord {{ assets {{ url releaseExpiresAt }} }} }} }}"#
            ),
            json!({}),
        )
        .await;
    let frame = published["article"]["proofRecord"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["url"] == expiring.as_str())
        .cloned()
        .expect("still public before the expiry");
    assert_eq!(
        frame["releaseExpiresAt"].as_str().map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        Some(at)
    );

    // Cache the page (a hit runs no SQL; writes by parallel tests may empty the cache, so retry).
    let body = json!({ "query": page_query() });
    let before = app.post_json(body.clone()).await;
    assert!(before.body.contains(&expiring), "{}", before.body);
    let mut cached = false;
    for _ in 0..20 {
        let (again, statements) = app.count_statements(app.post_json(body.clone())).await;
        assert!(again.body.contains(&expiring));
        if statements == 0 {
            cached = true;
            break;
        }
    }
    assert!(cached, "the page was served from the cache");
    let (social, social_count) = channel_urls(&app, "social-posts").await;
    assert!(social.contains(&expiring));
    let etag = before.headers["etag"].to_str().unwrap().to_string();

    // The other process polls the generation every 200 ms: let it see the edit before it caches, or the
    // entries would be dropped by that poll rather than by the expiry.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let page = body.to_string();
    let first_three = json!({ "query": "{ reuseChannel(slug: \"social-posts\") { assets(first: 3) { pageInfo { hasNextPage } } } }" })
        .to_string();
    let has_next = |answer: Value| answer["data"]["reuseChannel"]["assets"]["pageInfo"]["hasNextPage"].clone();
    for _ in 0..2 {
        assert!(page_urls(&post_to(reader.1, None, &page)["data"]).contains(&expiring));
        assert_eq!(has_next(post_to(reader.1, None, &first_three)), json!(true));
    }

    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(50);
    tokio::time::sleep(wait).await;

    let there = post_to(reader.1, None, &page);
    assert!(!page_urls(&there["data"]).contains(&expiring), "the other process served an expired frame: {there}");
    assert_eq!(has_next(post_to(reader.1, None, &first_three)), json!(false), "the frame past the page expired too");

    let after = app.post_json(body.clone()).await;
    assert!(!after.body.contains(&expiring), "an expired frame was served (from the cache?): {}", after.body);
    assert_ne!(after.headers["etag"].to_str().unwrap(), etag);
    let revalidated = app
        .request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("if-none-match", &etag)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(revalidated.status, StatusCode::OK, "the old ETag no longer matches");
    let (social, count) = channel_urls(&app, "social-posts").await;
    assert!(!social.contains(&expiring));
    assert_eq!(count, social_count - 1, "totalCount drops with it");

    // Editors still see the frame, as lapsed.
    let draft = app
        .data_as(
            &editor,
            &format!(r#"{{ proofRecord(slug: "{ORIGINAL_SLUG}") {{ assets {{ url release effectiveRelease }} }} }}"#),
            json!({}),
        )
        .await;
    let frame =
        draft["proofRecord"]["assets"].as_array().unwrap().iter().find(|a| a["url"] == expiring.as_str()).unwrap();
    assert_eq!((frame["release"].as_str(), frame["effectiveRelease"].as_str()), (Some("CLEARED"), Some("PENDING")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_scope_limits_where_a_frame_is_offered_and_narrowing_applies_at_once() {
    let app = TestApp::with_demo().await;
    let editor = app.token("scope-editor", Role::Editor).await;

    // The demo's frame 8 is cleared for case studies only.
    let case_study_only = frame_url(8);
    let page = app.data(&page_query(), json!({})).await;
    assert!(!page_urls(&page).contains(&case_study_only), "not on the article page (proof-pages): {page}");
    assert!(channel_urls(&app, "case-studies").await.0.contains(&case_study_only));
    assert!(!channel_urls(&app, "social-posts").await.0.contains(&case_study_only));
    assert!(!channel_urls(&app, "proof-pages").await.0.contains(&case_study_only));
    let preview = app
        .data_as(
            &editor,
            &format!(r#"{{ proofRecord(slug: "{ORIGINAL_SLUG}") {{ assets {{ url releaseChannels {{ slug }} }} }} }}"#),
            json!({}),
        )
        .await;
    let frame = preview["proofRecord"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["url"] == case_study_only.as_str())
        .unwrap();
    assert_eq!(frame["releaseChannels"], json!([{ "slug": "case-studies" }]));

    // A channel's proof records offer their frames by that channel's scopes too (each alias its own channel).
    let pulls = r#"{ social: reuseChannel(slug: "social-posts") { proofRecords(first: 10) { nodes { assets { url } } } }
        cases: reuseChannel(slug: "case-studies") { proofRecords(first: 10) { nodes { assets { url } } } }
        page: proofRecord(slug: "behind-the-scenes-production-as-brand-proof") { assets { url } } }"#;
    let pulled = app.data(pulls, json!({})).await;
    let offered = |data: &Value, key: &str, url: &str| data[key].to_string().contains(url);
    assert!(offered(&pulled, "cases", &case_study_only), "{pulled}");
    assert!(!offered(&pulled, "social", &case_study_only), "{pulled}");
    assert!(!offered(&pulled, "page", &case_study_only), "{pulled}");

    // Narrowing an unscoped frame to social posts takes it off the article page and case studies at once.
    let narrowed = frame_url(3);
    let changed = edit_frame(&app, &editor, &narrowed, |f| f["releaseChannels"] = json!(["social-posts"])).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    assert!(!page_urls(&app.data(&page_query(), json!({})).await).contains(&narrowed));
    assert!(!channel_urls(&app, "case-studies").await.0.contains(&narrowed));
    assert!(channel_urls(&app, "social-posts").await.0.contains(&narrowed));
    let pulled = app.data(pulls, json!({})).await;
    assert!(offered(&pulled, "social", &narrowed), "{pulled}");
    assert!(!offered(&pulled, "cases", &narrowed), "{pulled}");
    assert!(!offered(&pulled, "page", &narrowed), "{pulled}");

    // Scopes that share no channel: offered nowhere until the next publish.
    let changed = edit_frame(&app, &editor, &narrowed, |f| f["releaseChannels"] = json!(["sales-decks"])).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    assert!(!channel_urls(&app, "social-posts").await.0.contains(&narrowed));
    assert!(!channel_urls(&app, "sales-decks").await.0.contains(&narrowed));

    // Widening (here: back to every channel) waits for the publish, like a loosened release.
    let changed = edit_frame(&app, &editor, &narrowed, |f| f["releaseChannels"] = json!([])).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    assert!(!page_urls(&app.data(&page_query(), json!({})).await).contains(&narrowed));
    let publisher = app.token("scope-publisher", Role::Publisher).await;
    let (record, _) = frames(&app, &publisher).await;
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishProofRecord(id: $id, expectedVersion: $v) { version } }",
        json!({ "id": record["id"], "v": record["version"] }),
    )
    .await;
    assert!(page_urls(&app.data(&page_query(), json!({})).await).contains(&narrowed));
    assert!(channel_urls(&app, "case-studies").await.0.contains(&narrowed));

    // A channel a scope names cannot be deleted: the scope would widen to every channel.
    let admin = app.token("scope-admin", Role::Admin).await;
    let channel = app.data("{ reuseChannel(slug: \"case-studies\") { version } }", json!({})).await;
    let delete = "mutation($v: Int!) { deleteReuseChannel(slug: \"case-studies\", expectedVersion: $v) }";
    let refused = app.graphql_as(&admin, delete, json!({ "v": channel["reuseChannel"]["version"] })).await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert!(channel_urls(&app, "case-studies").await.0.contains(&case_study_only));

    // An unknown channel is bad input naming the frame's field; nothing is written.
    let refused = edit_frame(&app, &editor, &narrowed, |f| f["releaseChannels"] = json!(["billboards"])).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "assets[2].releaseChannels", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("billboards"));
    let refused = edit_frame(&app, &editor, &narrowed, |f| f["releaseExpiresAt"] = json!("0000-06-01T00:00:00Z")).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "assets[2].releaseExpiresAt", "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_change_is_audited_with_who_when_from_to_and_why() {
    let app = TestApp::with_demo().await;
    let editor = app.token("rights-clerk", Role::Editor).await;
    let admin = app.token("rights-admin", Role::Admin).await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let changed = edit_frame(&app, &editor, &frame_url(1), |f| {
        f["release"] = json!("DENIED");
        f["releaseExpiresAt"] = json!("2027-06-30T00:00:00Z");
        f["releaseChannels"] = json!(["case-studies", "social-posts"]);
        f["releaseReason"] = json!("Roaster asked us to stop using the frame");
    })
    .await;
    assert!(changed.get("errors").is_none(), "{changed}");
    // A change that leaves every release alone records none.
    let unchanged = edit_frame(&app, &editor, &frame_url(2), |f| f["caption"] = json!("A new caption")).await;
    assert!(unchanged.get("errors").is_none(), "{unchanged}");

    let log = app
        .data_as(
            &admin,
            "{ auditLog(first: 20) { edges { node { tokenName action entityType entityId createdAt detail } } } }",
            json!({}),
        )
        .await;
    let entries: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "releaseChanged")
        .collect();
    assert_eq!(entries.len(), 1, "{log}");
    let entry = entries[0];
    assert_eq!(entry["tokenName"], "rights-clerk");
    assert_eq!(entry["entityType"], "Asset");
    let when: chrono::DateTime<chrono::Utc> = entry["createdAt"].as_str().unwrap().parse().unwrap();
    assert!(when >= started && when <= chrono::Utc::now());
    let detail = &entry["detail"];
    assert_eq!(detail["from"], json!({ "release": "CLEARED", "expiresAt": "2030-12-31T00:00:00Z", "channels": [] }));
    assert_eq!(
        detail["to"],
        json!({ "release": "DENIED", "expiresAt": "2027-06-30T00:00:00Z", "channels": ["case-studies", "social-posts"] })
    );
    assert_eq!(detail["reason"], "Roaster asked us to stop using the frame");
    assert_eq!(detail["position"], 0);
    // The entity is the frame, under the id the API gives it.
    let ids = app
        .data_as(&editor, &format!(r#"{{ proofRecord(slug: "{ORIGINAL_SLUG}") {{ assets {{ id }} }} }}"#), json!({}))
        .await;
    use base64::Engine;
    let global = format!("Asset:{}", entry["entityId"].as_str().unwrap());
    assert_eq!(ids["proofRecord"]["assets"][0]["id"], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(global));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_can_chase_pending_denied_and_expiring_releases() {
    let app = TestApp::with_demo().await;
    let fields = "release releaseExpiresAt credit expired asset { url caption } proofRecord { slug title }";
    let query = format!("{{ releaseChase {{ {fields} }} }}");
    let within = format!("query($days: Int!) {{ releaseChase(withinDays: $days) {{ {fields} }} }}");
    let refused = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    let preview = app.token("chase-preview", Role::Preview).await;
    assert_eq!(error_code(&app.graphql_as(&preview, &query, json!({})).await), "FORBIDDEN");

    let editor = app.token("chaser", Role::Editor).await;
    let chase = |days: Option<i64>| {
        let (app, editor, query, within) = (&app, editor.clone(), query.clone(), within.clone());
        async move {
            let data = match days {
                None => app.data_as(&editor, &query, json!({})).await,
                Some(days) => app.data_as(&editor, &within, json!({ "days": days })).await,
            };
            data["releaseChase"].as_array().unwrap().clone()
        }
    };
    let soon = chase(None).await;
    let listed: Vec<(&str, &str)> =
        soon.iter().map(|f| (f["asset"]["url"].as_str().unwrap(), f["release"].as_str().unwrap())).collect();
    let (pending, denied) = (frame_url(4), frame_url(5));
    assert!(listed.contains(&(pending.as_str(), "PENDING")), "{listed:?}");
    assert!(listed.contains(&(denied.as_str(), "DENIED")), "{listed:?}");
    assert!(!listed.iter().any(|(url, _)| *url == frame_url(1)), "frame 1 expires in 2030: not within 14 days");
    let first = &soon[0];
    assert_eq!(first["proofRecord"]["slug"], ORIGINAL_SLUG);
    assert_eq!(first["credit"], "Demo Studio (demo)");

    // Frame 1's release runs to the end of 2030: within ten years it is due for chasing, soonest expiry first.
    let later = chase(Some(3650)).await;
    assert_eq!(later[0]["asset"]["url"], frame_url(1), "{later:?}");
    assert_eq!(later[0]["releaseExpiresAt"], "2030-12-31T00:00:00+00:00");
    assert_eq!(later[0]["expired"], false);

    let bad = app.graphql_as(&editor, &within, json!({ "days": -1 })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "withinDays");
}

/// JSON-LD is markup pasted into pages: a cached copy ends at the earliest expiry it shows, and even a preview
/// token's copy holds only frames the public page may show (unexpired, scoped to the page if at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_ld_drops_a_lapsed_frame_from_its_cached_copy_and_never_shows_scoped_ones() {
    let app = TestApp::with_demo().await;
    let editor = app.token("jsonld-editor", Role::Editor).await;
    let preview = app.token("jsonld-preview", Role::Preview).await;
    let scoped = frame_url(8);
    let get = |token: Option<String>| {
        let mut request = axum::http::Request::get(format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld"));
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        app.request(request.body(axum::body::Body::empty()).unwrap())
    };
    let shown = get(Some(preview.clone())).await;
    assert!(!shown.body.contains(&scoped), "a frame scoped to case studies is not page markup: {}", shown.body);

    let lapsing = frame_url(3);
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let at = chrono::DateTime::from_timestamp(at.timestamp() + 1, 0).unwrap();
    let changed = edit_frame(&app, &editor, &lapsing, |f| f["releaseExpiresAt"] = json!(at.to_rfc3339())).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    let before = get(None).await;
    assert!(before.body.contains(&lapsing), "public until it lapses: {}", before.body);
    // A hit runs no SQL (the cache starts serving once it has read the generation, so retry).
    let mut cached = false;
    for _ in 0..20 {
        let (again, statements) = app.count_statements(get(None)).await;
        assert!(again.body.contains(&lapsing));
        if statements == 0 {
            cached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cached, "the JSON-LD was served from the cache");

    while chrono::Utc::now() <= at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = get(None).await;
    assert!(!after.body.contains(&lapsing), "the cached JSON-LD kept a lapsed frame: {}", after.body);
    assert_ne!(after.headers.get("etag"), before.headers.get("etag"));
    let previewed = get(Some(preview)).await;
    assert!(!previewed.body.contains(&lapsing), "a lapsed frame is not page markup, even in preview");
}
