//! A frame's release is rights data with a term and a reach: `assets.release_expires_at` (after it the frame
//! reads as PENDING, with no write) and `asset_channels`, the reuse channels its release covers (none: all).
//! Both stages have their own asset rows, so each stage has its own scope rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assets {
    Table,
    Id,
    ReleaseExpiresAt,
}

#[derive(DeriveIden)]
enum AssetChannels {
    Table,
    Id,
    AssetId,
    ChannelId,
}

#[derive(DeriveIden)]
enum ReuseChannels {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assets::Table)
                    .add_column(ColumnDef::new(Assets::ReleaseExpiresAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // The chase query reads frames by expiry.
        manager
            .create_index(
                Index::create()
                    .name("ix_assets_release_expires_at")
                    .table(Assets::Table)
                    .col(Assets::ReleaseExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssetChannels::Table)
                    .col(ColumnDef::new(AssetChannels::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AssetChannels::AssetId).integer().not_null())
                    .col(ColumnDef::new(AssetChannels::ChannelId).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetChannels::Table, AssetChannels::AssetId)
                            .to(Assets::Table, Assets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // No cascade: deleting a channel must not widen a scope to "all channels"
                    // (the service refuses to delete a channel a scope names).
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetChannels::Table, AssetChannels::ChannelId)
                            .to(ReuseChannels::Table, ReuseChannels::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_asset_channels")
                    .table(AssetChannels::Table)
                    .col(AssetChannels::AssetId)
                    .col(AssetChannels::ChannelId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_asset_channels_channel")
                    .table(AssetChannels::Table)
                    .col(AssetChannels::ChannelId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AssetChannels::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ix_assets_release_expires_at").table(Assets::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Assets::Table).drop_column(Assets::ReleaseExpiresAt).to_owned()).await
    }
}
