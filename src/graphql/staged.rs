//! What the article, proof record and snippet mutations share. Each is: check the role, decode the ID,
//! call one service function (which owns the transaction), wrap the row.

use async_graphql::{Context, ID, Result};
use chrono::{DateTime, Utc};
use entity::ContentStatus;

use crate::error::GqlResult;
use crate::service::editorial::{self, Actor, Row, Staged};
use crate::service::token::Role;

/// A GraphQL object over a staged document's row.
pub(crate) trait StagedObject: Sized {
    type Doc: Staged;
    /// Its type name, as its global IDs carry it.
    const TYPE_NAME: &'static str;
    fn wrap(row: Row<Self::Doc>) -> Self;
    /// Its lifecycle fields, flattened into the object.
    fn lifecycle(&self) -> Lifecycle<'_>;
}

/// The [`Lifecycle`] of a row whose model has the usual staged columns.
macro_rules! lifecycle_of {
    ($row:expr, $doc:ty) => {
        Lifecycle {
            status: $row.status,
            published_at: $row.published_at,
            created_at: $row.created_at,
            updated_at: $row.updated_at,
            version: $row.version,
            publish_at: $row.publish_at,
            document_id: &$row.document_id,
            revision_type: <$doc as Staged>::REVISION_TYPE,
        }
    };
}

impl StagedObject for super::article::Article {
    type Doc = editorial::Articles;
    const TYPE_NAME: &'static str = "Article";
    fn wrap(row: entity::article::Model) -> Self {
        Self(row)
    }
    fn lifecycle(&self) -> Lifecycle<'_> {
        lifecycle_of!(self.0, editorial::Articles)
    }
}

impl StagedObject for super::proof_record::ProofRecord {
    type Doc = editorial::ProofRecords;
    const TYPE_NAME: &'static str = "ProofRecord";
    fn wrap(row: entity::proof_record::Model) -> Self {
        Self(row)
    }
    fn lifecycle(&self) -> Lifecycle<'_> {
        lifecycle_of!(self.0, editorial::ProofRecords)
    }
}

impl StagedObject for super::snippet::ProofSnippet {
    type Doc = editorial::Snippets;
    const TYPE_NAME: &'static str = "ProofSnippet";
    fn wrap(row: entity::proof_snippet::Model) -> Self {
        Self(row)
    }
    fn lifecycle(&self) -> Lifecycle<'_> {
        lifecycle_of!(self.0, editorial::Snippets)
    }
}

/// The caller (at least `role`) and the document `id` names.
pub(crate) fn target<O: StagedObject>(ctx: &Context<'_>, role: Role, id: &ID) -> Result<(Actor, String)> {
    let who = super::actor(super::require(ctx, role)?);
    Ok((who, super::node::decode("id", id, O::TYPE_NAME)?))
}

/// Creates a DRAFT (editor).
pub(crate) async fn create<O: StagedObject>(ctx: &Context<'_>, patch: <O::Doc as Staged>::Patch) -> Result<O> {
    let who = super::actor(super::require(ctx, Role::Editor)?);
    Ok(O::wrap(editorial::create::<O::Doc>(super::db(ctx), &who, patch).await.gql()?))
}

/// Changes the draft (editor).
pub(crate) async fn update<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    patch: <O::Doc as Staged>::Patch,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Editor, id)?;
    Ok(O::wrap(editorial::update::<O::Doc>(super::db(ctx), &who, &doc, expected, patch).await.gql()?))
}

/// Deletes the document (editor); answers its ID.
pub(crate) async fn delete<O: StagedObject>(ctx: &Context<'_>, id: ID, expected: i32) -> Result<ID> {
    let (who, doc) = target::<O>(ctx, Role::Editor, &id)?;
    editorial::delete::<O::Doc>(super::db(ctx), &who, &doc, expected).await.gql()?;
    Ok(id)
}

/// Publishes the draft (publisher).
pub(crate) async fn publish<O: StagedObject>(ctx: &Context<'_>, id: &ID, expected: i32) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::publish::<O::Doc>(super::db(ctx), &who, &doc, expected).await.gql()?))
}

/// Withdraws the published version: unpublish (`status` DRAFT) or archive (publisher).
pub(crate) async fn take_down<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    status: ContentStatus,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::take_down::<O::Doc>(super::db(ctx), &who, &doc, expected, status).await.gql()?))
}

/// Schedules a publish, or cancels it with `None` (publisher).
pub(crate) async fn schedule<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    at: Option<DateTime<Utc>>,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::schedule::<O::Doc>(super::db(ctx), &who, &doc, expected, at).await.gql()?))
}

/// Makes an older revision's content the draft again (editor).
pub(crate) async fn restore<O: StagedObject>(ctx: &Context<'_>, id: &ID, expected: i32, revision: i32) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Editor, id)?;
    Ok(O::wrap(editorial::restore::<O::Doc>(super::db(ctx), &who, &doc, expected, revision).await.gql()?))
}

/// The lifecycle fields every staged document shows. Each object flattens it in with
/// `#[graphql(flatten)]`, so the fields and their descriptions are written once.
pub(crate) struct Lifecycle<'a> {
    pub status: ContentStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub publish_at: Option<DateTime<Utc>>,
    pub document_id: &'a str,
    pub revision_type: &'static str,
}

