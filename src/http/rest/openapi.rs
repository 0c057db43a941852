//! The OpenAPI 3.1 document of `/api/v1`, generated from the code: the paths and parameters from the route
//! table, and each body's schema from the route's GraphQL document walked against the GraphQL schema (so the
//! document cannot disagree with what the routes send). Served at `/api/v1/openapi.json`, printed by
//! `backlot openapi`, and kept in `openapi.json` at the repo root (tests/openapi.rs).

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Field, FieldDefinition, Selection, SelectionSet, Type as GqlType, TypeDefinition,
    TypeKind, TypeSystemDefinition,
};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::SchemaType;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, ContentBuilder, HeaderBuilder, HttpMethod, InfoBuilder, KnownFormat,
    ObjectBuilder, OneOfBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema, SchemaFormat, Type,
};

use super::routes::{DEFAULT_LIMIT, Key, MAX_LIMIT, ORDERS, Param, ROUTES, Route, Shape};
use super::{LD_JSON, PROBLEM};

pub const PATH: &str = "/api/v1/openapi.json";

/// The document as committed in `openapi.json`: pretty JSON and a final newline.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut text = document().to_pretty_json().unwrap_or_default();
        text.push('\n');
        text
    })
}

pub(super) async fn serve() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json()).into_response()
}

/// The GraphQL types by name, read from the schema's SDL.
struct Types(HashMap<String, TypeDefinition>);

impl Types {
    fn load() -> Types {
        let doc = async_graphql::parser::parse_schema(crate::graphql::sdl()).expect("the schema's own SDL parses");
        let mut types = HashMap::new();
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def {
                types.insert(t.node.name.node.to_string(), t.node);
            }
        }
        Types(types)
    }

    fn field(&self, type_name: &str, field: &str) -> Option<&FieldDefinition> {
        let fields = match &self.0.get(type_name)?.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            _ => return None,
        };
        fields.iter().map(|f| &f.node).find(|f| f.name.node == field)
    }

    /// Whether a fragment on `condition` applies to an object of type `concrete`.
    fn applies(&self, concrete: &str, condition: &str) -> bool {
        if concrete == condition {
            return true;
        }
        match self.0.get(concrete).map(|t| &t.kind) {
            Some(TypeKind::Object(o)) if o.implements.iter().any(|i| i.node == condition) => true,
            _ => match self.0.get(condition).map(|t| &t.kind) {
                Some(TypeKind::Union(u)) => u.members.iter().any(|m| m.node == concrete),
                _ => false,
            },
        }
    }
}

/// Walks a route's document against the GraphQL types, producing the JSON Schema of what it answers.
struct Walker<'a> {
    types: &'a Types,
    doc: &'a ExecutableDocument,
    /// The route's schema name, which names the component of each member of a union it answers.
    name: &'a str,
    /// Those components: a member of a `oneOf` by reference, which client generators handle best.
    members: std::cell::RefCell<Vec<(String, RefOr<Schema>)>>,
}

fn typed(types: &[Type], nullable: bool) -> SchemaType {
    let mut all = types.to_vec();
    if nullable {
        all.push(Type::Null);
    }
    if all.len() == 1 { SchemaType::new(all[0].clone()) } else { SchemaType::from_iter(all) }
}

fn with_description(builder: ObjectBuilder, description: Option<&str>) -> ObjectBuilder {
    builder.description(description.map(str::to_string))
}

