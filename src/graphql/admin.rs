//! Editorial and admin surface: the caller, revisions, the audit log, tokens, collections and reuse channels.

use async_graphql::{Context, Enum, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_token, audit_entry, revision};

use super::collection::Collection;
use super::connection::page_request;
use super::reuse_channel::ReuseChannel;
use crate::error::GqlResult;
use crate::service::admin as service;
use crate::service::audit;
use crate::service::catalog::{ChannelInput, CollectionInput};
use crate::service::token::{self, Role};

/// What a token may do; each role includes the ones before it.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Role")]
pub enum RoleValue {
    /// Read drafts.
    Preview,
    /// Create and edit drafts.
    Editor,
    /// Editor, plus publish, unpublish, archive and schedule.
    Publisher,
    /// Publisher, plus collections, reuse channels, tokens and the audit log.
    Admin,
}

impl From<RoleValue> for Role {
    fn from(r: RoleValue) -> Role {
        match r {
            RoleValue::Preview => Role::Preview,
            RoleValue::Editor => Role::Editor,
            RoleValue::Publisher => Role::Publisher,
            RoleValue::Admin => Role::Admin,
        }
    }
}

impl From<Role> for RoleValue {
    fn from(r: Role) -> RoleValue {
        match r {
            Role::Preview => RoleValue::Preview,
            Role::Editor => RoleValue::Editor,
            Role::Publisher => RoleValue::Publisher,
            Role::Admin => RoleValue::Admin,
        }
    }
}

/// One stored version of a document.
pub struct Revision(revision::Model);

#[Object]
impl Revision {
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Name of the token (or `import`, `demo`) that wrote it.
    async fn author(&self) -> &str {
        &self.0.author
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The document's full editable content at this version.
    async fn content(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.content).unwrap_or(serde_json::Value::Null))
    }
}

pub(crate) async fn revisions(ctx: &Context<'_>, entity_type: &str, document_id: &str) -> Result<Vec<Revision>> {
    let rows = crate::service::revision::list(super::db(ctx), entity_type, document_id).await.gql()?;
    Ok(rows.into_iter().map(Revision).collect())
}

pub struct AuditEntry(audit_entry::Model);

#[Object]
impl AuditEntry {
    async fn token_name(&self) -> &str {
        &self.0.token_name
    }
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// The entity's document id or slug.
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What changed, where an action records it: for `releaseChanged`, the frame's proof record and
    /// position, `from` and `to` (`release`, `expiresAt`, `channels`) and the editor's `reason`.
    async fn detail(&self) -> Option<Json<serde_json::Value>> {
        let text = self.0.detail.as_deref()?;
        Some(Json(serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))))
    }
}

/// A token as listed: never its secret.
pub struct ApiToken(api_token::Model);

