//! Article, its sections and audience, and the `article` / `articles` queries.

use async_graphql::{ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{article, article_section};

use super::collection::Collection;
use super::connection::{Count, CountedConnection, connection, page_request};
use super::loaders::{ArticleSlug, CollectionRow, LinksOf, ProofRecordDoc, QuestionsOf, SectionsOf};
use super::node::global_id;
use super::proof_record::ProofRecord;
use super::question::Question;
use super::staged;
use crate::error::GqlResult;
use crate::service::article::{self as service, ArticleCriteria};
use crate::service::editorial::{self, Articles};
use crate::service::token::Role;

/// One editorial page.
pub struct Article(pub article::Model);

/// Who the page helps.
#[derive(SimpleObject)]
pub struct Audience {
    /// The sentence naming the readers.
    summary: Option<String>,
    /// The roles named in it, e.g. ["brand leads", "founders"].
    roles: Vec<String>,
    /// What those readers need from the page.
    reader_need: Option<String>,
}

/// A free body section, in page order.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ArticleSection {
    position: i32,
    heading: String,
    /// Paragraphs separated by a blank line.
    body: String,
}

#[ComplexObject]
impl ArticleSection {
    /// `body` split into paragraphs.
    async fn paragraphs(&self) -> Vec<&str> {
        self.body.split("\n\n").collect()
    }
}

impl From<article_section::Model> for ArticleSection {
    fn from(m: article_section::Model) -> Self {
        ArticleSection { position: m.position, heading: m.heading, body: m.body }
    }
}

/// A "Next: read ..." link. `article` is null while the linked page is not imported or not visible.
#[derive(SimpleObject)]
pub struct RelatedLink {
    title: String,
    slug: String,
    article: Option<Article>,
}

#[Object]
impl Article {
    pub async fn id(&self) -> ID {
        global_id("Article", &self.0.document_id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The opening sentence: what the page claims.
    async fn thesis(&self) -> Option<&str> {
        self.0.thesis.as_deref()
    }
    /// "The point is ..." — why the page exists.
    async fn point(&self) -> Option<&str> {
        self.0.point.as_deref()
    }
    async fn audience(&self) -> Audience {
        Audience {
            summary: self.0.audience_summary.clone(),
            roles: self.0.audience_roles.lines().filter(|r| !r.is_empty()).map(str::to_string).collect(),
            reader_need: self.0.reader_need.clone(),
        }
    }
    async fn real_problem(&self) -> Option<&str> {
        self.0.real_problem.as_deref()
    }
    /// Why the production record matters to the lesson.
    async fn record_matters(&self) -> Option<&str> {
        self.0.record_matters.as_deref()
    }
    async fn smarter_question(&self) -> Option<&str> {
        self.0.smarter_question.as_deref()
    }
    #[graphql(complexity = "5 * child_complexity")]
    async fn sections(&self, ctx: &Context<'_>) -> Result<Vec<ArticleSection>> {
        let rows = super::loader(ctx).load_one(SectionsOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(ArticleSection::from).collect())
    }
    async fn proves(&self) -> Option<&str> {
        self.0.proves.as_deref()
    }
    /// The questions this page should help you ask, in order, with their answers.
    #[graphql(complexity = "5 * child_complexity")]
    async fn questions(&self, ctx: &Context<'_>) -> Result<Vec<Question>> {
        let rows = super::loader(ctx).load_one(QuestionsOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Question).collect())
    }
    async fn collection(&self, ctx: &Context<'_>) -> Result<Option<Collection>> {
        let Some(id) = self.0.collection_id else { return Ok(None) };
        Ok(super::loader(ctx).load_one(CollectionRow(id)).await?.flatten().map(Collection))
    }
    /// The paired proof record; null until it is published.
    async fn proof_record(&self, ctx: &Context<'_>) -> Result<Option<ProofRecord>> {
        let Some(doc) = &self.0.proof_record_document_id else { return Ok(None) };
        Ok(super::loader(ctx).load_one(ProofRecordDoc(doc.clone())).await?.flatten().map(ProofRecord))
    }
    /// Linked articles you can read, in the order the page names them.
    #[graphql(complexity = "5 * child_complexity")]
    async fn related_articles(&self, ctx: &Context<'_>) -> Result<Vec<Article>> {
        Ok(self.related_links(ctx).await?.into_iter().filter_map(|l| l.article).collect())
    }
    /// Every link the page names, including ones whose target is not available yet.
    #[graphql(complexity = "5 * child_complexity")]
    async fn related_links(&self, ctx: &Context<'_>) -> Result<Vec<RelatedLink>> {
        let loader = super::loader(ctx);
        let links = loader.load_one(LinksOf(self.0.id)).await?.unwrap_or_default();
        let targets = loader.load_many(links.iter().map(|l| ArticleSlug(l.target_slug.clone()))).await?;
        Ok(links
            .into_iter()
            .map(|l| RelatedLink {
                article: targets.get(&ArticleSlug(l.target_slug.clone())).cloned().flatten().map(Article),
                title: l.target_title,
                slug: l.target_slug,
            })
            .collect())
    }
    #[graphql(flatten)]
    async fn lifecycle(&self) -> staged::Lifecycle<'_> {
        staged::StagedObject::lifecycle(self)
    }
    /// schema.org structured data (JSON-LD) for the page: an `Article`, a `FAQPage` of its questions and
    /// its cleared frames as `ImageObject`s, in one `@graph`. Never holds a PENDING or DENIED frame.
    #[graphql(complexity = 20)]
    async fn json_ld(&self, ctx: &Context<'_>) -> Result<async_graphql::Json<serde_json::Value>> {
        super::jsonld::of_article(ctx, &self.0).await.map(async_graphql::Json)
    }
}

