//! Prefetching for lists: once a page of rows is known, load each relation the query selects for
//! the whole page in one batch and prime the request's DataLoader cache. This keeps the statement
//! count of a list query fixed, independent of timing (the DataLoader's own batching is time-based),
//! and costs no batching delay.

use async_graphql::{Context, Lookahead, Result};
use entity::{article, proof_record};

use super::loaders::{
    ArticleSlug, AssetsOf, ChannelsOf, CollectionRow, LinksOf, ObservationsOf, OfferedAssetsOf, ProofRecordDoc,
    QuestionsOf, ScopeOf, SectionsOf, SnippetsOf, prime,
};

/// The selections under a connection's nodes (`edges { node }` and `nodes`).
pub fn connection_nodes<'a>(ctx: &'a Context<'_>) -> [Lookahead<'a>; 2] {
    let here = ctx.look_ahead();
    [here.field("edges").field("node"), here.field("nodes")]
}

fn selects(selections: &[Lookahead<'_>], field: &str) -> bool {
    selections.iter().any(|s| s.field(field).exists())
}

fn under<'a>(selections: &[Lookahead<'a>], field: &str) -> Vec<Lookahead<'a>> {
    selections.iter().map(|s| s.field(field)).collect()
}

pub async fn articles(ctx: &Context<'_>, selections: &[Lookahead<'_>], rows: &[article::Model]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let loader = super::loader(ctx);
    let ids: Vec<i32> = rows.iter().map(|a| a.id).collect();
    let sections = async {
        if selects(selections, "sections") {
            prime(loader, ids.iter().map(|&i| SectionsOf(i))).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let questions = async {
        if selects(selections, "questions") {
            prime(loader, ids.iter().map(|&i| QuestionsOf(i))).await?;
        }
        Ok(())
    };
    let links = async {
        if selects(selections, "relatedArticles") || selects(selections, "relatedLinks") {
            let links = prime(loader, ids.iter().map(|&i| LinksOf(i))).await?;
            let slugs = links.values().flatten().map(|l| ArticleSlug(l.target_slug.clone()));
            prime(loader, slugs).await?;
        }
        Ok(())
    };
    let collections = async {
        if selects(selections, "collection") {
            prime(loader, rows.iter().filter_map(|a| a.collection_id).map(CollectionRow)).await?;
        }
        Ok(())
    };
    let records = async {
        if selects(selections, "proofRecord") {
            let docs = rows.iter().filter_map(|a| a.proof_record_document_id.clone()).map(ProofRecordDoc);
            let records: Vec<proof_record::Model> = prime(loader, docs).await?.into_values().flatten().collect();
            proof_records(ctx, &under(selections, "proofRecord"), &records).await?;
        }
        Ok(())
    };
    tokio::try_join!(sections, questions, links, collections, records)?;
    Ok(())
}

pub async fn proof_records(
    ctx: &Context<'_>,
    selections: &[Lookahead<'_>],
    rows: &[proof_record::Model],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let loader = super::loader(ctx);
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let observations = async {
        if selects(selections, "observations") {
            prime(loader, ids.iter().map(|&i| ObservationsOf(i))).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let assets = async {
        if selects(selections, "assets") {
            let frames: Vec<i32> = match super::release::offer_here(ctx) {
                crate::service::release::Offer::Channel(channel) => {
                    let frames = prime(loader, ids.iter().map(|&i| OfferedAssetsOf(i, channel))).await?;
                    frames.values().flatten().map(|f| f.id).collect()
                }
                _ => prime(loader, ids.iter().map(|&i| AssetsOf(i))).await?.values().flatten().map(|f| f.id).collect(),
            };
            if selects(&under(selections, "assets"), "releaseChannels") {
                prime(loader, frames.into_iter().map(ScopeOf)).await?;
            }
        }
        Ok(())
    };
    let channels = async {
        if selects(selections, "channels") {
            prime(loader, ids.iter().map(|&i| ChannelsOf(i))).await?;
        }
        Ok(())
    };
    let snippets = async {
        if selects(selections, "snippets") {
            prime(loader, rows.iter().map(|r| SnippetsOf(r.document_id.clone()))).await?;
        }
        Ok(())
    };
    tokio::try_join!(observations, assets, channels, snippets)?;
    Ok(())
}
