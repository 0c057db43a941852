//! The JSON API under /api/v1: the same content as GraphQL for the same entity, the same visibility (no
//! draft, scheduled or archived content, no PENDING or DENIED frame without a token), paging by Link and
//! nextCursor, ETag/304, problem+json errors with GraphQL's codes, and list routes whose SQL does not
//! grow with the page size.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::service::token::Role;
use common::{HttpResponse, ORIGINAL_SLUG, TestApp, page};
use serde_json::{Value, json};

async fn get(app: &TestApp, uri: &str) -> HttpResponse {
    app.request(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

async fn get_as(app: &TestApp, token: &str, uri: &str) -> HttpResponse {
    get_with(app, uri, &[("authorization", &format!("Bearer {token}"))]).await
}

/// A 200 JSON body.
async fn body(app: &TestApp, uri: &str) -> Value {
    let response = get(app, uri).await;
    assert_eq!(response.status, StatusCode::OK, "{uri}: {}", response.body);
    response.json()
}

/// GraphQL's connection shape as the REST one, written independently of the server's reshaping.
fn as_rest(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("nodes") => {
            let info = map.get("pageInfo").cloned().unwrap_or_default();
            let next = if info["hasNextPage"] == json!(true) { info["endCursor"].clone() } else { Value::Null };
            let mut out = json!({ "items": as_rest(&map["nodes"]), "nextCursor": next });
            if let Some(total) = map.get("totalCount") {
                out["totalCount"] = total.clone();
            }
            out
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), as_rest(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(as_rest).collect()),
        other => other.clone(),
    }
}

/// Every field GraphQL answered is in the REST body with the same value; lists in the same order.
fn assert_same(graphql: &Value, rest: &Value, at: &str) {
    match (graphql, rest) {
        (Value::Object(g), Value::Object(r)) => {
            for (key, value) in g {
                let Some(other) = r.get(key) else { panic!("{at}.{key}: missing from REST: {rest:#}") };
                assert_same(value, other, &format!("{at}.{key}"));
            }
        }
        (Value::Array(g), Value::Array(r)) => {
            assert_eq!(g.len(), r.len(), "{at}: list lengths differ");
            for (i, (g, r)) in g.iter().zip(r).enumerate() {
                assert_same(g, r, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(graphql, rest, "{at}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_what_graphql_answers() {
    let app = TestApp::with_demo().await;
    let some_id =
        app.data(&format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ id }} }}"), json!({})).await["article"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let article = format!("/api/v1/articles/{ORIGINAL_SLUG}");
    let record = format!("/api/v1/proof-records/{ORIGINAL_SLUG}");
    let cases: Vec<(String, String, &str)> = vec![
        (
            "/api/v1/articles?limit=5".into(),
            "{ r: articles(first: 5) { totalCount pageInfo { hasNextPage endCursor } nodes { id slug title thesis publishedAt collection { slug } } } }".into(),
            "r",
        ),
        (
            "/api/v1/articles?collection=proof&order=title&limit=3".into(),
            "{ r: articles(first: 3, filter: { collection: \"proof\" }, orderBy: { field: TITLE, direction: ASC }) { totalCount pageInfo { hasNextPage endCursor } nodes { slug title } } }".into(),
            "r",
        ),
        (
            "/api/v1/articles?q=roaster&publishedAfter=2000-01-01T00:00:00Z".into(),
            "{ r: articles(first: 20, filter: { text: \"roaster\", publishedAfter: \"2000-01-01T00:00:00Z\" }) { totalCount nodes { slug } } }".into(),
            "r",
        ),
        (
            article.clone(),
            format!("{{ r: article(slug: \"{ORIGINAL_SLUG}\") {{ id slug title thesis point audience {{ summary roles readerNeed }} \
             sections {{ position heading body paragraphs }} questions {{ id position question answer }} collection {{ slug name }} \
             proofRecord {{ slug client observations {{ kind title detail position }} assets {{ id url release caption credit width height }} \
             snippets {{ body }} }} relatedArticles {{ slug title }} relatedLinks {{ title slug }} status publishedAt updatedAt version }} }}"),
            "r",
        ),
        (format!("{article}/jsonld"), format!("{{ r: article(slug: \"{ORIGINAL_SLUG}\") {{ jsonLd }} }}"), "r.jsonLd"),
        (
            "/api/v1/proof-records".into(),
            "{ r: proofRecords(first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id slug title client } } }".into(),
            "r",
        ),
        (
            record,
            format!("{{ r: proofRecord(slug: \"{ORIGINAL_SLUG}\") {{ id title deliverable observations {{ kind title detail }} assets {{ url release }} channels {{ slug }} snippets {{ body charCount }} articles {{ slug }} }} }}"),
            "r",
        ),
        ("/api/v1/collections".into(), "{ r: collections { id slug name description } }".into(), "r.items"),
        (
            "/api/v1/collections/proof?limit=4".into(),
            "{ r: collection(slug: \"proof\") { id slug name articles(first: 4) { totalCount pageInfo { hasNextPage endCursor } nodes { slug title } } } }".into(),
            "r",
        ),
        ("/api/v1/reuse-channels".into(), "{ r: reuseChannels { id slug name maxChars } }".into(), "r.items"),
        ("/api/v1/reuse-channels/social-posts".into(), "{ r: reuseChannel(slug: \"social-posts\") { id slug name description maxChars } }".into(), "r"),
        (
            "/api/v1/reuse-channels/social-posts/snippets?limit=1".into(),
            "{ r: reuseChannel(slug: \"social-posts\") { snippets(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { id body charCount proofRecord { slug } } } } }".into(),
            "r.snippets",
        ),
        (
            "/api/v1/reuse-channels/social-posts/assets?limit=2".into(),
            "{ r: reuseChannel(slug: \"social-posts\") { assets(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { id url caption credit release } } } }".into(),
            "r.assets",
        ),
        (
            format!("/api/v1/questions?article={ORIGINAL_SLUG}"),
            format!("{{ r: questions(first: 20, filter: {{ article: \"{ORIGINAL_SLUG}\" }}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ id position question answer article {{ slug }} }} }} }}"),
            "r",
        ),
        (
            "/api/v1/search?q=roast".into(),
            "{ r: search(query: \"roast\") { __typename ... on Article { slug title } ... on ProofRecord { slug title } ... on Question { question answer } } }".into(),
            "r.items",
        ),
        (
            format!("/api/v1/nodes/{some_id}"),
            format!("{{ r: node(id: \"{some_id}\") {{ __typename id ... on Article {{ slug title thesis }} }} }}"),
            "r",
        ),
    ];
    for (uri, query, at) in &cases {
        let data = app.data(query, json!({})).await;
        let expected = as_rest(&data["r"]);
        let expected = match at.split_once('.') {
            Some((_, "items")) => json!({ "items": expected }),
            Some((_, field)) => expected[field].clone(),
            None => expected,
        };
        assert_ne!(expected, Value::Null, "{query}");
        assert_same(&expected, &body(&app, uri).await, uri);
    }
    // Every route is covered above.
    for route in backlot::http::rest::routes::ROUTES {
        let prefix = route.path.split('{').next().unwrap();
        let suffix = route.path.rsplit('}').next().unwrap();
        let covered = cases.iter().any(|(uri, _, _)| {
            let path = uri.split('?').next().unwrap();
            if route.path.contains('{') {
                path.starts_with(prefix)
                    && path.ends_with(suffix)
                    && path.len() > prefix.len() + suffix.len()
                    && !path[prefix.len()..path.len() - suffix.len()].contains('/')
            } else {
                path == route.path
            }
        });
        assert!(covered, "{} has no parity case", route.path);
    }
    // The article body has GraphQL's field order, and its sections and questions the page's order.
    let raw = get(&app, &article).await.body;
    let positions: Vec<usize> = ["\"id\"", "\"slug\"", "\"title\"", "\"thesis\"", "\"sections\"", "\"questions\""]
        .iter()
        .map(|k| raw.find(k).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "fields out of GraphQL's order: {raw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_unpublished_is_reachable_over_rest() {
    let app = TestApp::with_demo().await;
    let admin = app.token("admin", Role::Admin).await;
    let ids = common::unpublished_fixtures(&app, &admin).await;
    let hidden = [
        "/api/v1/articles/draft-zebrafish".to_string(),
        "/api/v1/articles/scheduled-quokka".into(),
        "/api/v1/articles/archived-narwhal".into(),
        "/api/v1/articles/draft-zebrafish/jsonld".into(),
        "/api/v1/proof-records/pelican-record".into(),
    ]
    .into_iter()
    .chain(ids.iter().map(|id| format!("/api/v1/nodes/{}", id.as_str().unwrap())));
    for uri in hidden {
        let response = get(&app, &uri).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{uri} leaked: {}", response.body);
        assert_eq!(response.json()["code"], "NOT_FOUND");
    }
    let mut seen = String::new();
    let mut public = |body: Value| {
        seen.push_str(&body.to_string());
        body
    };
    let articles = public(body(&app, "/api/v1/articles?limit=100").await);
    assert_eq!(articles["totalCount"], 14);
    assert_eq!(
        public(body(&app, "/api/v1/articles?order=title&limit=1").await)["items"][0]["title"],
        "Behind-the-Scenes Production as Brand Proof"
    );
    assert_eq!(public(body(&app, "/api/v1/articles?q=axolotl").await)["totalCount"], 0);
    let original = public(body(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}")).await);
    assert_eq!(original["title"], "Behind-the-Scenes Production as Brand Proof", "the unpublished retitle leaked");
    assert_eq!(original["relatedArticles"].as_array().unwrap().len(), 1);
    let releases: Vec<&str> =
        original["proofRecord"]["assets"].as_array().unwrap().iter().map(|a| a["release"].as_str().unwrap()).collect();
    assert_eq!(releases, ["CLEARED", "NOT_REQUIRED", "CLEARED", "CLEARED"], "a PENDING or DENIED frame leaked");
    let jsonld = public(body(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld")).await);
    assert!(!jsonld.to_string().contains("Café guests") && !jsonld.to_string().contains("Delivery driver"));
    assert_eq!(public(body(&app, "/api/v1/collections/proof?limit=100").await)["articles"]["totalCount"], 14);
    assert_eq!(public(body(&app, "/api/v1/proof-records").await)["totalCount"], 2);
    public(body(&app, &format!("/api/v1/proof-records/{ORIGINAL_SLUG}")).await);
    public(body(&app, "/api/v1/questions?limit=100").await);
    assert_eq!(public(body(&app, "/api/v1/questions?q=secret").await)["totalCount"], 0);
    public(body(&app, "/api/v1/collections").await);
    public(body(&app, "/api/v1/reuse-channels").await);
    public(body(&app, "/api/v1/reuse-channels/social-posts").await);
    assert_eq!(public(body(&app, "/api/v1/reuse-channels/social-posts/assets?limit=100").await)["totalCount"], 4);
    assert_eq!(public(body(&app, "/api/v1/reuse-channels/social-posts/snippets?limit=100").await)["totalCount"], 2);
    for word in ["zebrafish", "quokka", "narwhal", "axolotl", "pelican", "secret"] {
        assert_eq!(public(body(&app, &format!("/api/v1/search?q={word}")).await)["items"], json!([]), "{word} found");
    }
    for word in [
        "zebrafish",
        "quokka",
        "narwhal",
        "axolotl",
        "pelican",
        "walrus",
        "Zebrafish",
        "Quokka",
        "Narwhal",
        "Café guests",
        "Delivery driver",
    ] {
        assert!(!seen.contains(word), "{word} leaked over REST");
    }

    // A preview token sees the drafts, privately, and never from or into the shared cache.
    let preview = app.token("preview", Role::Preview).await;
    let draft = get_as(&app, &preview, "/api/v1/articles/draft-zebrafish").await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert_eq!(draft.json()["status"], "DRAFT");
    assert_eq!(draft.headers["cache-control"], "private, no-store");
    assert!(draft.headers.get("etag").is_none(), "a token's answer is never cached");
    let snippets = get_as(&app, &preview, "/api/v1/reuse-channels/social-posts/snippets?limit=100").await;
    assert_eq!(snippets.json()["totalCount"], 5);
    assert_eq!(snippets.headers["cache-control"], "private, no-store");
    // Even a preview never puts an unreleased frame into a page's structured data.
    let jsonld = get_as(&app, &preview, &format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld")).await.body;
    assert!(!jsonld.contains("Café guests") && !jsonld.contains("Delivery driver"), "{jsonld}");
    // And the anonymous answer after it is still the public one.
    assert_eq!(get(&app, "/api/v1/articles/draft-zebrafish").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_and_next_cursor_walk_every_item_once() {
    let app = TestApp::with_demo().await;
    let all = app.data("{ articles(first: 100) { nodes { slug } } }", json!({})).await;
    let all: Vec<String> =
        all["articles"]["nodes"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_string()).collect();
    for (first, field) in [("/api/v1/articles?limit=3", None), ("/api/v1/collections/proof?limit=4", Some("articles"))]
    {
        let mut uri = first.to_string();
        let mut walked = Vec::new();
        let mut pages = 0;
        loop {
            let response = get(&app, &uri).await;
            assert_eq!(response.status, StatusCode::OK, "{uri}: {}", response.body);
            let body = response.json();
            let body = match field {
                Some(f) => body[f].clone(),
                None => body,
            };
            walked.extend(body["items"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_string()));
            pages += 1;
            let link = response.headers.get("link").map(|l| l.to_str().unwrap().to_string());
            match (&body["nextCursor"], link) {
                (Value::Null, None) => break,
                (Value::String(cursor), Some(link)) => {
                    assert!(link.ends_with(">; rel=\"next\""), "{link}");
                    let next = link.trim_start_matches('<').split('>').next().unwrap().to_string();
                    let encoded: String = cursor
                        .bytes()
                        .map(|b| {
                            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                                (b as char).to_string()
                            } else {
                                format!("%{b:02X}")
                            }
                        })
                        .collect();
                    assert!(next.contains(&format!("after={encoded}")), "{next} does not continue after {cursor}");
                    uri = next;
                }
                (cursor, link) => panic!("nextCursor {cursor} and Link {link:?} disagree"),
            }
        }
        assert_eq!(walked, all, "{first} walked the list differently");
        assert!(pages >= 4, "{first}: {pages} pages");
    }
    // The snippets and frames of a channel, one per page.
    for (uri, total) in [
        ("/api/v1/reuse-channels/social-posts/snippets?limit=1", 2),
        ("/api/v1/reuse-channels/social-posts/assets?limit=1", 4),
    ] {
        let mut next = Some(uri.to_string());
        let mut ids = Vec::new();
        while let Some(uri) = next {
            let body = body(&app, &uri).await;
            ids.extend(body["items"].as_array().unwrap().iter().map(|n| n["id"].clone()));
            next = body["nextCursor"].as_str().map(|c| format!("{}&after={}", uri.split("&after=").next().unwrap(), c));
        }
        ids.dedup();
        assert_eq!(ids.len(), total, "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_answers_carry_etags_and_answer_304() {
    let app = TestApp::with_demo().await;
    let uri = format!("/api/v1/articles/{ORIGINAL_SLUG}");
    // The cache starts once it knows the content generation (its first poll).
    let mut etag = None;
    for _ in 0..50 {
        if let Some(tag) = get(&app, &uri).await.headers.get("etag") {
            etag = Some(tag.to_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let etag = etag.expect("an ETag");
    let mut not_modified = false;
    for _ in 0..20 {
        // Writes by parallel tests in this process invalidate entries; the ETag of equal content is equal.
        let response = get_with(&app, &uri, &[("if-none-match", &etag)]).await;
        if response.status == StatusCode::NOT_MODIFIED {
            assert!(response.body.is_empty());
            not_modified = true;
            break;
        }
        assert_eq!(response.status, StatusCode::OK);
    }
    assert!(not_modified, "If-None-Match with the current ETag is a 304");
    let changed = get_with(&app, &uri, &[("if-none-match", "\"0000000000000000\"")]).await;
    assert_eq!(changed.status, StatusCode::OK);
    let listed = get(&app, "/api/v1/articles?limit=2").await;
    assert!(listed.headers.get("link").is_some(), "a cached page keeps its Link header");
    let again = get(&app, "/api/v1/articles?limit=2").await;
    assert_eq!(again.headers.get("link"), listed.headers.get("link"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_problem_json_with_graphql_codes() {
    let app = TestApp::with_demo().await;
    let cases = [
        ("/api/v1/articles/no-such-page", 404, "NOT_FOUND", "article"),
        ("/api/v1/reuse-channels/nope/snippets", 404, "NOT_FOUND", "reuse channel"),
        // A well-formed global ID of nothing is a 404; one this API never issued is bad input, as in GraphQL.
        ("/api/v1/nodes/QXJ0aWNsZTpub3Bl", 404, "NOT_FOUND", "node"),
        ("/api/v1/nodes/bm9wZQ", 400, "BAD_USER_INPUT", "id"),
        ("/api/v1/articles?limit=0", 400, "BAD_USER_INPUT", "limit"),
        ("/api/v1/articles?limit=101", 400, "BAD_USER_INPUT", "limit"),
        ("/api/v1/articles?limit=ten", 400, "BAD_USER_INPUT", "limit"),
        ("/api/v1/articles?after=not-a-cursor", 400, "BAD_USER_INPUT", "after"),
        ("/api/v1/questions?after=not-a-cursor", 400, "BAD_USER_INPUT", "after"),
        ("/api/v1/articles?publishedAfter=yesterday", 400, "BAD_USER_INPUT", "publishedAfter"),
        ("/api/v1/articles?order=random", 400, "BAD_USER_INPUT", "order"),
        ("/api/v1/articles?limit=2&limit=3", 400, "BAD_USER_INPUT", "limit"),
        ("/api/v1/articles?colection=proof", 400, "BAD_USER_INPUT", "colection"),
        ("/api/v1/search", 400, "BAD_USER_INPUT", "q"),
        // The service names the GraphQL argument (`query`); REST names its own parameter.
        ("/api/v1/search?q=%E2%80%8B", 400, "BAD_USER_INPUT", "q: must contain at least one word"),
        ("/api/v1/no-such-route", 404, "NOT_FOUND", "endpoint"),
        ("/api/v1", 404, "NOT_FOUND", "endpoint"),
    ];
    for (uri, status, code, mentions) in cases {
        let response = get(&app, uri).await;
        assert_eq!(response.status.as_u16(), status, "{uri}: {}", response.body);
        assert_eq!(response.content_type(), "application/problem+json", "{uri}");
        let problem = response.json();
        assert_eq!(problem["code"], code, "{uri}: {problem}");
        assert_eq!(problem["status"], status);
        assert_eq!(problem["type"], "about:blank");
        assert!(problem["title"].is_string());
        assert!(problem["detail"].as_str().unwrap().contains(mentions), "{uri}: {problem}");
    }
    let post = app.request(Request::post("/api/v1/articles").body(Body::empty()).unwrap()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers["allow"], "GET, HEAD");
    assert_eq!(post.content_type(), "application/problem+json");
    // The guards' own refusals are problem+json here too.
    let big = vec![b'x'; backlot::config::ApiSettings::default().max_body_bytes + 1];
    let too_large = app.request(Request::get("/api/v1/articles").body(Body::from(big)).unwrap()).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.content_type(), "application/problem+json");
    assert_eq!(too_large.json()["status"], 413);
    let html = get_with(&app, "/api/v1/articles", &[("accept", "text/html")]).await;
    assert_eq!(html.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(html.content_type(), "application/problem+json");
    let bad_token = get_with(&app, "/api/v1/articles", &[("authorization", "Bearer nope")]).await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_token.json()["code"], "UNAUTHENTICATED");
    assert_eq!(bad_token.headers["www-authenticate"], "Bearer");
    let jsonld =
        get_with(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld"), &[("accept", "application/ld+json")]).await;
    assert_eq!(jsonld.status, StatusCode::OK);
    assert_eq!(jsonld.content_type(), "application/ld+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_routes_run_a_fixed_number_of_statements() {
    let app = TestApp::with_demo().await;
    let dir = app.path("bulk");
    for i in 0..30 {
        app.write_page(&format!("bulk/{i}.txt"), &page(&format!("Bulk Page {i}"), "bulk"));
    }
    app.import_paths(&[&dir], true);
    let routes = [
        "/api/v1/articles",
        "/api/v1/collections/proof",
        "/api/v1/questions",
        "/api/v1/proof-records",
        "/api/v1/reuse-channels/social-posts/snippets",
        "/api/v1/reuse-channels/social-posts/assets",
        "/api/v1/search?q=bulk&x=",
    ];
    for route in routes {
        let (route, sep) = match route.strip_suffix("&x=") {
            Some(r) => (r, "&"),
            None => (route, "?"),
        };
        // Search mixes kinds by rank; 40 hits already hold every kind that 100 do.
        let small_limit = if sep == "&" { 40 } else { 2 };
        let (small, small_count) = app.count_statements(get(&app, &format!("{route}{sep}limit={small_limit}"))).await;
        let (large, large_count) = app.count_statements(get(&app, &format!("{route}{sep}limit=100"))).await;
        assert_eq!(small.status, StatusCode::OK, "{route}: {}", small.body);
        assert_eq!(large.status, StatusCode::OK, "{route}: {}", large.body);
        assert!(small_count > 0 && large_count > 0, "{route}: a fresh key is not served from the cache");
        assert_eq!(small_count, large_count, "{route}: statements grew with the page size");
        assert!(large_count <= 12, "{route} ran {large_count} statements");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_pages_json_ld_holds_its_questions_and_only_cleared_frames() {
    let app = TestApp::with_demo().await;
    let response = get(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.content_type(), "application/ld+json");
    let ld = response.json();
    let graphql = app.data(&format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ jsonLd questions {{ question answer }} proofRecord {{ assets {{ url caption credit width height }} }} }} }}"), json!({})).await;
    assert_eq!(ld, graphql["article"]["jsonLd"], "REST and GraphQL give the same JSON-LD");
    assert_eq!(ld["@context"], "https://schema.org");
    let graph = ld["@graph"].as_array().unwrap();
    let of_type = |t: &str| graph.iter().filter(|n| n["@type"] == t).cloned().collect::<Vec<Value>>();
    let article = &of_type("Article")[0];
    assert_eq!(article["headline"], "Behind-the-Scenes Production as Brand Proof");
    assert!(article["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(article["datePublished"].is_string() && article["dateModified"].is_string());
    assert!(article["isPartOf"]["name"].is_string());
    let faq = of_type("FAQPage");
    assert_eq!(faq.len(), 1);
    let questions = faq[0]["mainEntity"].as_array().unwrap();
    assert_eq!(questions.len(), 3, "the page's three questions");
    for (q, expected) in questions.iter().zip(graphql["article"]["questions"].as_array().unwrap()) {
        assert_eq!(q["@type"], "Question");
        assert_eq!(q["name"], expected["question"]);
        assert_eq!(q["acceptedAnswer"]["@type"], "Answer");
        assert_eq!(q["acceptedAnswer"]["text"], expected["answer"]);
        assert!(!q["acceptedAnswer"]["text"].as_str().unwrap().is_empty());
    }
    let images = of_type("ImageObject");
    let frames = graphql["article"]["proofRecord"]["assets"].as_array().unwrap();
    assert_eq!(images.len(), 4, "frames 1, 2, 3 and 6 are public; 4 is PENDING and 5 DENIED");
    for (image, frame) in images.iter().zip(frames) {
        assert_eq!(image["contentUrl"], frame["url"]);
        assert_eq!(image["caption"], frame["caption"]);
        assert_eq!(image["creditText"], frame["credit"]);
        assert_eq!(image["width"], frame["width"]);
        assert_eq!(image["height"], frame["height"]);
    }
    let text = ld.to_string();
    assert!(!text.contains("Café guests") && !text.contains("Delivery driver"), "an unreleased frame: {text}");
    // Deterministic: the same bytes every time.
    assert_eq!(get(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}/jsonld")).await.body, response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_limits_apply_to_rest() {
    let settings = backlot::config::ApiSettings { max_response_bytes: 2_000, ..Default::default() };
    let app = TestApp::with_settings(settings).await;
    backlot::demo::load(&app.db).await.expect("demo loads").expect("database was empty");
    let response = get(&app, &format!("/api/v1/articles/{ORIGINAL_SLUG}")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    assert_eq!(response.content_type(), "application/problem+json");
    let problem = response.json();
    assert_eq!(problem["code"], "RESPONSE_TOO_LARGE");
    assert!(problem["detail"].as_str().unwrap().contains("2000 bytes"), "{problem}");
    // A small answer still fits.
    assert_eq!(get(&app, "/api/v1/collections").await.status, StatusCode::OK);
}
