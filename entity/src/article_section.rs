use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_sections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub article_id: i32,
    pub position: i32,
    pub heading: String,
    /// Paragraphs separated by a blank line.
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