impl Walker<'_> {
    /// The fields `set` selects on an object of type `concrete`, fragments expanded, in response order.
    fn collect<'s>(&'s self, concrete: &str, set: &'s SelectionSet, out: &mut Vec<(String, &'s Field)>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let name = f.node.alias.as_ref().unwrap_or(&f.node.name).node.to_string();
                    if !out.iter().any(|(n, _)| *n == name) {
                        out.push((name, &f.node));
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.node.fragment_name.node)
                        && self.types.applies(concrete, &fragment.node.type_condition.node.on.node)
                    {
                        self.collect(concrete, &fragment.node.selection_set.node, out);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let applies = match &inline.node.type_condition {
                        Some(c) => self.types.applies(concrete, &c.node.on.node),
                        None => true,
                    };
                    if applies {
                        self.collect(concrete, &inline.node.selection_set.node, out);
                    }
                }
            }
        }
    }

    /// Concrete types named by the inline fragments of `set` (what an abstract field may answer).
    fn variants(&self, abstract_type: &str, set: &SelectionSet) -> Vec<String> {
        let mut out = Vec::new();
        for item in &set.items {
            if let Selection::InlineFragment(inline) = &item.node
                && let Some(c) = &inline.node.type_condition
            {
                let name = c.node.on.node.to_string();
                if self.types.applies(&name, abstract_type) && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }

    fn object(&self, concrete: &str, set: &SelectionSet, nullable: bool, description: Option<&str>) -> RefOr<Schema> {
        if nullable {
            // `oneOf: [object, null]` rather than `type: [object, null]`: client generators handle it better.
            let object = self.object(concrete, set, false, None);
            let null = ObjectBuilder::new().schema_type(Type::Null);
            return OneOfBuilder::new().description(description.map(str::to_string)).item(object).item(null).into();
        }
        let mut fields = Vec::new();
        self.collect(concrete, set, &mut fields);
        let is_connection = fields.iter().any(|(n, _)| n == "nodes") && fields.iter().any(|(n, _)| n == "pageInfo");
        let mut object =
            with_description(ObjectBuilder::new().schema_type(typed(&[Type::Object], nullable)), description);
        if is_connection {
            // The order the body has: items, totalCount, nextCursor.
            for wanted in ["nodes", "totalCount"] {
                if let Some((_, field)) = fields.iter().find(|(n, _)| n == wanted) {
                    let name = if wanted == "nodes" { "items" } else { wanted };
                    object = object.property(name, self.field(concrete, field)).required(name);
                }
            }
            let next = ObjectBuilder::new()
                .schema_type(typed(&[Type::String], true))
                .description(Some("Pass as `after` for the next page; null on the last page."));
            return object.property("nextCursor", next).required("nextCursor").into();
        }
        for (name, field) in fields {
            let schema = if field.name.node == "__typename" {
                ObjectBuilder::new().schema_type(Type::String).enum_values(Some([concrete])).into()
            } else {
                self.field(concrete, field)
            };
            object = object.property(name.clone(), schema).required(name);
        }
        object.into()
    }

    /// The schema of `field` selected on an object of type `parent`.
    fn field(&self, parent: &str, field: &Field) -> RefOr<Schema> {
        match self.types.field(parent, &field.name.node) {
            Some(def) => {
                let description = def.description.as_ref().map(|d| d.node.as_str());
                self.typed(&def.ty.node, &field.selection_set.node, description)
            }
            // The documents are checked against the schema by the tests; this is never reached.
            None => RefOr::T(Schema::default()),
        }
    }

    fn typed(&self, ty: &GqlType, set: &SelectionSet, description: Option<&str>) -> RefOr<Schema> {
        match &ty.base {
            BaseType::List(inner) => {
                let items = self.typed(inner, set, None);
                ArrayBuilder::new()
                    .schema_type(typed(&[Type::Array], ty.nullable))
                    .items(items)
                    .description(description.map(str::to_string))
                    .into()
            }
            BaseType::Named(name) => self.named(name, ty.nullable, set, description),
        }
    }

    fn named(&self, name: &str, nullable: bool, set: &SelectionSet, description: Option<&str>) -> RefOr<Schema> {
        let scalar = |t: Type, format: Option<KnownFormat>| -> RefOr<Schema> {
            with_description(ObjectBuilder::new().schema_type(typed(&[t], nullable)), description)
                .format(format.map(SchemaFormat::KnownFormat))
                .into()
        };
        match name {
            "String" | "ID" => return scalar(Type::String, None),
            "Int" => return scalar(Type::Integer, Some(KnownFormat::Int32)),
            "Float" => return scalar(Type::Number, None),
            "Boolean" => return scalar(Type::Boolean, None),
            "DateTime" => return scalar(Type::String, Some(KnownFormat::DateTime)),
            "NaiveDate" => return scalar(Type::String, Some(KnownFormat::Date)),
            "JSON" => return with_description(ObjectBuilder::new().schema_type(SchemaType::any()), description).into(),
            _ => {}
        }
        let Some(def) = self.types.0.get(name) else { return RefOr::T(Schema::default()) };
        match &def.kind {
            TypeKind::Enum(e) => {
                let mut values: Vec<serde_json::Value> =
                    e.values.iter().map(|v| serde_json::Value::String(v.node.value.node.to_string())).collect();
                if nullable {
                    values.push(serde_json::Value::Null);
                }
                with_description(ObjectBuilder::new().schema_type(typed(&[Type::String], nullable)), description)
                    .enum_values(Some(values))
                    .into()
            }
            TypeKind::Object(_) => self.object(name, set, nullable, description),
            TypeKind::Interface(_) | TypeKind::Union(_) => {
                let mut one_of = OneOfBuilder::new().description(description.map(str::to_string));
                for variant in self.variants(name, set) {
                    let member = format!("{}{variant}", self.name);
                    let schema = self.object(&variant, set, false, None);
                    self.members.borrow_mut().push((member.clone(), schema));
                    one_of = one_of.item(Ref::from_schema_name(member));
                }
                if nullable {
                    one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
                }
                one_of.into()
            }
            _ => RefOr::T(Schema::default()),
        }
    }

    /// The body of `route`: the unwrapped root field (never null: null is a 404), reshaped.
    fn body(&self, route: &Route) -> RefOr<Schema> {
        if route.shape == Shape::JsonLd {
            return ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "JSON-LD (schema.org): `@context` and an `@graph` holding the `Article`, a `FAQPage` whose \
                     `mainEntity` has one `Question` (with an `acceptedAnswer` `Answer`) per question, and one \
                     `ImageObject` per cleared frame (`contentUrl`, `caption`, `creditText`, `width`, `height`).",
                ))
                .property("@context", ObjectBuilder::new().schema_type(Type::String))
                .required("@context")
                .property("@graph", ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object)))
                .required("@graph")
                .into();
        }
        let Some((_, operation)) = self.doc.operations.iter().next() else { return RefOr::T(Schema::default()) };
        let mut parent = "Query".to_string();
        let mut set = &operation.node.selection_set.node;
        let mut found: Option<(&FieldDefinition, &Field)> = None;
        for wanted in route.unwrap {
            let mut fields = Vec::new();
            self.collect(&parent, set, &mut fields);
            let Some((_, field)) = fields.into_iter().find(|(n, _)| n == wanted) else { break };
            let Some(def) = self.types.field(&parent, &field.name.node) else { break };
            parent = base_name(&def.ty.node).to_string();
            set = &field.selection_set.node;
            found = Some((def, field));
        }
        let Some((def, field)) = found else { return RefOr::T(Schema::default()) };
        let ty = GqlType { base: def.ty.node.base.clone(), nullable: false };
        let description = def.description.as_ref().map(|d| d.node.as_str());
        let value = self.typed(&ty, &field.selection_set.node, description);
        match route.shape {
            Shape::List => {
                ObjectBuilder::new().schema_type(Type::Object).property("items", value).required("items").into()
            }
            _ => value,
        }
    }
}

