//! What each content write changed, as the cache tags it touched, keyed by the generation it bumped to:
//! other serving processes read it to drop only the cached answers that could hold what changed. `tags`
//! NULL means "anything may have changed". Only recent rows are kept; a process that falls further behind
//! drops its whole cache.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentChanges {
    Table,
    Generation,
    Origin,
    Tags,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContentChanges::Table)
                    .col(ColumnDef::new(ContentChanges::Generation).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(ContentChanges::Origin).string().not_null())
                    .col(ColumnDef::new(ContentChanges::Tags).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContentChanges::Table).to_owned()).await
    }
}