#[async_graphql::Object]
impl Lifecycle<'_> {
    async fn status(&self) -> super::enums::ContentStatus {
        self.status.into()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.published_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// Bumped by every change; send it back as `expectedVersion` when you update or publish.
    async fn version(&self) -> i32 {
        self.version
    }
    /// When the draft is scheduled to be published (preview token and above).
    async fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.publish_at
    }
    /// Every stored version, newest first (preview token and above).
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<super::admin::Revision>> {
        super::require(ctx, Role::Preview)?;
        super::admin::revisions(ctx, self.revision_type, self.document_id).await
    }
}

/// The mutations every staged document has, under its own names: create, update, publish (unless the
/// kind publishes its own way, as an article with its proof record does), delete, unpublish, archive,
/// schedule and restore a revision. `check` runs first on create and update, for rights a field of the
/// input needs beyond the editor's.
macro_rules! staged_mutations {
    ($(#[$meta:meta])* $mutation:ident for $object:ty {
        input: $input:ty,
        check: $check:path,
        create: $create:tt,
        update: $update:tt,
        $(publish: $publish:tt,)?
        delete: $delete:tt,
        unpublish: $unpublish:tt,
        archive: $archive:tt,
        schedule: $schedule:tt,
        restore: $restore:tt $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            /// Creates a DRAFT (editor).
            #[graphql(name = $create)]
            async fn create(&self, ctx: &async_graphql::Context<'_>, input: $input) -> async_graphql::Result<$object> {
                $check(ctx, &input)?;
                $crate::graphql::staged::create(ctx, TryFrom::try_from(input)?).await
            }

            /// Changes the draft (editor). The public keeps seeing the published version until the next publish.
            #[graphql(name = $update)]
            async fn update(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
                input: $input,
            ) -> async_graphql::Result<$object> {
                $check(ctx, &input)?;
                $crate::graphql::staged::update(ctx, &id, expected_version, TryFrom::try_from(input)?).await
            }

            $(
            /// Publishes the draft (publisher).
            #[graphql(name = $publish)]
            async fn publish(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
            ) -> async_graphql::Result<$object> {
                $crate::graphql::staged::publish(ctx, &id, expected_version).await
            }
            )?

            /// Deletes the document, draft and published, with what belongs only to it (editor). Returns its ID.
            #[graphql(name = $delete)]
            async fn delete(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
            ) -> async_graphql::Result<async_graphql::ID> {
                $crate::graphql::staged::delete::<$object>(ctx, id, expected_version).await
            }

            /// Withdraws the published version; the draft stays (publisher).
            #[graphql(name = $unpublish)]
            async fn unpublish(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
            ) -> async_graphql::Result<$object> {
                $crate::graphql::staged::take_down(ctx, &id, expected_version, entity::ContentStatus::Draft).await
            }

            /// Withdraws the published version and marks the document ARCHIVED (publisher).
            #[graphql(name = $archive)]
            async fn archive(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
            ) -> async_graphql::Result<$object> {
                $crate::graphql::staged::take_down(ctx, &id, expected_version, entity::ContentStatus::Archived).await
            }

            /// Publishes the draft at `publishAt`, or cancels the schedule with `null` (publisher).
            #[graphql(name = $schedule)]
            async fn schedule(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
                publish_at: Option<chrono::DateTime<chrono::Utc>>,
            ) -> async_graphql::Result<$object> {
                $crate::graphql::staged::schedule(ctx, &id, expected_version, publish_at).await
            }

            /// Makes an older revision's content the draft again, as a new revision (editor).
            #[graphql(name = $restore)]
            async fn restore(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: i32,
                revision: i32,
            ) -> async_graphql::Result<$object> {
                $crate::graphql::staged::restore(ctx, &id, expected_version, revision).await
            }
        }
    };
}
pub(crate) use staged_mutations;

/// The `check` of inputs whose every field is an editor's to set.
pub(crate) fn editor_input<I>(ctx: &Context<'_>, _input: &I) -> Result<()> {
    super::require(ctx, Role::Editor).map(|_| ())
}

/// A sort order input (`field` + `direction`) for a listed document, under its own GraphQL names.
macro_rules! order_input {
    ($order:ident, $field:ident) => {
        #[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
        pub enum $field {
            #[default]
            PublishedAt,
            Title,
        }

        #[derive(async_graphql::InputObject)]
        pub struct $order {
            field: $field,
            #[graphql(default)]
            direction: $crate::graphql::enums::OrderDirection,
        }

        impl $order {
            /// The service's sort key and direction; no order means newest first.
            pub(crate) fn resolve(
                order: Option<$order>,
            ) -> ($crate::service::pagination::SortKey, $crate::service::pagination::SortDirection) {
                let (field, direction) = order.map(|o| (o.field, o.direction)).unwrap_or_default();
                let key = match field {
                    $field::PublishedAt => $crate::service::pagination::SortKey::PublishedAt,
                    $field::Title => $crate::service::pagination::SortKey::Title,
                };
                (key, direction.into())
            }
        }
    };
}
pub(crate) use order_input;
