//! Editorial state: document versions and schedules, API tokens, the audit log and revisions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    Role,
    Prefix,
    SecretHash,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TokenName,
    Action,
    EntityType,
    EntityId,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Revisions {
    Table,
    Id,
    EntityType,
    DocumentId,
    Version,
    Author,
    Content,
    CreatedAt,
}

const VERSIONED: [&str; 5] = ["articles", "proof_records", "proof_snippets", "collections", "reuse_channels"];
const SCHEDULED: [&str; 3] = ["articles", "proof_records", "proof_snippets"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in VERSIONED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Alias::new("version")).integer().not_null().default(1))
                        .to_owned(),
                )
                .await?;
        }
        for table in SCHEDULED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Alias::new("publish_at")).timestamp_with_time_zone().null())
                        .to_owned(),
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
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(ColumnDef::new(ApiTokens::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ApiTokens::Name).string_len(100).not_null().unique_key())
                    .col(ColumnDef::new(ApiTokens::Role).string_len(16).not_null())
                    .col(ColumnDef::new(ApiTokens::Prefix).string_len(32).not_null().unique_key())
                    .col(ColumnDef::new(ApiTokens::SecretHash).string_len(64).not_null())
                    .col(ColumnDef::new(ApiTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ApiTokens::LastUsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiTokens::ExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiTokens::RevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditLog::TokenName).string_len(100).not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::EntityType).string_len(32).not_null())
                    .col(ColumnDef::new(AuditLog::EntityId).string_len(200).not_null())
                    .col(ColumnDef::new(AuditLog::Detail).text().null())
                    .col(ColumnDef::new(AuditLog::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Revisions::Table)
                    .col(ColumnDef::new(Revisions::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Revisions::EntityType).string_len(32).not_null())
                    .col(ColumnDef::new(Revisions::DocumentId).string_len(36).not_null())
                    .col(ColumnDef::new(Revisions::Version).integer().not_null())
                    .col(ColumnDef::new(Revisions::Author).string_len(100).not_null())
                    .col(ColumnDef::new(Revisions::Content).text().not_null())
                    .col(ColumnDef::new(Revisions::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_revisions_document")
                    .table(Revisions::Table)
                    .col(Revisions::EntityType)
                    .col(Revisions::DocumentId)
                    .col(Revisions::Version)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Revisions::Table.into_iden(), AuditLog::Table.into_iden(), ApiTokens::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for table in SCHEDULED {
            manager
                .drop_index(Index::drop().name(format!("ix_{table}_publish_at")).table(Alias::new(table)).to_owned())
                .await?;
            manager
                .alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new("publish_at")).to_owned())
                .await?;
        }
        for table in VERSIONED {
            manager
                .alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new("version")).to_owned())
                .await?;
        }
        Ok(())
    }
}