fn base_name(ty: &GqlType) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn parameter(param: Param) -> utoipa::openapi::path::Parameter {
    let schema: RefOr<Schema> = match param {
        Param::Limit => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(DEFAULT_LIMIT.into()))
            .into(),
        Param::PublishedAfter | Param::PublishedBefore => {
            string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).into()
        }
        Param::Order => string().enum_values(Some(ORDERS)).default(Some(ORDERS[0].into())).into(),
        Param::Search => string().min_length(Some(1)).into(),
        _ => string().into(),
    };
    let required = if param == Param::Search { Required::True } else { Required::False };
    ParameterBuilder::new()
        .name(param.name())
        .parameter_in(ParameterIn::Query)
        .required(required)
        .description(Some(param.description()))
        .schema(Some(schema))
        .build()
}

fn key_parameter(key: Key) -> utoipa::openapi::path::Parameter {
    let description = match key {
        Key::Slug => "The slug: lower-case ASCII letters, digits and hyphens.",
        Key::Id => "A global ID, as in every object's `id`.",
    };
    ParameterBuilder::new()
        .name(key.name())
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(string()))
        .build()
}

/// The error responses every operation may answer, each a problem+json body.
const ERRORS: [(&str, &str, &str); 7] = [
    (
        "400",
        "BadRequest",
        "Bad input: an unknown or malformed parameter, bad paging (`limit`, `after`), a bad date (`BAD_USER_INPUT`); \
         or an answer over the server's size or complexity limits (`RESPONSE_TOO_LARGE`, `QUERY_TOO_COMPLEX`): \
         ask for a smaller `limit`.",
    ),
    ("401", "Unauthorized", "The bearer token is unknown, expired or revoked."),
    ("404", "NotFound", "Nothing with this key, or nothing you may see (drafts need a preview token)."),
    ("406", "NotAcceptable", "The Accept header excludes JSON."),
    ("429", "TooManyRequests", "Too many anonymous requests from one address; retry after `Retry-After` seconds."),
    ("500", "InternalServerError", "An unexpected failure; `detail` holds a reference to quote."),
    ("503", "ServiceUnavailable", "The request ran out of its time budget, or the database is busy; retry."),
];

