//! Bad input gets a clear answer, never INTERNAL_SERVER_ERROR: wrongly typed values for every argument of
//! every root field (found by introspecting the real schema), inline and as variables, and the request
//! errors of the GraphQL-over-HTTP spec.

mod common;

use std::collections::HashMap;

use axum::http::StatusCode;
use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp, error_code};
use serde_json::{Value, json};

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// A type as the schema states it: `[String!]!` and so on.
#[derive(Clone, Debug)]
enum Ty {
    NonNull(Box<Ty>),
    List(Box<Ty>),
    Named(String),
}

impl Ty {
    fn from_json(v: &Value) -> Ty {
        match v["kind"].as_str() {
            Some("NON_NULL") => Ty::NonNull(Box::new(Ty::from_json(&v["ofType"]))),
            Some("LIST") => Ty::List(Box::new(Ty::from_json(&v["ofType"]))),
            _ => Ty::Named(v["name"].as_str().expect("named type").to_string()),
        }
    }
    fn sdl(&self) -> String {
        match self {
            Ty::NonNull(t) => format!("{}!", t.sdl()),
            Ty::List(t) => format!("[{}]", t.sdl()),
            Ty::Named(n) => n.clone(),
        }
    }
    fn named(&self) -> &str {
        match self {
            Ty::NonNull(t) | Ty::List(t) => t.named(),
            Ty::Named(n) => n,
        }
    }
    fn required(&self) -> bool {
        matches!(self, Ty::NonNull(_))
    }
}

struct Arg {
    name: String,
    ty: Ty,
}

struct RootField {
    name: String,
    args: Vec<Arg>,
    /// Whether the field returns an object (so it needs a selection).
    composite: bool,
}

struct Schema {
    query: Vec<RootField>,
    mutation: Vec<RootField>,
    /// Input object name → its fields; enum name → its values.
    inputs: HashMap<String, Vec<Arg>>,
    enums: HashMap<String, Vec<String>>,
}

async fn introspect(app: &TestApp, token: &str) -> Schema {
    let query = format!(
        "{{ __schema {{ queryType {{ name }} mutationType {{ name }} types {{ name kind enumValues {{ name }}
           inputFields {{ name type {{ {TYPE_REF} }} }}
           fields {{ name type {{ {TYPE_REF} }} args {{ name type {{ {TYPE_REF} }} }} }} }} }} }}"
    );
    let data = app.data_as(token, &query, json!({})).await;
    let schema = &data["__schema"];
    let types = schema["types"].as_array().unwrap();
    let kinds: HashMap<&str, &str> =
        types.iter().map(|t| (t["name"].as_str().unwrap(), t["kind"].as_str().unwrap())).collect();
    let args = |list: &Value| -> Vec<Arg> {
        list.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| Arg { name: x["name"].as_str().unwrap().into(), ty: Ty::from_json(&x["type"]) })
                    .collect()
            })
            .unwrap_or_default()
    };
    let root = |name: &str| -> Vec<RootField> {
        let t = types.iter().find(|t| t["name"] == name).expect("root type");
        t["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let ty = Ty::from_json(&f["type"]);
                let composite = matches!(kinds.get(ty.named()), Some(&"OBJECT" | &"UNION" | &"INTERFACE"));
                RootField { name: f["name"].as_str().unwrap().into(), args: args(&f["args"]), composite }
            })
            .collect()
    };
    let mut inputs = HashMap::new();
    let mut enums = HashMap::new();
    for t in types {
        let name = t["name"].as_str().unwrap().to_string();
        match t["kind"].as_str() {
            Some("INPUT_OBJECT") => {
                inputs.insert(name, args(&t["inputFields"]));
            }
            Some("ENUM") => {
                enums.insert(
                    name,
                    t["enumValues"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap().into()).collect(),
                );
            }
            _ => {}
        }
    }
    Schema {
        query: root(schema["queryType"]["name"].as_str().unwrap()),
        mutation: root(schema["mutationType"]["name"].as_str().unwrap()),
        inputs,
        enums,
    }
}

