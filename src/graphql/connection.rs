//! Relay connections with `totalCount`, built from a service [`Page`].

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType, Result};

use crate::error::GqlResult;
use crate::service::{
    self, Page, PageRequest, Visibility, article::ArticleListing, changes, proof_record::ProofRecordListing,
    question::QuestionFilter,
};

/// What `totalCount` counts; it runs only when a client asks for it.
pub enum Count {
    Articles(ArticleListing),
    ProofRecords(ProofRecordListing),
    Questions(Visibility, QuestionFilter),
    ChannelSnippets(Visibility, i32),
    ChannelAssets(Visibility, i32),
}

pub struct TotalCount(pub Count);

#[Object]
impl TotalCount {
    /// Items in the whole list, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let db = super::db(ctx);
        let counted = match &self.0 {
            Count::Articles(q) => service::article::count(db, q).await,
            Count::ProofRecords(q) => service::proof_record::count(db, q).await,
            Count::Questions(v, f) => service::question::count(db, *v, f).await,
            Count::ChannelSnippets(v, id) => service::snippet::count_for_channel(db, *v, *id).await,
            Count::ChannelAssets(v, id) => {
                service::proof_record::count_channel_assets(db, *v, *id).await.map(|(n, next_expiry)| {
                    super::release::note_expiry(ctx, next_expiry);
                    n
                })
            }
        };
        counted.gql()
    }
}

pub type CountedConnection<N> = Connection<String, N, TotalCount, EmptyFields>;

pub fn page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageRequest {
    PageRequest { first, after, last, before }
}

/// A page as a connection, tagging the answer with the list's kind (any write of the kind may add, remove or
/// reorder its items; the items' own fields are the kind's documents, which its writes name too).
pub fn connection<M, N: OutputType>(
    ctx: &Context<'_>,
    page: Page<M>,
    count: Count,
    wrap: impl Fn(M) -> N,
) -> CountedConnection<N> {
    let listed = match &count {
        Count::Articles(_) | Count::Questions(..) => changes::ARTICLES,
        Count::ProofRecords(_) | Count::ChannelAssets(..) => changes::PROOF_RECORDS,
        Count::ChannelSnippets(..) => changes::SNIPPETS,
    };
    super::tags::note(ctx, listed);
    let mut connection = Connection::with_additional_fields(page.has_previous, page.has_next, TotalCount(count));
    connection.edges.extend(page.items.into_iter().map(|(cursor, model)| Edge::new(cursor, wrap(model))));
    connection
}
