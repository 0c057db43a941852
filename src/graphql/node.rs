//! Relay global object identification: opaque IDs ("Type:key" in base64url) and `node(id:)`.

use async_graphql::{Context, ID, Interface, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::article::Article;
use super::collection::Collection;
use super::proof_record::{Asset, ProofRecord};
use super::question::Question;
use super::reuse_channel::ReuseChannel;
use super::snippet::ProofSnippet;
use crate::error::GqlResult;
use crate::service::{self, catalog, changes};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier, stable across publishes."))]
pub enum Node {
    Article(Article),
    ProofRecord(ProofRecord),
    Question(Question),
    Asset(Asset),
    ProofSnippet(ProofSnippet),
    Collection(Collection),
    ReuseChannel(ReuseChannel),
}

pub fn global_id(type_name: &str, key: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}")))
}

/// The key inside a global ID of `type_name`, or BAD_USER_INPUT naming `field`.
pub fn decode(field: &str, id: &ID, type_name: &str) -> async_graphql::Result<String> {
    match parse(id) {
        Some((t, key)) if t == type_name => Ok(key),
        _ => {
            let article = if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
            Err(crate::error::bad_input(field, &format!("is not the ID of {article} {type_name}")))
        }
    }
}

fn parse(id: &str) -> Option<(String, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let (type_name, key) = raw.split_once(':')?;
    Some((type_name.to_string(), key.to_string()))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; `null` when it does not exist or is not visible to you.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some((type_name, key)) = parse(&id) else {
            return Err(crate::error::bad_input("id", "is not an ID issued by this API"));
        };
        let db = super::db(ctx);
        let v = super::visibility(ctx);
        // By what a write of the kind names: the document's key when the ID carries it, else the kind's list.
        let tag = match type_name.as_str() {
            "Collection" => changes::collection(&key),
            "ReuseChannel" => changes::channel(&key),
            "ProofRecord" | "Asset" => changes::PROOF_RECORDS.to_string(),
            // A snippet's offer also changes with its record's and source's writes, which name `snippets`.
            "ProofSnippet" => changes::SNIPPETS.to_string(),
            _ => changes::ARTICLES.to_string(),
        };
        super::tags::note(ctx, tag);
        let node = match type_name.as_str() {
            "Article" => service::staged::by_document_id::<service::staged::Articles>(db, v, &key)
                .await
                .gql()?
                .map(|m| Node::Article(Article(m))),
            "ProofRecord" => service::staged::by_document_id::<service::staged::ProofRecords>(db, v, &key)
                .await
                .gql()?
                .map(|m| Node::ProofRecord(ProofRecord(m))),
            "Question" => {
                service::question::by_document_id(db, v, &key).await.gql()?.map(|m| Node::Question(Question(m)))
            }
            "Asset" => {
                let found = service::proof_record::assets_by_document_ids(db, v, &[key]).await.gql()?;
                super::release::note_frames(ctx, &found);
                found.into_iter().next().map(|m| Node::Asset(Asset(m)))
            }
            "ProofSnippet" => service::staged::by_document_id::<service::staged::Snippets>(db, v, &key)
                .await
                .gql()?
                .map(|m| Node::ProofSnippet(ProofSnippet(m))),
            "Collection" => catalog::visible_by_slug(db, v, &key).await.gql()?.map(|m| Node::Collection(Collection(m))),
            "ReuseChannel" => {
                catalog::channel_by_slug(db, &key).await.gql()?.map(|m| Node::ReuseChannel(ReuseChannel(m)))
            }
            _ => None,
        };
        Ok(node)
    }
}
