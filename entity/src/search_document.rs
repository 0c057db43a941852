use sea_orm::entity::prelude::*;

use crate::Stage;

/// One searchable text per staged row; the full-text index (FTS5 or tsvector) is built on it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `article`, `proof_record` or `question`.
    pub kind: String,
    pub stage: Stage,
    pub row_id: i32,
    pub title: String,
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
