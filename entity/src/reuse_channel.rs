use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reuse_channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// `None` means the channel takes snippets of any length.
    pub max_chars: Option<i32>,
    pub position: i32,
    /// Bumped by every change to the document; updates carry the version they were based on.
    pub version: i32,
    /// A snippet without a credit line does not fit the channel.
    pub requires_credit: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
