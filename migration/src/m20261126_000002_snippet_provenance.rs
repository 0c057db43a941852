//! Snippets that know where they came from: what each quotes (observations by position, a question, an
//! article section), a fingerprint of that source when the snippet was approved, and why it went stale. A
//! snippet's credit line, and reuse channels that require one (hiring materials does). `char_count` now
//! counts extended grapheme clusters, so existing rows are recounted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};
use unicode_segmentation::UnicodeSegmentation;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProofSnippets {
    Table,
    Id,
    Body,
    CharCount,
    Credit,
    SourceObservations,
    SourceQuestion,
    SourceSection,
    SourceHashes,
    SourceVersion,
    ApprovedAt,
    StaleReason,
    StaleSince,
}

#[derive(DeriveIden)]
enum ReuseChannels {
    Table,
    Slug,
    RequiresCredit,
}

#[derive(FromQueryResult)]
struct Body {
    id: i32,
    body: String,
    char_count: i32,
}

fn added() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(ProofSnippets::Credit).text().null().to_owned(),
        ColumnDef::new(ProofSnippets::SourceObservations).text().null().to_owned(),
        ColumnDef::new(ProofSnippets::SourceQuestion).string_len(36).null().to_owned(),
        ColumnDef::new(ProofSnippets::SourceSection).integer().null().to_owned(),
        ColumnDef::new(ProofSnippets::SourceHashes).text().null().to_owned(),
        ColumnDef::new(ProofSnippets::SourceVersion).integer().null().to_owned(),
        ColumnDef::new(ProofSnippets::ApprovedAt).timestamp_with_time_zone().null().to_owned(),
        ColumnDef::new(ProofSnippets::StaleReason).text().null().to_owned(),
        ColumnDef::new(ProofSnippets::StaleSince).timestamp_with_time_zone().null().to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for mut column in added() {
            manager.alter_table(Table::alter().table(ProofSnippets::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ReuseChannels::Table)
                    .add_column(ColumnDef::new(ReuseChannels::RequiresCredit).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(ReuseChannels::Table)
                    .value(ReuseChannels::RequiresCredit, true)
                    .and_where(Expr::col(ReuseChannels::Slug).eq("hiring-materials"))
                    .to_owned(),
            )
            .await?;
        recount(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in added() {
            let name = column.get_column_name();
            manager
                .alter_table(Table::alter().table(ProofSnippets::Table).drop_column(Alias::new(name)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter().table(ReuseChannels::Table).drop_column(ReuseChannels::RequiresCredit).to_owned(),
            )
            .await
    }
}

/// Recounts every snippet's `char_count` in grapheme clusters, a page of rows at a time.
async fn recount(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let mut after = 0;
    loop {
        let page = Query::select()
            .columns([ProofSnippets::Id, ProofSnippets::Body, ProofSnippets::CharCount])
            .from(ProofSnippets::Table)
            .and_where(Expr::col(ProofSnippets::Id).gt(after))
            .order_by(ProofSnippets::Id, Order::Asc)
            .limit(2000)
            .to_owned();
        let rows = Body::find_by_statement(backend.build(&page)).all(db).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.id;
        for row in &rows {
            let count = row.body.graphemes(true).count() as i32;
            if count != row.char_count {
                manager
                    .exec_stmt(
                        Query::update()
                            .table(ProofSnippets::Table)
                            .value(ProofSnippets::CharCount, count)
                            .and_where(Expr::col(ProofSnippets::Id).eq(row.id))
                            .to_owned(),
                    )
                    .await?;
            }
        }
    }
}
