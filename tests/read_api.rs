//! The public read API against the demo set: every query of the contract.

mod common;

use common::{ORIGINAL_SLUG, TestApp, error_code};
use serde_json::{Value, json};

fn titles(connection: &Value) -> Vec<String> {
    connection["edges"].as_array().unwrap().iter().map(|e| e["node"]["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_article_page_has_its_proof_record_cleared_frames_and_questions() {
    let app = TestApp::with_demo().await;
    let data = app
        .data(
            r#"query($slug: String!) { article(slug: $slug) {
                title collection { slug }
                questions { question }
                relatedArticles { slug title }
                proofRecord {
                  slug client deliverable problemSolved capturedOn location status
                  observations { kind title detail position }
                  constraints: observations(kind: CONSTRAINT) { title }
                  assets { url kind release shows caption }
                  channels { slug }
                  snippets(channel: "social-posts") { body charCount channel { slug maxChars } }
                  articles { slug }
                }
            } }"#,
            json!({ "slug": ORIGINAL_SLUG }),
        )
        .await;
    let a = &data["article"];
    assert_eq!(a["questions"].as_array().unwrap().len(), 3);
    assert_eq!(a["relatedArticles"], json!([{ "slug": "website-direction", "title": "Website Direction" }]));
    let pr = &a["proofRecord"];
    assert_eq!(pr["status"], "PUBLISHED");
    assert_eq!(pr["capturedOn"], "2026-03-14");
    assert_eq!(pr["observations"].as_array().unwrap().len(), 8);
    assert_eq!(pr["constraints"], json!([{ "title": "Roaster could not stop" }]));
    let releases: Vec<&str> = pr["assets"].as_array().unwrap().iter().map(|x| x["release"].as_str().unwrap()).collect();
    assert_eq!(releases, vec!["CLEARED", "NOT_REQUIRED", "CLEARED", "CLEARED"]);
    assert_eq!(pr["assets"][3]["kind"], "VIDEO");
    assert_eq!(pr["assets"][0]["shows"], json!(["PEOPLE", "DECISION"]));
    assert_eq!(pr["channels"].as_array().unwrap().len(), 6);
    assert_eq!(pr["snippets"].as_array().unwrap().len(), 2);
    assert_eq!(pr["articles"], json!([{ "slug": ORIGINAL_SLUG }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_paginate_forwards_and_backwards_with_total_count() {
    let app = TestApp::with_demo().await;
    let query = r#"query($first: Int, $after: String, $last: Int, $before: String) {
        articles(first: $first, after: $after, last: $last, before: $before, orderBy: { field: TITLE, direction: ASC }) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { title } }
        } }"#;
    let all = app.data(query, json!({ "first": 100 })).await;
    let all_titles = titles(&all["articles"]);
    assert_eq!(all["articles"]["totalCount"], 14);
    assert_eq!(all_titles.len(), 14);
    let mut sorted = all_titles.clone();
    sorted.sort();
    assert_eq!(all_titles, sorted);
    assert_eq!(all["articles"]["pageInfo"]["hasNextPage"], false);

    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.data(query, json!({ "first": 5, "after": after })).await;
        walked.extend(titles(&page["articles"]));
        assert_eq!(page["articles"]["pageInfo"]["hasPreviousPage"], after.is_some());
        if page["articles"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["articles"]["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(walked, all_titles);

    let tail = app.data(query, json!({ "last": 3 })).await;
    assert_eq!(titles(&tail["articles"]), all_titles[11..].to_vec());
    assert_eq!(tail["articles"]["pageInfo"]["hasPreviousPage"], true);
    let before = tail["articles"]["pageInfo"]["startCursor"].as_str().unwrap().to_string();
    let prev = app.data(query, json!({ "last": 3, "before": before })).await;
    assert_eq!(titles(&prev["articles"]), all_titles[8..11].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_filter_by_collection_text_and_publish_date_and_order_by_date() {
    let app = TestApp::with_demo().await;
    let q = r#"query($filter: ArticleFilter) { articles(first: 100, filter: $filter) { totalCount edges { node { slug publishedAt } } } }"#;
    let by_collection = app.data(q, json!({ "filter": { "collection": "proof" } })).await;
    assert_eq!(by_collection["articles"]["totalCount"], 14);
    let none = app.data(q, json!({ "filter": { "collection": "no-such-shelf" } })).await;
    assert_eq!(none["articles"]["totalCount"], 0);

    let text = app.data(q, json!({ "filter": { "text": "roastery" } })).await;
    assert_eq!(text["articles"]["totalCount"], 0, "proof record text is not article text");
    let text = app.data(q, json!({ "filter": { "text": "homepage decision" } })).await;
    assert_eq!(text["articles"]["edges"][0]["node"]["slug"], "website-direction");
    assert_eq!(text["articles"]["totalCount"], 1);

    let newest_first = app.data(q, json!({})).await;
    let dates: Vec<String> = newest_first["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["publishedAt"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    let future = app.data(q, json!({ "filter": { "publishedAfter": "2100-01-01T00:00:00Z" } })).await;
    assert_eq!(future["articles"]["totalCount"], 0);
    let past = app.data(q, json!({ "filter": { "publishedBefore": "2100-01-01T00:00:00Z", "publishedAfter": "2000-01-01T00:00:00Z" } })).await;
    assert_eq!(past["articles"]["totalCount"], 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_records_collections_channels_questions_and_snippets() {
    let app = TestApp::with_demo().await;
    let data = app
        .data(
            r#"{
              proofRecords(first: 10, orderBy: { field: TITLE, direction: ASC }) { totalCount edges { node { slug } } }
              social: proofRecords(filter: { channel: "social-posts" }) { totalCount }
              proofRecord(slug: "website-direction") { client }
              collections { slug name description articles(first: 2) { totalCount edges { node { slug } } } }
              collection(slug: "proof") { name }
              reuseChannels { slug maxChars }
              reuseChannel(slug: "social-posts") {
                name
                proofRecords { totalCount }
                assets(first: 100) { totalCount edges { node { release } } }
                snippets { totalCount edges { node { body charCount } } }
              }
              questions(first: 2, filter: { article: "behind-the-scenes-production-as-brand-proof" }) {
                totalCount edges { node { position question article { slug } } }
              }
              proofSnippets(channel: "sales-decks") { totalCount edges { node { body proofRecord { slug } article { slug } channel { slug } } } }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["proofRecords"]["totalCount"], 2);
    assert_eq!(data["social"]["totalCount"], 1);
    assert_eq!(data["proofRecord"]["client"], "Harbor Outfitters (demo)");
    assert_eq!(data["collections"][0]["slug"], "proof");
    assert_eq!(data["collections"][0]["articles"]["totalCount"], 14);
    assert_eq!(data["collection"]["name"], "Proof");
    let channels: Vec<&str> =
        data["reuseChannels"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(
        channels,
        vec!["case-studies", "social-posts", "sales-decks", "hiring-materials", "launch-recaps", "proof-pages"]
    );
    let social = &data["reuseChannel"];
    assert_eq!(social["proofRecords"]["totalCount"], 1);
    assert_eq!(social["assets"]["totalCount"], 4);
    assert_eq!(social["snippets"]["totalCount"], 2, "the draft snippet is not offered");
    assert_eq!(data["questions"]["totalCount"], 3);
    assert_eq!(data["questions"]["edges"][1]["node"]["position"], 1);
    assert_eq!(data["proofSnippets"]["totalCount"], 1);
    assert_eq!(data["proofSnippets"]["edges"][0]["node"]["proofRecord"]["slug"], ORIGINAL_SLUG);
    assert_eq!(data["proofSnippets"]["edges"][0]["node"]["article"]["slug"], ORIGINAL_SLUG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_articles_proof_records_and_questions() {
    let app = TestApp::with_demo().await;
    let q = r#"query($q: String!, $first: Int) { search(query: $q, first: $first) {
        __typename ... on Article { slug } ... on ProofRecord { slug } ... on Question { question } } }"#;
    let hits = app.data(q, json!({ "q": "behind-the-scenes" })).await;
    let hits = hits["search"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits[0]["__typename"], "Article");
    assert_eq!(hits[0]["slug"], ORIGINAL_SLUG, "the title match ranks first");

    let hits = app.data(q, json!({ "q": "roastery" })).await;
    assert_eq!(hits["search"][0]["__typename"], "ProofRecord");

    let hits = app.data(q, json!({ "q": "where reused" })).await;
    assert_eq!(hits["search"][0], json!({ "__typename": "Question", "question": "Where can BTS content be reused?" }));

    let hits = app.data(q, json!({ "q": "proof", "first": 3 })).await;
    assert_eq!(hits["search"].as_array().unwrap().len(), 3);

    // Operators and quotes are plain words, never syntax errors.
    let hits = app.data(q, json!({ "q": "\"filler\" OR (NEAR* -" })).await;
    assert!(hits["search"].is_array());
    let body = app.graphql(q, json!({ "q": "   " })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql(q, json!({ "q": "proof", "first": 101 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_fetches_every_type_by_its_global_id() {
    let app = TestApp::with_demo().await;
    let ids = app
        .data(
            r#"{ article(slug: "website-direction") { id proofRecord { id assets { id } snippets { id } } questions { id } collection { id } }
                 reuseChannel(slug: "social-posts") { id } }"#,
            json!({}),
        )
        .await;
    let a = &ids["article"];
    for (id, typename) in [
        (&a["id"], "Article"),
        (&a["proofRecord"]["id"], "ProofRecord"),
        (&a["proofRecord"]["assets"][0]["id"], "Asset"),
        (&a["questions"][0]["id"], "Question"),
        (&a["collection"]["id"], "Collection"),
        (&ids["reuseChannel"]["id"], "ReuseChannel"),
    ] {
        let node = app.data("query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": id })).await;
        assert_eq!(node["node"]["__typename"], typename);
        assert_eq!(&node["node"]["id"], id);
    }
    let snippet_id =
        app.data("{ proofSnippets(channel: \"social-posts\") { edges { node { id } } } }", json!({})).await;
    let id = &snippet_id["proofSnippets"]["edges"][0]["node"]["id"];
    let node = app.data("query($id: ID!) { node(id: $id) { __typename } }", json!({ "id": id })).await;
    assert_eq!(node["node"]["__typename"], "ProofSnippet");

    let body = app.graphql("{ node(id: \"not-an-id!\") { id } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_stable_codes_and_unknown_slugs_are_null() {
    let app = TestApp::with_demo().await;
    let body = app.graphql("{ articles(first: 101) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("first"));
    let body = app.graphql("{ articles(first: -1) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql("{ articles(last: 500) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql("{ articles(after: \"garbage\") { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    let body = app.graphql("{ proofSnippets(channel: \"fax\") { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let data = app
        .data(
            "{ article(slug: \"nope\") { id } proofRecord(slug: \"nope\") { id } collection(slug: \"nope\") { id } reuseChannel(slug: \"nope\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(data, json!({ "article": null, "proofRecord": null, "collection": null, "reuseChannel": null }));
    let body = app.graphql("{ article { id } }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}
