//! Per-request DataLoaders: every relation field resolves through one batched query per key type.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    article, article_link, article_section, asset, collection, observation, proof_record, proof_snippet, question,
    reuse_channel,
};
use sea_orm::DatabaseConnection;

use super::tags::ReadTags;
use crate::service::changes;
use crate::service::staged::{self, Articles, ProofRecords};
use crate::service::{self, Visibility, article as articles, catalog, proof_record as proof_records, snippet};

/// Loads for one request at one visibility, noting the cache tags of what they load (see [`super::tags`]).
pub struct Loaders {
    db: DatabaseConnection,
    visibility: Visibility,
    tags: Arc<ReadTags>,
}

pub type BacklotLoader = DataLoader<Loaders, HashMapCache>;

pub fn new_loader(db: DatabaseConnection, visibility: Visibility, tags: Arc<ReadTags>) -> BacklotLoader {
    // Cached per request, so prefetched relations are served without another query.
    // Batches run on tasks of their own, still counted against the request (access log, metrics).
    DataLoader::with_cache(
        Loaders { db, visibility, tags },
        crate::http::observe::spawn_in_request,
        HashMapCache::default(),
    )
}

impl Loaders {
    /// Tags each document found by `tag`, and the kind's list tag `missed` when some key found nothing
    /// (the key names no document a write could name, so any write of the kind may make it appear).
    fn note_found<M>(&self, keys: usize, rows: &[M], tag: impl Fn(&M) -> String, missed: &str) {
        self.tags.note_all(rows.iter().map(tag));
        if rows.len() < keys {
            self.tags.note(missed);
        }
    }
}

type LoadResult<K, V> = Result<HashMap<K, V>, async_graphql::Error>;

/// Loads `keys` now and primes the request's cache with the results, so the fields that follow are
/// answered from it. For prefetching, where every key of a level is known up front: `load_many` would
/// wait out the DataLoader's batching window (1 ms on each round trip) for keys that are all there.
pub async fn prime<K>(
    loader: &BacklotLoader,
    keys: impl IntoIterator<Item = K>,
) -> Result<HashMap<K, <Loaders as Loader<K>>::Value>, async_graphql::Error>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: Loader<K, Error = async_graphql::Error>,
{
    let keys: Vec<K> = keys.into_iter().collect::<std::collections::HashSet<K>>().into_iter().collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let values = loader.loader().load(&keys).await?;
    loader.feed_many(values.clone()).await;
    Ok(values)
}

fn by<K: std::hash::Hash + Eq, M>(rows: Vec<M>, key: impl Fn(&M) -> K) -> HashMap<K, Option<M>> {
    rows.into_iter().map(|m| (key(&m), Some(m))).collect()
}

fn ids<K: Clone>(keys: &[impl KeyOf<K>]) -> Vec<K> {
    keys.iter().map(|k| k.inner().clone()).collect()
}

/// An entry for every requested key (empty or `None` when nothing matched), so the per-request
/// cache also remembers misses and a later `load_one` never queries again.
fn fill<K, N, V>(keys: &[N], map: HashMap<K, V>) -> HashMap<N, V>
where
    K: std::hash::Hash + Eq,
    N: Clone + std::hash::Hash + Eq + KeyOf<K>,
    V: Clone + Default,
{
    keys.iter().map(|k| (k.clone(), map.get(k.inner()).cloned().unwrap_or_default())).collect()
}

trait KeyOf<K> {
    fn inner(&self) -> &K;
}

macro_rules! keys {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub struct $name(pub $ty);
            impl KeyOf<$ty> for $name {
                fn inner(&self) -> &$ty { &self.0 }
            }
        )*
    };
}

keys! {
    SectionsOf(i32),
    QuestionsOf(i32),
    LinksOf(i32),
    ArticleRow(i32),
    ArticleSlug(String),
    ArticleDoc(String),
    ArticlesOfProofRecord(String),
    ProofRecordDoc(String),
    ProofRecordRow(i32),
    ObservationsOf(i32),
    AssetsOf(i32),
    ScopeOf(i32),
    ChannelsOf(i32),
    SnippetsOf(String),
    CollectionRow(i32),
    ChannelRow(i32),
    ChannelSlug(String),
}

fn gql(e: service::ServiceError) -> async_graphql::Error {
    crate::error::to_graphql_error(e)
}