fn operation(route: &Route) -> Operation {
    let media = if route.shape == Shape::JsonLd { LD_JSON } else { "application/json" };
    let mut ok = ResponseBuilder::new()
        .description("The content. Anonymous answers carry an `ETag`; answers to a token are `private, no-store`.")
        .content(media, ContentBuilder::new().schema(Some(Ref::from_schema_name(route.schema))).build())
        .header(
            "ETag",
            HeaderBuilder::new().schema(Some(string())).description(Some("Send back as `If-None-Match`.")).build(),
        )
        .header(
            "Cache-Control",
            HeaderBuilder::new()
                .schema(Some(string()))
                .description(Some("`private, no-store` for token holders."))
                .build(),
        );
    if matches!(route.shape, Shape::Page | Shape::PageAt(_)) {
        let link = HeaderBuilder::new()
            .schema(Some(string()))
            .description(Some("`<url of the next page>; rel=\"next\"` while there is one."))
            .build();
        ok = ok.header("Link", link);
    }
    let mut op = OperationBuilder::new()
        .operation_id(Some(route.operation_id))
        .summary(Some(route.summary))
        .tag(route.tag)
        .securities(Some([SecurityRequirement::default(), SecurityRequirement::new("bearer", Vec::<String>::new())]));
    if let Some(key) = route.key {
        op = op.parameter(key_parameter(key));
    }
    for param in route.params {
        op = op.parameter(parameter(*param));
    }
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some("An `ETag` from an earlier answer: 304 while the content is unchanged."))
        .schema(Some(string()))
        .build();
    op = op.parameter(if_none_match).response("200", ok.build()).response(
        "304",
        ResponseBuilder::new().description("Not modified since the `ETag` sent in `If-None-Match`.").build(),
    );
    for (status, name, _) in ERRORS {
        if status == "404" && route.key.is_none() && route.shape != Shape::PageAt("articles") {
            continue;
        }
        op = op.response(status, Ref::from_response_name(name));
    }
    op.build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let types = Types::load();
    let mut components = ComponentsBuilder::new();
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let doc = async_graphql::parser::parse_query(route.document).expect("route documents parse");
        let walker = Walker { types: &types, doc: &doc, name: route.schema, members: Default::default() };
        components = components.schema(route.schema, walker.body(route));
        for (name, schema) in walker.members.take() {
            components = components.schema(name, schema);
        }
        paths = paths.path(route.path, PathItem::new(HttpMethod::Get, operation(route)));
    }
    paths = other_routes(paths);
    let (imports_path, import_schemas) = imports_route();
    paths = paths.path("/api/v1/imports", imports_path);
    for (name, schema) in import_schemas {
        components = components.schema(name, schema);
    }
    let problem = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An RFC 9457 problem; `code` is the stable code GraphQL sends as `extensions.code`."))
        .property("type", string().description(Some("`about:blank`.")))
        .required("type")
        .property("title", string().description(Some("The status's reason phrase.")))
        .required("title")
        .property("status", ObjectBuilder::new().schema_type(Type::Integer))
        .required("status")
        .property("detail", string().description(Some("What went wrong, naming the parameter.")))
        .required("detail")
        .property("code", string().examples(["NOT_FOUND", "BAD_USER_INPUT"]))
        .required("code");
    components = components.schema("Problem", problem);
    for (_, name, description) in ERRORS {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        components =
            components.response(name, ResponseBuilder::new().description(description).content(PROBLEM, content));
    }
    let bearer = Http::builder()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some("A preview token (or higher) also reads drafts, with `Cache-Control: private, no-store`."))
        .build();
    components = components.security_scheme("bearer", SecurityScheme::Http(bearer));
    let tags = [
        "articles",
        "proof records",
        "collections",
        "reuse channels",
        "questions",
        "search",
        "nodes",
        "imports",
        "meta",
    ]
    .map(|t| TagBuilder::new().name(t).build());
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Backlot JSON API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Read-only JSON mirror of Backlot's public GraphQL contract: the same names and shapes, the \
                     same visibility (published only without a token; drafts with a preview token), the same \
                     cache and limits. Lists are `{ items, totalCount, nextCursor }`; errors are problem+json.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .tags(Some(tags))
        .build()
}

