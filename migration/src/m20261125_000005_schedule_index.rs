//! The scheduler asks every second for drafts whose `publish_at` has passed. An index on `publish_at`
//! alone lost to the `stage` indexes in SQLite's planner, so that query scanned every draft; an index on
//! `(stage, publish_at)` answers it from the few scheduled rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEDULED: [&str; 3] = ["articles", "proof_records", "proof_snippets"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in SCHEDULED {
            manager
                .drop_index(Index::drop().name(format!("ix_{table}_publish_at")).table(Alias::new(table)).to_owned())
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_{table}_stage_publish_at"))
                        .table(Alias::new(table))
                        .col(Alias::new("stage"))
                        .col(Alias::new("publish_at"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in SCHEDULED {
            manager
                .drop_index(
                    Index::drop().name(format!("ix_{table}_stage_publish_at")).table(Alias::new(table)).to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_{table}_publish_at"))
                        .table(Alias::new(table))
                        .col(Alias::new("publish_at"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
