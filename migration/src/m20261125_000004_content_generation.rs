//! A single counter bumped by every content write, so each serving process can tell (by polling one
//! row) that its cached public responses are stale, whichever process made the write.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentGeneration {
    Table,
    Id,
    Generation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContentGeneration::Table)
                    .col(ColumnDef::new(ContentGeneration::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(ContentGeneration::Generation).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(ContentGeneration::Table)
            .columns([ContentGeneration::Id, ContentGeneration::Generation])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContentGeneration::Table).to_owned()).await
    }
}
