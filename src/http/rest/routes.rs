//! Every REST read: its path, its parameters, and the fixed GraphQL document it runs. The documents are
//! the whole definition of a route's body: the handler runs them on the same schema as `/graphql` (same
//! visibility, loaders, limits and budgets) and the OpenAPI document derives each body's schema from them.

/// A query parameter a route may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Items per page, 1..=100 (`first`).
    Limit,
    /// The cursor to continue after (`after`).
    After,
    /// Articles of one collection (`filter.collection`).
    Collection,
    /// Full-text filter (`filter.text`).
    Text,
    /// The search words (`query`), required.
    Search,
    PublishedAfter,
    PublishedBefore,
    /// `publishedAt`, `-publishedAt`, `title` or `-title` (`orderBy`).
    Order,
    /// Questions of one article (`filter.article`).
    Article,
}

impl Param {
    pub fn name(self) -> &'static str {
        match self {
            Param::Limit => "limit",
            Param::After => "after",
            Param::Collection => "collection",
            Param::Text | Param::Search => "q",
            Param::PublishedAfter => "publishedAfter",
            Param::PublishedBefore => "publishedBefore",
            Param::Order => "order",
            Param::Article => "article",
        }
    }

    /// The GraphQL argument it fills, as the API's error messages name it (`query: must contain ...`).
    pub fn graphql_name(self) -> &'static str {
        match self {
            Param::Limit => "first",
            Param::After => "after",
            Param::Collection => "filter.collection",
            Param::Text => "filter.text",
            Param::Search => "query",
            Param::PublishedAfter => "filter.publishedAfter",
            Param::PublishedBefore => "filter.publishedBefore",
            Param::Order => "orderBy",
            Param::Article => "filter.article",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Param::Limit => "Items per page, 1 to 100 (default 20).",
            Param::After => "Continue after this cursor: the `nextCursor` of the previous page.",
            Param::Collection => "Only articles of this collection (by slug), e.g. `proof`.",
            Param::Text => "Full-text filter: every word must match.",
            Param::Search => "The words to search for; every word must match (as a prefix).",
            Param::PublishedAfter => "Published at or after this instant (RFC 3339).",
            Param::PublishedBefore => "Published before this instant (RFC 3339).",
            Param::Order => "Sort order: `publishedAt` or `title`, `-` first for descending (default `-publishedAt`).",
            Param::Article => "Only the questions of this article (by slug).",
        }
    }
}

pub const ORDERS: [&str; 4] = ["-publishedAt", "publishedAt", "title", "-title"];
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// The key in the path, named after the GraphQL argument it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Slug,
    Id,
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Slug => "slug",
            Key::Id => "id",
        }
    }
}

/// How the GraphQL answer becomes the REST body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The object itself; `null` is a 404.
    Object,
    /// A list, as `{ "items": [...] }`.
    List,
    /// A connection, as `{ "items", "totalCount", "nextCursor" }` with a `Link: rel="next"` header.
    Page,
    /// An object whose field of this name is a connection paged by `after` / `limit`.
    PageAt(&'static str),
    /// The JSON-LD value itself, as `application/ld+json`.
    JsonLd,
}

pub struct Route {
    /// The path, in the syntax both axum and OpenAPI use.
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub key: Option<Key>,
    pub params: &'static [Param],
    /// Fields to descend into from `data`, the root field first (each by its response name).
    pub unwrap: &'static [&'static str],
    pub shape: Shape,
    /// The name of the body's schema in the OpenAPI document.
    pub schema: &'static str,
    pub document: &'static str,
}

impl Route {
    /// What is not found when the root field is null, for the 404's message.
    pub fn entity(&self) -> &'static str {
        match self.unwrap.first().copied() {
            Some("article") => "article",
            Some("proofRecord") => "proof record",
            Some("collection") => "collection",
            Some("reuseChannel") => "reuse channel",
            _ => "node",
        }
    }
}

macro_rules! article_summary {
    () => {
        "fragment ArticleSummary on Article { id slug title thesis status publishedAt updatedAt collection { slug name } }\n"
    };
}
macro_rules! asset_fields {
    () => {
        "fragment AssetFields on Asset { id url kind alt caption credit width height shows release releaseExpiresAt \
         releaseChannels { slug } capturedAt }\n"
    };
}
macro_rules! record_summary {
    () => {
        "fragment ProofRecordSummary on ProofRecord { id slug title client deliverable summary status publishedAt }\n"
    };
}
macro_rules! record_detail {
    () => {
        "fragment ProofRecordDetail on ProofRecord { id slug title client deliverable problemSolved summary capturedOn \
         location observations { kind title detail position } assets { ...AssetFields } channels { slug name } \
         snippets { id body charCount credit channel { slug } } articles { slug title } status publishedAt updatedAt version }\n"
    };
}
macro_rules! snippet_fields {
    () => {
        "fragment SnippetFields on ProofSnippet { id body charCount credit status publishedAt version \
         channel { slug name } proofRecord { slug title } article { slug title } }\n"
    };
}
macro_rules! page {
    () => {
        "totalCount pageInfo { hasNextPage endCursor }"
    };
}

