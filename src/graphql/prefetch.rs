//! Prefetching for lists: once a page of rows is known, load each relation the query selects for
//! the whole page in one batch and prime the request's DataLoader cache. This keeps the statement
//! count of a list query fixed, independent of timing (the DataLoader's own batching is time-based),
//! and costs no batching delay.

use async_graphql::{Context, Lookahead, Result};
use entity::{article, asset, proof_record, proof_snippet, question};

use crate::service::pagination::Page;

use super::loaders::{
    ArticleDoc, ArticleRow, ArticleSlug, AssetsOf, ChannelRow, ChannelsOf, CollectionRow, LinksOf, ObservationsOf,
    OfferedAssetsOf, ProofRecordDoc, ProofRecordRow, QuestionsOf, ScopeOf, SectionsOf, SnippetsOf, prime,
};

/// The selections under a connection's nodes (`edges { node }` and `nodes`).
pub fn connection_nodes<'a>(ctx: &'a Context<'_>) -> [Lookahead<'a>; 2] {
    let here = ctx.look_ahead();
    [here.field("edges").field("node"), here.field("nodes")]
}

/// Prefetches for a page of articles about to become a connection.
pub async fn article_page(ctx: &Context<'_>, page: &Page<article::Model>) -> Result<()> {
    articles(ctx, &connection_nodes(ctx), &rows_of(page)).await
}

/// Prefetches for a page of proof records about to become a connection.
pub async fn proof_record_page(ctx: &Context<'_>, page: &Page<proof_record::Model>) -> Result<()> {
    proof_records(ctx, &connection_nodes(ctx), &rows_of(page)).await
}

fn rows_of<M: Clone>(page: &Page<M>) -> Vec<M> {
    page.items.iter().map(|(_, m)| m.clone()).collect()
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

/// A page of questions: the article each belongs to.
pub async fn questions(ctx: &Context<'_>, selections: &[Lookahead<'_>], rows: &[&question::Model]) -> Result<()> {
    if selects(selections, "article") {
        prime(super::loader(ctx), rows.iter().map(|q| ArticleRow(q.article_id))).await?;
    }
    Ok(())
}

/// A page of snippets: their channel, proof record and article.
pub async fn snippets(ctx: &Context<'_>, selections: &[Lookahead<'_>], rows: &[&proof_snippet::Model]) -> Result<()> {
    let loader = super::loader(ctx);
    if selects(selections, "channel") {
        prime(loader, rows.iter().map(|s| ChannelRow(s.channel_id))).await?;
    }
    if selects(selections, "proofRecord") {
        prime(loader, rows.iter().map(|s| ProofRecordDoc(s.proof_record_document_id.clone()))).await?;
    }
    if selects(selections, "article") {
        prime(loader, rows.iter().filter_map(|s| s.article_document_id.clone().map(ArticleDoc))).await?;
    }
    Ok(())
}

/// A page of frames: their proof record.
pub async fn assets(ctx: &Context<'_>, selections: &[Lookahead<'_>], rows: &[&asset::Model]) -> Result<()> {
    if selects(selections, "proofRecord") {
        prime(super::loader(ctx), rows.iter().map(|a| ProofRecordRow(a.proof_record_id))).await?;
    }
    if selects(selections, "releaseChannels") {
        prime(super::loader(ctx), rows.iter().map(|a| ScopeOf(a.id))).await?;
    }
    Ok(())
}