#[derive(InputObject, Default)]
pub struct ArticleFilter {
    /// Collection slug, e.g. "proof".
    pub collection: Option<String>,
    /// Full-text match on the article's text (every word must match).
    pub text: Option<String>,
    /// Published at or after this instant.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before this instant.
    pub published_before: Option<DateTime<Utc>>,
}

staged::order_input!(ArticleOrder, ArticleOrderField);

#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// An article by slug; null if there is none you may see.
    async fn article(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Article>> {
        super::tags::note(ctx, crate::service::changes::article(&slug));
        let found =
            crate::service::staged::by_slug::<Articles>(super::db(ctx), super::visibility(ctx), &slug).await.gql()?;
        if let Some(row) = &found {
            super::prefetch::articles(ctx, &[ctx.look_ahead()], std::slice::from_ref(row)).await?;
        }
        Ok(found.map(Article))
    }

    /// Articles, newest first unless `orderBy` says otherwise. `first`/`last` are capped at 100.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ArticleFilter>,
        order_by: Option<ArticleOrder>,
    ) -> Result<CountedConnection<Article>> {
        let query = article_query(ctx, filter, order_by);
        article_connection(ctx, query, page_request(first, after, last, before)).await
    }
}

pub(crate) fn article_query(
    ctx: &Context<'_>,
    filter: Option<ArticleFilter>,
    order_by: Option<ArticleOrder>,
) -> service::ArticleListing {
    let filter = filter.unwrap_or_default();
    let (order_by, direction) = ArticleOrder::resolve(order_by);
    service::ArticleListing {
        visibility: super::visibility(ctx),
        filter: ArticleCriteria {
            collection: filter.collection,
            text: filter.text,
            published_after: filter.published_after,
            published_before: filter.published_before,
        },
        order_by,
        direction,
    }
}

pub(crate) async fn article_connection(
    ctx: &Context<'_>,
    query: service::ArticleListing,
    page: crate::service::PageRequest,
) -> Result<CountedConnection<Article>> {
    let page = service::list(super::db(ctx), &query, &page).await.gql()?;
    super::prefetch::article_page(ctx, &page).await?;
    Ok(connection(ctx, page, Count::Articles(query), Article))
}

#[derive(InputObject)]
pub struct AudienceInput {
    summary: Option<String>,
    #[graphql(default)]
    roles: Vec<String>,
    reader_need: Option<String>,
}