pub const ROUTES: &[Route] = &[
    Route {
        path: "/api/v1/articles",
        operation_id: "listArticles",
        summary: "Articles, newest first unless `order` says otherwise, paged by `after` and `limit`.",
        tag: "articles",
        key: None,
        params: &[
            Param::Collection,
            Param::Text,
            Param::PublishedAfter,
            Param::PublishedBefore,
            Param::Order,
            Param::After,
            Param::Limit,
        ],
        unwrap: &["articles"],
        shape: Shape::Page,
        schema: "ArticlePage",
        document: concat!(
            "query ListArticles($first: Int, $after: String, $filter: ArticleFilter, $orderBy: ArticleOrder) {\n",
            "  articles(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { ",
            page!(),
            " nodes { ...ArticleSummary } }\n}\n",
            article_summary!()
        ),
    },
    Route {
        path: "/api/v1/articles/{slug}",
        operation_id: "getArticle",
        summary: "One article: sections, questions, proof record (observations, cleared frames), related articles.",
        tag: "articles",
        key: Some(Key::Slug),
        params: &[],
        unwrap: &["article"],
        shape: Shape::Object,
        schema: "Article",
        document: concat!(
            "query GetArticle($slug: String!) {\n  article(slug: $slug) {\n",
            "    id slug title thesis point audience { summary roles readerNeed } realProblem recordMatters\n",
            "    smarterQuestion sections { position heading body paragraphs } proves\n",
            "    questions { id position question answer } collection { id slug name description }\n",
            "    proofRecord { ...ProofRecordDetail } relatedArticles { ...ArticleSummary } relatedLinks { title slug }\n",
            "    status publishedAt createdAt updatedAt version\n  }\n}\n",
            article_summary!(),
            record_detail!(),
            asset_fields!()
        ),
    },
    Route {
        path: "/api/v1/articles/{slug}/jsonld",
        operation_id: "getArticleJsonLd",
        summary: "The article's schema.org JSON-LD: Article, FAQPage of its questions, cleared frames as ImageObject.",
        tag: "articles",
        key: Some(Key::Slug),
        params: &[],
        unwrap: &["article", "jsonLd"],
        shape: Shape::JsonLd,
        schema: "ArticleJsonLd",
        document: "query GetArticleJsonLd($slug: String!) { article(slug: $slug) { jsonLd } }\n",
    },
    Route {
        path: "/api/v1/proof-records",
        operation_id: "listProofRecords",
        summary: "Proof records, paged by `after` and `limit`.",
        tag: "proof records",
        key: None,
        params: &[Param::After, Param::Limit],
        unwrap: &["proofRecords"],
        shape: Shape::Page,
        schema: "ProofRecordPage",
        document: concat!(
            "query ListProofRecords($first: Int, $after: String) {\n  proofRecords(first: $first, after: $after) { ",
            page!(),
            " nodes { ...ProofRecordSummary } }\n}\n",
            record_summary!()
        ),
    },
    Route {
        path: "/api/v1/proof-records/{slug}",
        operation_id: "getProofRecord",
        summary: "One proof record: observations, cleared frames, channels, snippets and articles.",
        tag: "proof records",
        key: Some(Key::Slug),
        params: &[],
        unwrap: &["proofRecord"],
        shape: Shape::Object,
        schema: "ProofRecord",
        document: concat!(
            "query GetProofRecord($slug: String!) { proofRecord(slug: $slug) { ...ProofRecordDetail } }\n",
            record_detail!(),
            asset_fields!()
        ),
    },
    Route {
        path: "/api/v1/collections",
        operation_id: "listCollections",
        summary: "Every collection.",
        tag: "collections",
        key: None,
        params: &[],
        unwrap: &["collections"],
        shape: Shape::List,
        schema: "CollectionList",
        document: "query ListCollections { collections { id slug name description version } }\n",
    },
    Route {
        path: "/api/v1/collections/{slug}",
        operation_id: "getCollection",
        summary: "One collection with its articles, paged by `after` and `limit`.",
        tag: "collections",
        key: Some(Key::Slug),
        params: &[Param::After, Param::Limit],
        unwrap: &["collection"],
        shape: Shape::PageAt("articles"),
        schema: "Collection",
        document: concat!(
            "query GetCollection($slug: String!, $first: Int, $after: String) {\n",
            "  collection(slug: $slug) { id slug name description version\n",
            "    articles(first: $first, after: $after) { ",
            page!(),
            " nodes { ...ArticleSummary } } }\n}\n",
            article_summary!()
        ),
    },
    Route {
        path: "/api/v1/reuse-channels",
        operation_id: "listReuseChannels",
        summary: "Every reuse channel (where snippets and cleared frames are reused).",
        tag: "reuse channels",
        key: None,
        params: &[],
        unwrap: &["reuseChannels"],
        shape: Shape::List,
        schema: "ReuseChannelList",
        document: "query ListReuseChannels { reuseChannels { id slug name description maxChars version } }\n",
    },
    Route {
        path: "/api/v1/reuse-channels/{slug}",
        operation_id: "getReuseChannel",
        summary: "One reuse channel.",
        tag: "reuse channels",
        key: Some(Key::Slug),
        params: &[],
        unwrap: &["reuseChannel"],
        shape: Shape::Object,
        schema: "ReuseChannel",
        document: "query GetReuseChannel($slug: String!) { reuseChannel(slug: $slug) { id slug name description maxChars version } }\n",
    },
    Route {
        path: "/api/v1/reuse-channels/{slug}/snippets",
        operation_id: "listReuseChannelSnippets",
        summary: "The channel's snippets, oldest first, paged by `after` and `limit`.",
        tag: "reuse channels",
        key: Some(Key::Slug),
        params: &[Param::After, Param::Limit],
        unwrap: &["reuseChannel", "snippets"],
        shape: Shape::Page,
        schema: "SnippetPage",
        document: concat!(
            "query ListReuseChannelSnippets($slug: String!, $first: Int, $after: String) {\n",
            "  reuseChannel(slug: $slug) { snippets(first: $first, after: $after) { ",
            page!(),
            " nodes { ...SnippetFields } } }\n}\n",
            snippet_fields!()
        ),
    },
    Route {
        path: "/api/v1/reuse-channels/{slug}/assets",
        operation_id: "listReuseChannelAssets",
        summary: "Frames of the channel's proof records that are cleared for reuse, paged by `after` and `limit`.",
        tag: "reuse channels",
        key: Some(Key::Slug),
        params: &[Param::After, Param::Limit],
        unwrap: &["reuseChannel", "assets"],
        shape: Shape::Page,
        schema: "AssetPage",
        document: concat!(
            "query ListReuseChannelAssets($slug: String!, $first: Int, $after: String) {\n",
            "  reuseChannel(slug: $slug) { assets(first: $first, after: $after) { ",
            page!(),
            " nodes { ...AssetFields proofRecord { slug title } } } }\n}\n",
            asset_fields!()
        ),
    },
    Route {
        path: "/api/v1/questions",
        operation_id: "listQuestions",
        summary: "Questions pages help readers ask, with their answers, paged by `after` and `limit`.",
        tag: "questions",
        key: None,
        params: &[Param::Article, Param::Text, Param::After, Param::Limit],
        unwrap: &["questions"],
        shape: Shape::Page,
        schema: "QuestionPage",
        document: concat!(
            "query ListQuestions($first: Int, $after: String, $filter: QuestionFilter) {\n",
            "  questions(first: $first, after: $after, filter: $filter) { ",
            page!(),
            " nodes { id position question answer article { slug title } } }\n}\n"
        ),
    },
    Route {
        path: "/api/v1/search",
        operation_id: "search",
        summary: "Articles, proof records and questions matching `q`, best first.",
        tag: "search",
        key: None,
        params: &[Param::Search, Param::Limit],
        unwrap: &["search"],
        shape: Shape::List,
        schema: "SearchResults",
        document: concat!(
            "query Search($query: String!, $first: Int) {\n  search(query: $query, first: $first) { __typename\n",
            "    ... on Article { ...ArticleSummary }\n",
            "    ... on ProofRecord { ...ProofRecordSummary }\n",
            "    ... on Question { id position question answer article { slug title } }\n  }\n}\n",
            article_summary!(),
            record_summary!()
        ),
    },
    Route {
        path: "/api/v1/nodes/{id}",
        operation_id: "getNode",
        summary: "Any object by its global ID (the `id` of every object here and in GraphQL).",
        tag: "nodes",
        key: Some(Key::Id),
        params: &[],
        unwrap: &["node"],
        shape: Shape::Object,
        schema: "Node",
        document: concat!(
            "query GetNode($id: ID!) {\n  node(id: $id) { __typename id\n",
            "    ... on Article { ...ArticleSummary }\n",
            "    ... on ProofRecord { ...ProofRecordSummary }\n",
            "    ... on Question { position question answer article { slug title } }\n",
            "    ... on Collection { slug name description version }\n",
            "    ... on ReuseChannel { slug name description maxChars version }\n",
            "    ... on Asset { ...AssetFields proofRecord { slug title } }\n",
            "    ... on ProofSnippet { ...SnippetFields }\n  }\n}\n",
            article_summary!(),
            record_summary!(),
            asset_fields!(),
            snippet_fields!()
        ),
    },
];
