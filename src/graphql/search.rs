//! `search`: ranked full-text hits across articles, proof records and questions.

use std::collections::HashMap;

use async_graphql::{Context, Object, Result, Union};

use super::article::Article;
use super::proof_record::ProofRecord;
use super::question::Question;
use crate::error::GqlResult;
use crate::service::question;
use crate::service::search::{self as service, Kind};
use crate::service::staged::{self, Articles, ProofRecords};

#[derive(Union)]
pub enum SearchHit {
    Article(Article),
    ProofRecord(ProofRecord),
    Question(Question),
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Best matches first. Every word must match (as a prefix). `first` is 1..=100.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, None)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(desc = "Hits to return, 1..=100 (default 20).")] first: Option<i32>,
    ) -> Result<Vec<SearchHit>> {
        let db = super::db(ctx);
        let v = super::visibility(ctx);
        // Any write of a searchable kind names `search`; the hits' relations are tagged as they load.
        super::tags::note(ctx, crate::service::changes::SEARCH);
        let hits = service::hits(db, v, &query, first.unwrap_or(20)).await.gql()?;
        let ids_of = |kind: Kind| hits.iter().filter(|(k, _)| *k == kind).map(|(_, id)| *id).collect::<Vec<_>>();
        let (article_ids, record_ids, question_ids) =
            (ids_of(Kind::Article), ids_of(Kind::ProofRecord), ids_of(Kind::Question));
        let mut found: HashMap<(Kind, i32), SearchHit> = HashMap::new();
        if !article_ids.is_empty() {
            for m in staged::by_ids::<Articles>(db, v, &article_ids).await.gql()? {
                found.insert((Kind::Article, m.id), SearchHit::Article(Article(m)));
            }
        }
        if !record_ids.is_empty() {
            for m in staged::by_ids::<ProofRecords>(db, v, &record_ids).await.gql()? {
                found.insert((Kind::ProofRecord, m.id), SearchHit::ProofRecord(ProofRecord(m)));
            }
        }
        if !question_ids.is_empty() {
            for m in question::by_ids(db, v, &question_ids).await.gql()? {
                found.insert((Kind::Question, m.id), SearchHit::Question(Question(m)));
            }
        }
        // The hits' relations in one batch each, so the statements do not depend on the DataLoader's timing.
        let here = [ctx.look_ahead()];
        let articles: Vec<_> = found
            .values()
            .filter_map(|h| if let SearchHit::Article(a) = h { Some(a.0.clone()) } else { None })
            .collect();
        super::prefetch::articles(ctx, &here, &articles).await?;
        let questions: Vec<_> =
            found.values().filter_map(|h| if let SearchHit::Question(q) = h { Some(&q.0) } else { None }).collect();
        super::prefetch::questions(ctx, &here, &questions).await?;
        Ok(hits.into_iter().filter_map(|key| found.remove(&key)).collect())
    }
}