#[derive(InputObject)]
pub struct ArticleSectionInput {
    heading: String,
    /// Paragraphs separated by a blank line.
    body: String,
}

#[derive(InputObject)]
pub struct QuestionInput {
    question: String,
    answer: String,
}

/// Article content. On update, a field left out keeps its value and `null` clears it; lists
/// (sections, questions, relatedTitles) replace the whole list, in the order given.
#[derive(InputObject, Default)]
pub struct ArticleInput {
    /// Lower-case ASCII letters, digits and hyphens; defaults to the title's slug on create.
    slug: Option<String>,
    title: Option<String>,
    thesis: MaybeUndefined<String>,
    point: MaybeUndefined<String>,
    audience: MaybeUndefined<AudienceInput>,
    real_problem: MaybeUndefined<String>,
    record_matters: MaybeUndefined<String>,
    smarter_question: MaybeUndefined<String>,
    proves: MaybeUndefined<String>,
    sections: Option<Vec<ArticleSectionInput>>,
    questions: Option<Vec<QuestionInput>>,
    /// Titles of related articles; a title with no article yet is kept as a pending link.
    related_titles: Option<Vec<String>>,
    /// Collection slug.
    collection: MaybeUndefined<String>,
    /// Slug of the paired proof record.
    proof_record: MaybeUndefined<String>,
    /// Schedule a publish (publisher role); `null` cancels a schedule.
    publish_at: MaybeUndefined<DateTime<Utc>>,
}

impl From<ArticleInput> for service::ArticlePatch {
    fn from(input: ArticleInput) -> Self {
        use super::maybe;
        service::ArticlePatch {
            slug: input.slug,
            title: input.title,
            thesis: maybe(input.thesis),
            point: maybe(input.point),
            audience: maybe(input.audience).map(|a| {
                a.map(|a| service::Audience { summary: a.summary, roles: a.roles, reader_need: a.reader_need })
            }),
            real_problem: maybe(input.real_problem),
            record_matters: maybe(input.record_matters),
            smarter_question: maybe(input.smarter_question),
            proves: maybe(input.proves),
            sections: input.sections.map(|list| {
                list.into_iter().map(|s| service::SectionInput { heading: s.heading, body: s.body }).collect()
            }),
            questions: input.questions.map(|list| {
                list.into_iter().map(|q| service::QuestionInput { question: q.question, answer: q.answer }).collect()
            }),
            related_titles: input.related_titles,
            collection: maybe(input.collection),
            proof_record: maybe(input.proof_record),
            publish_at: maybe(input.publish_at),
        }
    }
}

/// Scheduling through an input field is a publisher's right: an editor setting it is refused, not ignored.
fn check_publish_at_role(ctx: &Context<'_>, input: &ArticleInput) -> Result<()> {
    super::require(ctx, Role::Editor)?;
    if !input.publish_at.is_undefined() {
        super::require_for_field(ctx, Role::Publisher, "publishAt")?;
    }
    Ok(())
}

staged::staged_mutations! {
    ArticleMutation for Article {
        input: ArticleInput,
        check: check_publish_at_role,
        create: "createArticle",
        update: "updateArticle",
        delete: "deleteArticle",
        unpublish: "unpublishArticle",
        archive: "archiveArticle",
        schedule: "scheduleArticle",
        restore: "restoreArticleRevision",
    }
}

/// An article publishes its own way: optionally with its proof record, in one transaction.
#[derive(Default)]
pub struct ArticlePublishMutation;

#[Object]
impl ArticlePublishMutation {
    /// Publishes the current draft (publisher). With `withProofRecord`, the paired proof record (its
    /// observations and cleared frames) is published in the same transaction, so the public never sees one without the other.
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        #[graphql(default = false)] with_proof_record: bool,
    ) -> Result<Article> {
        let (who, doc) = staged::target::<Article>(ctx, Role::Publisher, &id)?;
        let db = super::db(ctx);
        Ok(Article(editorial::publish_article(db, &who, &doc, expected_version, with_proof_record).await.gql()?))
    }
}