impl Loader<SectionsOf> for Loaders {
    type Value = Vec<article_section::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[SectionsOf]) -> LoadResult<SectionsOf, Self::Value> {
        Ok(fill(keys, articles::sections_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<QuestionsOf> for Loaders {
    type Value = Vec<question::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[QuestionsOf]) -> LoadResult<QuestionsOf, Self::Value> {
        Ok(fill(keys, articles::questions_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<LinksOf> for Loaders {
    type Value = Vec<article_link::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[LinksOf]) -> LoadResult<LinksOf, Self::Value> {
        Ok(fill(keys, articles::links_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<ArticleRow> for Loaders {
    type Value = Option<article::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ArticleRow]) -> LoadResult<ArticleRow, Self::Value> {
        let rows = staged::by_ids::<Articles>(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::article(&m.slug), changes::ARTICLES);
        Ok(fill(keys, by(rows, |m| m.id)))
    }
}

impl Loader<ArticleSlug> for Loaders {
    type Value = Option<article::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ArticleSlug]) -> LoadResult<ArticleSlug, Self::Value> {
        let rows = articles::by_slugs(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        // By the slug asked for, found or not: its later arrival is a write to that slug.
        self.tags.note_all(keys.iter().map(|k| changes::article(&k.0)));
        Ok(fill(keys, by(rows, |m| m.slug.clone())))
    }
}

impl Loader<ArticleDoc> for Loaders {
    type Value = Option<article::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ArticleDoc]) -> LoadResult<ArticleDoc, Self::Value> {
        let rows = staged::by_document_ids::<Articles>(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::article(&m.slug), changes::ARTICLES);
        Ok(fill(keys, by(rows, |m| m.document_id.clone())))
    }
}

impl Loader<ArticlesOfProofRecord> for Loaders {
    type Value = Vec<article::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ArticlesOfProofRecord]) -> LoadResult<ArticlesOfProofRecord, Self::Value> {
        let rows = articles::by_proof_record_documents(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        // Which articles pair with a record is written on the articles: any article write may change it.
        self.tags.note(changes::ARTICLES);
        let grouped = articles::group(rows, |m| m.proof_record_document_id.clone().unwrap_or_default());
        Ok(fill(keys, grouped))
    }
}

impl Loader<ProofRecordDoc> for Loaders {
    type Value = Option<proof_record::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ProofRecordDoc]) -> LoadResult<ProofRecordDoc, Self::Value> {
        let rows = staged::by_document_ids::<ProofRecords>(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::proof_record(&m.slug), changes::PROOF_RECORDS);
        Ok(fill(keys, by(rows, |m| m.document_id.clone())))
    }
}

impl Loader<ProofRecordRow> for Loaders {
    type Value = Option<proof_record::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ProofRecordRow]) -> LoadResult<ProofRecordRow, Self::Value> {
        let rows = staged::by_ids::<ProofRecords>(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::proof_record(&m.slug), changes::PROOF_RECORDS);
        Ok(fill(keys, by(rows, |m| m.id)))
    }
}

impl Loader<ObservationsOf> for Loaders {
    type Value = Vec<observation::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ObservationsOf]) -> LoadResult<ObservationsOf, Self::Value> {
        Ok(fill(keys, proof_records::observations_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<AssetsOf> for Loaders {
    type Value = Vec<asset::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[AssetsOf]) -> LoadResult<AssetsOf, Self::Value> {
        Ok(fill(keys, proof_records::assets_of(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?))
    }
}

/// A proof record row's public frames as offered to a reuse channel (its id): `reuseChannel { proofRecords { assets } }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfferedAssetsOf(pub i32, pub i32);

impl Loader<OfferedAssetsOf> for Loaders {
    type Value = Vec<asset::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[OfferedAssetsOf]) -> LoadResult<OfferedAssetsOf, Self::Value> {
        let mut by_channel: HashMap<i32, Vec<i32>> = HashMap::new();
        for key in keys {
            by_channel.entry(key.1).or_default().push(key.0);
        }
        let mut out = HashMap::new();
        for (channel, ids) in by_channel {
            let offer = service::release::Offer::Channel(channel);
            let mut found =
                proof_records::offered_assets_of(&self.db, self.visibility, offer, &ids).await.map_err(gql)?;
            out.extend(ids.into_iter().map(|id| (OfferedAssetsOf(id, channel), found.remove(&id).unwrap_or_default())));
        }
        Ok(out)
    }
}

impl Loader<ScopeOf> for Loaders {
    type Value = Vec<reuse_channel::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ScopeOf]) -> LoadResult<ScopeOf, Self::Value> {
        Ok(fill(keys, service::release::scopes_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<ChannelsOf> for Loaders {
    type Value = Vec<reuse_channel::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ChannelsOf]) -> LoadResult<ChannelsOf, Self::Value> {
        Ok(fill(keys, proof_records::channels_of(&self.db, &ids(keys)).await.map_err(gql)?))
    }
}

impl Loader<SnippetsOf> for Loaders {
    type Value = Vec<proof_snippet::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[SnippetsOf]) -> LoadResult<SnippetsOf, Self::Value> {
        let found = snippet::of_proof_records(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.tags.note(changes::SNIPPETS);
        Ok(fill(keys, found))
    }
}

impl Loader<CollectionRow> for Loaders {
    type Value = Option<collection::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[CollectionRow]) -> LoadResult<CollectionRow, Self::Value> {
        let rows = catalog::visible_by_ids(&self.db, self.visibility, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::collection(&m.slug), changes::COLLECTIONS);
        Ok(fill(keys, by(rows, |m| m.id)))
    }
}

impl Loader<ChannelSlug> for Loaders {
    type Value = Option<reuse_channel::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ChannelSlug]) -> LoadResult<ChannelSlug, Self::Value> {
        let slugs: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        self.tags.note_all(slugs.iter().map(|s| changes::channel(s)));
        let rows = catalog::channels_by_slugs(&self.db, &slugs).await.map_err(gql)?;
        Ok(fill(keys, by(rows, |m| m.slug.clone())))
    }
}

impl Loader<ChannelRow> for Loaders {
    type Value = Option<reuse_channel::Model>;
    type Error = async_graphql::Error;
    async fn load(&self, keys: &[ChannelRow]) -> LoadResult<ChannelRow, Self::Value> {
        let rows = catalog::channels_by_ids(&self.db, &ids(keys)).await.map_err(gql)?;
        self.note_found(keys.len(), &rows, |m| changes::channel(&m.slug), changes::CHANNELS);
        Ok(fill(keys, by(rows, |m| m.id)))
    }
}