/// A valid literal of `ty`, for the arguments a case does not test.
fn valid(schema: &Schema, ty: &Ty) -> String {
    match ty {
        Ty::NonNull(t) => valid(schema, t),
        Ty::List(t) => format!("[{}]", valid(schema, t)),
        Ty::Named(name) => match name.as_str() {
            "Int" => "1".into(),
            "Float" => "1.0".into(),
            "Boolean" => "true".into(),
            "DateTime" => "\"2030-01-01T00:00:00Z\"".into(),
            _ if schema.enums.contains_key(name) => schema.enums[name][0].clone(),
            _ if schema.inputs.contains_key(name) => {
                let fields: Vec<String> = schema.inputs[name]
                    .iter()
                    .filter(|f| f.ty.required())
                    .map(|f| format!("{}: {}", f.name, valid(schema, &f.ty)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            _ => "\"x\"".into(),
        },
    }
}

/// Values of the wrong type for most types (and odd ones for the rest), as GraphQL literals and as JSON.
fn bad_values() -> Vec<(&'static str, Value)> {
    vec![
        ("\"x\"", json!("x")),
        ("\"\"", json!("")),
        ("5", json!(5)),
        ("-1", json!(-1)),
        ("99999999999", json!(99_999_999_999_i64)),
        ("1.5", json!(1.5)),
        ("true", json!(true)),
        ("TITLE", json!("TITLE")),
        ("NOPE", json!("NOPE")),
        ("{ a: 1 }", json!({ "a": 1 })),
        ("{}", json!({})),
        ("[{ a: 1 }]", json!([{ "a": 1 }])),
        ("null", Value::Null),
        ("\"2030-13-45T99:00:00Z\"", json!("2030-13-45T99:00:00Z")),
    ]
}

/// Sends `query` and checks the answer is a clear one: no 5xx, no INTERNAL_SERVER_ERROR, every error coded.
async fn check(app: &TestApp, token: Option<&str>, query: &str, variables: Value, failures: &mut Vec<String>) {
    let response = match token {
        Some(t) => app.post_as(t, query, variables.clone()).await,
        None => app.post_json(json!({ "query": query, "variables": variables })).await,
    };
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let codes: Vec<String> = body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_string()).collect())
        .unwrap_or_default();
    if response.status.is_server_error()
        || body.is_null()
        || codes.iter().any(|c| c == "INTERNAL_SERVER_ERROR" || c == "<none>")
    {
        failures.push(format!("{query} {variables} -> {} {}", response.status, response.body));
    }
}

/// Every argument of every field in `fields`, with every bad value, inline and as a variable; for input
/// objects, every field of the input too (inline).
async fn fuzz(
    app: &TestApp,
    schema: &Schema,
    fields: &[RootField],
    op: &str,
    token: Option<&str>,
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut sent = 0;
    for field in fields {
        let selection = if field.composite { " { __typename }" } else { "" };
        for (i, arg) in field.args.iter().enumerate() {
            let others = |replacement: String| -> String {
                field
                    .args
                    .iter()
                    .enumerate()
                    .filter_map(|(j, a)| {
                        if j == i {
                            Some(format!("{}: {replacement}", a.name))
                        } else if a.ty.required() {
                            Some(format!("{}: {}", a.name, valid(schema, &a.ty)))
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for (literal, json_value) in bad_values() {
                let inline = format!("{op} {{ {}({}){selection} }}", field.name, others(literal.to_string()));
                check(app, token, &inline, json!({}), &mut failures).await;
                let declared =
                    format!("{op}($v: {}) {{ {}({}){selection} }}", arg.ty.sdl(), field.name, others("$v".into()));
                check(app, token, &declared, json!({ "v": json_value }), &mut failures).await;
                sent += 2;
            }
            // A required variable left out.
            let declared =
                format!("{op}($v: {}) {{ {}({}){selection} }}", arg.ty.sdl(), field.name, others("$v".into()));
            check(app, token, &declared, json!({}), &mut failures).await;
            sent += 1;
            if let Some(input_fields) = schema.inputs.get(arg.ty.named()) {
                for (k, input_field) in input_fields.iter().enumerate() {
                    for (literal, _) in bad_values() {
                        let object: Vec<String> = input_fields
                            .iter()
                            .enumerate()
                            .filter_map(|(m, f)| {
                                if m == k {
                                    Some(format!("{}: {literal}", f.name))
                                } else if f.ty.required() {
                                    Some(format!("{}: {}", f.name, valid(schema, &f.ty)))
                                } else {
                                    None
                                }
                            })
                            .collect();
                        let value = format!("{{ {} }}", object.join(", "));
                        let value = if matches!(arg.ty, Ty::List(_))
                            || matches!(&arg.ty, Ty::NonNull(t) if matches!(**t, Ty::List(_)))
                        {
                            format!("[{value}]")
                        } else {
                            value
                        };
                        let inline = format!("{op} {{ {}({}){selection} }}", field.name, others(value));
                        check(app, token, &inline, json!({}), &mut failures).await;
                        sent += 1;
                        let _ = input_field;
                    }
                }
            }
        }
    }
    (sent, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_typed_arguments_never_answer_internal_server_error() {
    let app = TestApp::with_demo().await;
    let admin = app.token("fuzz-admin", Role::Admin).await;
    let schema = introspect(&app, &admin).await;
    assert!(schema.query.len() > 10 && schema.mutation.len() > 10, "introspection found the root fields");

    let (public, mut failures) = fuzz(&app, &schema, &schema.query, "query", None).await;
    let (admin_queries, more) = fuzz(&app, &schema, &schema.query, "query", Some(&admin)).await;
    failures.extend(more);
    let (mutations, more) = fuzz(&app, &schema, &schema.mutation, "mutation", Some(&admin)).await;
    failures.extend(more);
    assert!(public + admin_queries + mutations > 1000, "the fuzz sent {public} + {admin_queries} + {mutations}");
    assert!(
        failures.is_empty(),
        "{} of the answers were not clear:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

async fn post(app: &TestApp, query: &str, variables: Value) -> (StatusCode, Value) {
    let response = app.post_json(json!({ "query": query, "variables": variables })).await;
    assert_eq!(response.content_type(), "application/graphql-response+json");
    (response.status, response.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variable_coercion_failures_are_request_errors_naming_the_variable() {
    let app = TestApp::with_demo().await;
    let (status, body) = post(&app, "query($s: String!) { article(slug: $s) { slug } }", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.get("data").is_none(), "a request error has no data: {body}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("$s"), "{body}");

    let (status, body) =
        post(&app, "query($o: ArticleOrder) { articles(orderBy: $o) { nodes { slug } } }", json!({ "o": "TITLE" }))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("$o"), "{body}");

    let (status, body) = post(
        &app,
        "query($f: ArticleFilter) { articles(filter: $f) { nodes { slug } } }",
        json!({ "f": { "text": 5 } }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("variable $f.text: expected String"), "{body}");

    // A variable with a default, or a nullable one, may be left out.
    let (status, body) =
        post(&app, "query($n: Int = 2, $t: String) { articles(first: $n, after: $t) { nodes { slug } } }", json!({}))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["articles"]["nodes"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_typed_literal_arguments_are_bad_user_input_naming_the_argument() {
    let app = TestApp::with_demo().await;
    for (query, argument) in [
        ("{ articles(first: 3, orderBy: TITLE) { nodes { slug } } }", "orderBy"),
        ("{ articles(filter: \"x\") { nodes { slug } } }", "filter"),
        ("{ proofRecords(filter: [1]) { nodes { slug } } }", "filter"),
        ("{ articles(filter: { publishedAfter: \"yesterday\" }) { nodes { slug } } }", "filter"),
    ] {
        let (status, body) = post(&app, query, json!({})).await;
        assert!(status.is_success() || status == StatusCode::BAD_REQUEST, "{query}: {status}");
        let code = error_code(&body);
        assert!(code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED", "{query}: {body}");
        if code == "BAD_USER_INPUT" {
            assert_eq!(body["errors"][0]["extensions"]["field"], argument, "{query}: {body}");
        }
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(argument), "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_carry_a_code_by_stage() {
    let app = TestApp::with_demo().await;
    let (status, body) = post(&app, "{ articles( }", json!({})).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "GRAPHQL_PARSE_FAILED"));
    let (status, body) = post(&app, "{ articlez }", json!({})).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "GRAPHQL_VALIDATION_FAILED"));
    let response =
        app.post_json(json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" })).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&response.json()), "BAD_REQUEST", "{}", response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_filter_without_words_is_bad_user_input() {
    let app = TestApp::with_demo().await;
    for query in [
        r#"{ articles(filter: { text: "*" }) { nodes { slug } } }"#,
        r#"{ proofRecords(filter: { text: "* -" }) { nodes { slug } } }"#,
        r#"{ questions(filter: { text: "\"\"" }) { nodes { question } } }"#,
        r#"{ articles(filter: { text: "*" }) { totalCount } }"#,
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "filter.text", "{query}: {body}");
    }
    // Blank text is no filter, and words still filter.
    let data = app.data(r#"{ all: articles(filter: { text: " " }) { totalCount } some: articles(filter: { text: "website*" }) { totalCount } }"#, json!({})).await;
    assert_eq!(data["all"]["totalCount"], 14);
    assert_eq!(data["some"]["totalCount"], 1, "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_token_lifetimes_are_refused_clearly() {
    let app = TestApp::new().await;
    let admin = app.token("admin", Role::Admin).await;
    for lifetime in ["99999999999d", "9999999999999999w", "36501d", "99999999999999999999999999h"] {
        let body = app
            .graphql_as(
                &admin,
                "mutation($e: String) { createApiToken(name: \"t\", role: PREVIEW, expiresIn: $e) { secret } }",
                json!({ "e": lifetime }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{lifetime}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "expiresIn");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("100 years"), "{body}");

        let out = app.cli(&["token", "create", "--name", "t", "--role", "preview", "--expires", lifetime]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{lifetime}: {stderr}");
        assert!(stderr.contains("--expires") && stderr.contains("100 years"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = app.cli(&["token", "create", "--name", "t", "--role", "preview", "--expires", "36500d"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn cursor(json: Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_carry_and_check_their_ordering() {
    let app = TestApp::with_demo().await;
    let by_title = r#"query($after: String) { articles(first: 5, after: $after, orderBy: { field: TITLE, direction: ASC }) {
        nodes { title } pageInfo { endCursor hasNextPage } } }"#;
    // Valid cursors still page through every article, in order.
    let (mut titles, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = app.data(by_title, json!({ "after": after })).await;
        let page = &data["articles"];
        titles.extend(page["nodes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!((titles.len(), &titles), (14, &sorted));

    let title_cursor = app.data(by_title, json!({ "after": null })).await["articles"]["pageInfo"]["endCursor"].clone();
    let by_date = "query($after: String) { articles(first: 5, after: $after) { nodes { slug } } }";
    let by_title_desc = r#"query($after: String) { articles(after: $after, orderBy: { field: TITLE, direction: DESC }) { nodes { slug } } }"#;
    let tampered = [
        (by_date, title_cursor.clone()),
        (by_title_desc, title_cursor.clone()),
        (by_date, json!(cursor(json!({ "k": null, "i": 1 })))),
        (by_date, json!(cursor(json!({ "k": "2024-01-01T00:00:00Z", "i": 1 })))),
        (by_date, json!(cursor(json!({ "o": "articles.publishedAt desc", "k": null, "i": 1 })))),
        (by_date, json!(cursor(json!({ "o": "articles.publishedAt desc", "k": "a title", "i": 1 })))),
        (by_date, json!(cursor(json!({ "o": "articles.publishedAt desc", "k": 7, "i": 1 })))),
        ("query($after: String) { questions(after: $after) { nodes { id } } }", title_cursor.clone()),
        ("query($after: String) { proofRecords(after: $after) { nodes { slug } } }", title_cursor.clone()),
    ];
    for (query, after) in tampered {
        let body = app.graphql(query, json!({ "after": after })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query} {after}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    }
    // A real title that reads as a date: its cursor pages on (PostgreSQL compares it as text, not as a time).
    let publisher = app.token("pub", Role::Publisher).await;
    let created = app
        .data_as(
            &publisher,
            "mutation { createArticle(input: { title: \"2024-01-01T00:00:00Z\", slug: \"date-title\" }) { id version } }",
            json!({}),
        )
        .await;
    app.data_as(
        &publisher,
        "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { id } }",
        json!({ "id": created["createArticle"]["id"], "v": created["createArticle"]["version"] }),
    )
    .await;
    let first =
        "{ articles(first: 1, orderBy: { field: TITLE, direction: ASC }) { nodes { title } pageInfo { endCursor } } }";
    let first = app.data(first, json!({})).await;
    assert_eq!(first["articles"]["nodes"][0]["title"], "2024-01-01T00:00:00Z");
    let data = app.data(by_title, json!({ "after": first["articles"]["pageInfo"]["endCursor"] })).await;
    assert_eq!(data["articles"]["nodes"].as_array().unwrap().len(), 5);
    // A forged title cursor holding a date stays a title too.
    let date_title = cursor(json!({ "o": "articles.title asc", "k": "2024-01-01T00:00:00Z", "i": 1 }));
    let data = app.data(by_title, json!({ "after": date_title })).await;
    assert_eq!(data["articles"]["nodes"].as_array().unwrap().len(), 5, "every title sorts after a digit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_kind_of_id_is_named_with_its_article() {
    let app = TestApp::with_demo().await;
    let editor = app.token("ed", Role::Editor).await;
    let body = app
        .graphql_as(&editor, "mutation { updateArticle(id: \"eA\", expectedVersion: 1, input: {}) { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["message"], "id: is not the ID of an Article", "{body}");
    let body = app
        .graphql_as(
            &editor,
            "mutation { updateProofRecord(id: \"eA\", expectedVersion: 1, input: {}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["message"], "id: is not the ID of a ProofRecord", "{body}");
}

/// Times outside years 1-9999 would compare wrongly on SQLite (stored as text, "+10000-…" sorts first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_outside_years_1_to_9999_are_bad_user_input() {
    let app = TestApp::with_demo().await;
    for field in ["publishedAfter", "publishedBefore"] {
        let query = format!(r#"{{ articles(filter: {{ {field}: "+10000-01-01T00:00:00Z" }}) {{ totalCount }} }}"#);
        let body = app.graphql(&query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(&format!("filter.{field}")), "{body}");
    }
    let publisher = app.token("far-future", backlot::service::token::Role::Publisher).await;
    let article = app
        .data_as(&publisher, &format!(r#"{{ article(slug: "{ORIGINAL_SLUG}") {{ id version }} }}"#), json!({}))
        .await;
    let body = app
        .graphql_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: \"+10000-01-01T00:00:00Z\") { version } }",
            json!({ "id": article["article"]["id"], "v": article["article"]["version"] }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("publishAt"), "{body}");
}
