//! Lists of articles and proof records sort by when they were published, falling back to when they were
//! created (drafts in preview have no publication date): `COALESCE(published_at, created_at), id`. No
//! index matched that expression, so every uncached list page sorted every row of its stage. An index on
//! the expression itself (both backends support them) lets a page read just its rows in order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const LISTED: [&str; 2] = ["articles", "proof_records"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in LISTED {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX ix_{table}_stage_sort ON {table} (stage, (COALESCE(published_at, created_at)), id)"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in LISTED {
            manager.get_connection().execute_unprepared(&format!("DROP INDEX ix_{table}_stage_sort")).await?;
        }
        Ok(())
    }
}