#[Object]
impl ApiToken {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Option<RoleValue> {
        Role::parse(&self.0.role).map(Into::into)
    }
    /// The start of the secret, to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(SimpleObject)]
pub struct CreatedApiToken {
    token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`. Shown once; only its hash is stored.
    secret: String,
}

#[derive(SimpleObject)]
pub struct Viewer {
    token_name: String,
    role: RoleValue,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The token making this request; null without one.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        let scope = ctx.data_opt::<super::RequestScope>()?;
        let p = scope.principal.as_ref()?;
        Some(Viewer { token_name: p.token_name.clone(), role: p.role.into() })
    }

    /// Every token (admin).
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        super::require(ctx, Role::Admin)?;
        Ok(token::list(super::db(ctx)).await.gql()?.into_iter().map(ApiToken).collect())
    }

    /// Every write, newest first (admin).
    #[graphql(complexity = "super::page_complexity(child_complexity, first, None)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, AuditEntry>> {
        super::require(ctx, Role::Admin)?;
        let page = audit::list(super::db(ctx), &page_request(first, after, None, None)).await.gql()?;
        let mut connection = async_graphql::connection::Connection::new(page.has_previous, page.has_next);
        connection.edges.extend(
            page.items.into_iter().map(|(cursor, m)| async_graphql::connection::Edge::new(cursor, AuditEntry(m))),
        );
        Ok(connection)
    }
}

#[derive(InputObject)]
pub struct CollectionInputValue {
    slug: Option<String>,
    name: Option<String>,
    description: MaybeUndefined<String>,
}

impl From<CollectionInputValue> for CollectionInput {
    fn from(v: CollectionInputValue) -> Self {
        CollectionInput { slug: v.slug, name: v.name, description: super::maybe(v.description) }
    }
}

#[derive(InputObject)]
pub struct ReuseChannelInput {
    slug: Option<String>,
    name: Option<String>,
    description: MaybeUndefined<String>,
    /// Longest snippet the channel takes; null for no limit.
    max_chars: MaybeUndefined<i32>,
    /// Snippets must carry a credit line to fit (e.g. hiring materials); those without one stop being offered.
    requires_credit: Option<bool>,
}

impl From<ReuseChannelInput> for ChannelInput {
    fn from(v: ReuseChannelInput) -> Self {
        ChannelInput {
            slug: v.slug,
            name: v.name,
            description: super::maybe(v.description),
            max_chars: super::maybe(v.max_chars),
            requires_credit: v.requires_credit,
        }
    }
}

fn admin(ctx: &Context<'_>) -> Result<crate::service::editorial::Actor> {
    Ok(super::actor(super::require(ctx, Role::Admin)?))
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Creates a token (admin). The secret is in the answer and nowhere else.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        role: RoleValue,
        #[graphql(desc = "Lifetime such as \"30d\", \"12h\", \"2w\"; omit for no expiry.")] expires_in: Option<String>,
    ) -> Result<CreatedApiToken> {
        let expires = match expires_in.as_deref() {
            None => None,
            Some(text) => Some(token::parse_duration(text).map_err(|why| crate::error::bad_input("expiresIn", &why))?),
        };
        let who = admin(ctx)?;
        let (model, secret) =
            service::create_api_token(super::db(ctx), &who, name, role.into(), expires).await.gql()?;
        Ok(CreatedApiToken { token: ApiToken(model), secret })
    }

    /// Revokes a token at once (admin).
    async fn revoke_api_token(&self, ctx: &Context<'_>, name: String) -> Result<ApiToken> {
        let who = admin(ctx)?;
        let model = service::revoke_api_token(super::db(ctx), &who, name).await.gql()?;
        Ok(ApiToken(model))
    }

    async fn create_collection(&self, ctx: &Context<'_>, input: CollectionInputValue) -> Result<Collection> {
        let who = admin(ctx)?;
        let model = service::create_collection(super::db(ctx), &who, input.into()).await.gql()?;
        Ok(Collection(model))
    }

    async fn update_collection(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: CollectionInputValue,
    ) -> Result<Collection> {
        let who = admin(ctx)?;
        let model =
            service::update_collection(super::db(ctx), &who, slug, expected_version, input.into()).await.gql()?;
        Ok(Collection(model))
    }

    /// Deletes a collection; its articles stay, outside any collection.
    async fn delete_collection(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<String> {
        let who = admin(ctx)?;
        service::delete_collection(super::db(ctx), &who, slug.clone(), expected_version).await.gql()?;
        Ok(slug)
    }

    async fn create_reuse_channel(&self, ctx: &Context<'_>, input: ReuseChannelInput) -> Result<ReuseChannel> {
        let who = admin(ctx)?;
        let model = service::create_reuse_channel(super::db(ctx), &who, input.into()).await.gql()?;
        Ok(ReuseChannel(model))
    }

    /// Changes a channel; `maxChars` cannot shrink below a snippet already offered for it.
    async fn update_reuse_channel(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: ReuseChannelInput,
    ) -> Result<ReuseChannel> {
        let who = admin(ctx)?;
        let model =
            service::update_reuse_channel(super::db(ctx), &who, slug, expected_version, input.into()).await.gql()?;
        Ok(ReuseChannel(model))
    }

    /// Deletes a channel and the snippets written for it.
    async fn delete_reuse_channel(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<String> {
        let who = admin(ctx)?;
        service::delete_reuse_channel(super::db(ctx), &who, slug.clone(), expected_version).await.gql()?;
        Ok(slug)
    }
}