/// Routes that are not fixed GraphQL reads. A route served by its own handler (such as `POST /api/v1/imports`)
/// adds its `PathItem` here, with `.path(...)`, and its schemas to the components in `document`.
fn other_routes(paths: PathsBuilder) -> PathsBuilder {
    let ok = ResponseBuilder::new()
        .description("This document.")
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::Object))).build(),
        )
        .build();
    let op = OperationBuilder::new()
        .operation_id(Some("getOpenApi"))
        .summary(Some("This OpenAPI 3.1 document."))
        .tag("meta")
        .response("200", ok)
        .build();
    paths.path(PATH, PathItem::new(HttpMethod::Get, op))
}

/// `POST /api/v1/imports` (src/http/imports.rs): pages and proof-record files in, one result per file out.
fn imports_route() -> (PathItem, Vec<(&'static str, Schema)>) {
    use utoipa::openapi::request_body::RequestBodyBuilder;
    let text = |d: &str| string().description(Some(d.to_string()));
    let error = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", text("`BAD_USER_INPUT` for a file that does not parse or breaks a rule; else as GraphQL."))
        .required("code")
        .property("message", text("What is wrong, naming the field."))
        .required("message")
        .property(
            "line",
            ObjectBuilder::new().schema_type(Type::Integer).description(Some("1-based line of the file.")),
        );
    let file = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("name", text("The file's name as sent."))
        .required("name")
        .property("kind", string().enum_values(Some(["article", "proofRecord"])))
        .property("result", string().enum_values(Some(["created", "updated", "unchanged"])))
        .property("slug", string())
        .property("status", string().enum_values(Some(["PUBLISHED", "DRAFT"])))
        .property("public", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("error", error)
        .description(Some(
            "A file that imported has kind, result, slug, status and public; one that failed has error.",
        ));
    let count = || ObjectBuilder::new().schema_type(Type::Integer);
    let results = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("files", ArrayBuilder::new().items(Ref::from_schema_name("ImportFileResult")))
        .required("files")
        .property("created", count())
        .required("created")
        .property("updated", count())
        .required("updated")
        .property("unchanged", count())
        .required("unchanged")
        .property("failed", count())
        .required("failed");
    let answer = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ImportResults"))).build(),
            )
            .build()
    };
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build()
    };
    let query = |name: &str, description: &str, schema: ObjectBuilder| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
            .build()
    };
    let boolean = || ObjectBuilder::new().schema_type(Type::Boolean);
    let body = RequestBodyBuilder::new()
        .description(Some(
            "One page or proof-record file as `text/plain` (named by `?name=`, `X-Backlot-File-Name` or \
             `Content-Disposition: attachment; filename=...`), or several as `multipart/form-data` (each part's \
             filename is its name).",
        ))
        .content("text/plain", ContentBuilder::new().schema(Some(string())).build())
        .content(
            "multipart/form-data",
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(Type::Object).property(
                        "files",
                        ArrayBuilder::new().items(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                        ),
                    ),
                ))
                .build(),
        )
        .required(Some(Required::True))
        .build();
    let op = OperationBuilder::new()
        .operation_id(Some("importFiles"))
        .summary(Some("Import pages and proof-record files (editor token; publisher to publish)."))
        .description(Some(
            "Each file is all or nothing, by the same rules as `backlot import`. 200 when every file imported; 422 \
             when some were refused for their content (the others landed); 500 when some failed on the server.",
        ))
        .tag("imports")
        .securities(Some([SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .parameter(query("name", "The file name of a text/plain body.", string()))
        .parameter(query("publish", "Publish what imports (publisher token).", boolean()))
        .parameter(query("force", "Overwrite drafts edited since their last import.", boolean()))
        .parameter(
            ParameterBuilder::new()
                .name("X-Backlot-File-Name")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("The file name of a text/plain body."))
                .schema(Some(string()))
                .build(),
        )
        .request_body(Some(body))
        .response("200", answer("Every file imported."))
        .response("422", answer("Some files were refused; the others imported."))
        .response("500", answer("Some files failed on the server; the others imported."))
        .response("400", Ref::from_response_name("BadRequest"))
        .response("401", Ref::from_response_name("Unauthorized"))
        .response("403", problem("The token's role may not import (or publish)."))
        .response("413", problem("The body is larger than the server's limit (`--max-body-bytes`)."))
        .response("415", problem("Neither text/plain nor multipart/form-data."))
        .response("429", Ref::from_response_name("TooManyRequests"))
        .response("503", Ref::from_response_name("ServiceUnavailable"))
        .build();
    (PathItem::new(HttpMethod::Post, op), vec![("ImportFileResult", file.into()), ("ImportResults", results.into())])
}
