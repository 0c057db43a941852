//! Content tables, their indexes, and the six reuse channels the original page names.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    Slug,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReuseChannels {
    Table,
    Id,
    Slug,
    Name,
    Description,
    MaxChars,
    Position,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    DocumentId,
    Stage,
    Status,
    Slug,
    Title,
    Thesis,
    Point,
    AudienceSummary,
    AudienceRoles,
    ReaderNeed,
    RealProblem,
    RecordMatters,
    SmarterQuestion,
    Proves,
    CollectionId,
    ProofRecordDocumentId,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleSections {
    Table,
    Id,
    ArticleId,
    Position,
    Heading,
    Body,
}

#[derive(DeriveIden)]
enum Questions {
    Table,
    Id,
    DocumentId,
    ArticleId,
    Position,
    Question,
    Answer,
}

#[derive(DeriveIden)]
enum ArticleLinks {
    Table,
    Id,
    ArticleId,
    Position,
    TargetTitle,
    TargetSlug,
}

#[derive(DeriveIden)]
enum ProofRecords {
    Table,
    Id,
    DocumentId,
    Stage,
    Status,
    Slug,
    Title,
    Client,
    Deliverable,
    ProblemSolved,
    Summary,
    CapturedOn,
    Location,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Observations {
    Table,
    Id,
    ProofRecordId,
    Position,
    Kind,
    Title,
    Detail,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    Id,
    DocumentId,
    ProofRecordId,
    Position,
    Url,
    Kind,
    Alt,
    Caption,
    Credit,
    Width,
    Height,
    Shows,
    Release,
    CapturedAt,
}

#[derive(DeriveIden)]
enum ProofRecordChannels {
    Table,
    Id,
    ProofRecordId,
    ChannelId,
}

#[derive(DeriveIden)]
enum ProofSnippets {
    Table,
    Id,
    DocumentId,
    Stage,
    Status,
    ProofRecordDocumentId,
    ArticleDocumentId,
    ChannelId,
    Body,
    CharCount,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SearchDocuments {
    Table,
    Id,
    Kind,
    Stage,
    RowId,
    Title,
    Body,
}

/// (slug, name, description, max_chars) of the channels every database starts with.
const CHANNELS: [(&str, &str, &str, Option<i32>); 6] = [
    ("case-studies", "Case studies", "Long-form write-ups of a project and what it solved.", None),
    ("social-posts", "Social posts", "Short captions for social feeds.", Some(280)),
    (
        "sales-decks",
        "Sales decks",
        "Slides that give buyers confidence before they can judge the deliverable.",
        Some(400),
    ),
    ("hiring-materials", "Hiring materials", "Pages and posts that show candidates how the team works.", Some(600)),
    ("launch-recaps", "Launch recaps", "Recaps published after a launch or campaign.", Some(1000)),
    ("proof-pages", "Proof pages", "Pages on the brand's own site that show the work behind the work.", None),
];

fn pk(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().auto_increment().primary_key().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn short(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(16).not_null().to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn time_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

fn parent(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().to_owned()
}

fn cascade(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .col(pk(Collections::Id))
                    .col(ColumnDef::new(Collections::Slug).string_len(200).not_null().unique_key())
                    .col(text(Collections::Name))
                    .col(text_null(Collections::Description))
                    .col(time(Collections::CreatedAt))
                    .col(time(Collections::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReuseChannels::Table)
                    .col(pk(ReuseChannels::Id))
                    .col(ColumnDef::new(ReuseChannels::Slug).string_len(200).not_null().unique_key())
                    .col(text(ReuseChannels::Name))
                    .col(text_null(ReuseChannels::Description))
                    .col(ColumnDef::new(ReuseChannels::MaxChars).integer().null())
                    .col(ColumnDef::new(ReuseChannels::Position).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(pk(Articles::Id))
                    .col(ColumnDef::new(Articles::DocumentId).string_len(36).not_null())
                    .col(short(Articles::Stage))
                    .col(short(Articles::Status))
                    .col(ColumnDef::new(Articles::Slug).string_len(200).not_null())
                    .col(text(Articles::Title))
                    .col(text_null(Articles::Thesis))
                    .col(text_null(Articles::Point))
                    .col(text_null(Articles::AudienceSummary))
                    .col(text(Articles::AudienceRoles))
                    .col(text_null(Articles::ReaderNeed))
                    .col(text_null(Articles::RealProblem))
                    .col(text_null(Articles::RecordMatters))
                    .col(text_null(Articles::SmarterQuestion))
                    .col(text_null(Articles::Proves))
                    .col(ColumnDef::new(Articles::CollectionId).integer().null())
                    .col(ColumnDef::new(Articles::ProofRecordDocumentId).string_len(36).null())
                    .col(time_null(Articles::PublishedAt))
                    .col(time(Articles::CreatedAt))
                    .col(time(Articles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Articles::Table, Articles::CollectionId)
                            .to(Collections::Table, Collections::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_articles_document_stage", Articles::Table, &["document_id", "stage"], true).await?;
        index(manager, "ux_articles_slug_stage", Articles::Table, &["slug", "stage"], true).await?;
        index(manager, "ix_articles_stage_published", Articles::Table, &["stage", "published_at", "id"], false).await?;
        index(manager, "ix_articles_stage_title", Articles::Table, &["stage", "title", "id"], false).await?;
        index(manager, "ix_articles_collection", Articles::Table, &["collection_id", "stage"], false).await?;
        index(manager, "ix_articles_proof_record", Articles::Table, &["proof_record_document_id", "stage"], false)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ArticleSections::Table)
                    .col(pk(ArticleSections::Id))
                    .col(parent(ArticleSections::ArticleId))
                    .col(ColumnDef::new(ArticleSections::Position).integer().not_null())
                    .col(text(ArticleSections::Heading))
                    .col(text(ArticleSections::Body))
                    .foreign_key(&mut cascade(
                        (ArticleSections::Table, ArticleSections::ArticleId),
                        (Articles::Table, Articles::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_article_sections_article", ArticleSections::Table, &["article_id", "position"], false)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Questions::Table)
                    .col(pk(Questions::Id))
                    .col(ColumnDef::new(Questions::DocumentId).string_len(36).not_null())
                    .col(parent(Questions::ArticleId))
                    .col(ColumnDef::new(Questions::Position).integer().not_null())
                    .col(text(Questions::Question))
                    .col(text(Questions::Answer))
                    .foreign_key(&mut cascade(
                        (Questions::Table, Questions::ArticleId),
                        (Articles::Table, Articles::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_questions_article", Questions::Table, &["article_id", "position"], false).await?;
        index(manager, "ix_questions_document", Questions::Table, &["document_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table(ArticleLinks::Table)
                    .col(pk(ArticleLinks::Id))
                    .col(parent(ArticleLinks::ArticleId))
                    .col(ColumnDef::new(ArticleLinks::Position).integer().not_null())
                    .col(text(ArticleLinks::TargetTitle))
                    .col(ColumnDef::new(ArticleLinks::TargetSlug).string_len(200).not_null())
                    .foreign_key(&mut cascade(
                        (ArticleLinks::Table, ArticleLinks::ArticleId),
                        (Articles::Table, Articles::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_article_links_article", ArticleLinks::Table, &["article_id", "position"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table(ProofRecords::Table)
                    .col(pk(ProofRecords::Id))
                    .col(ColumnDef::new(ProofRecords::DocumentId).string_len(36).not_null())
                    .col(short(ProofRecords::Stage))
                    .col(short(ProofRecords::Status))
                    .col(ColumnDef::new(ProofRecords::Slug).string_len(200).not_null())
                    .col(text(ProofRecords::Title))
                    .col(text_null(ProofRecords::Client))
                    .col(text_null(ProofRecords::Deliverable))
                    .col(text_null(ProofRecords::ProblemSolved))
                    .col(text_null(ProofRecords::Summary))
                    .col(ColumnDef::new(ProofRecords::CapturedOn).date().null())
                    .col(text_null(ProofRecords::Location))
                    .col(time_null(ProofRecords::PublishedAt))
                    .col(time(ProofRecords::CreatedAt))
                    .col(time(ProofRecords::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_proof_records_document_stage", ProofRecords::Table, &["document_id", "stage"], true).await?;
        index(manager, "ux_proof_records_slug_stage", ProofRecords::Table, &["slug", "stage"], true).await?;
        index(
            manager,
            "ix_proof_records_stage_published",
            ProofRecords::Table,
            &["stage", "published_at", "id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Observations::Table)
                    .col(pk(Observations::Id))
                    .col(parent(Observations::ProofRecordId))
                    .col(ColumnDef::new(Observations::Position).integer().not_null())
                    .col(short(Observations::Kind))
                    .col(text(Observations::Title))
                    .col(text_null(Observations::Detail))
                    .foreign_key(&mut cascade(
                        (Observations::Table, Observations::ProofRecordId),
                        (ProofRecords::Table, ProofRecords::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_observations_proof_record", Observations::Table, &["proof_record_id", "position"], false)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .col(pk(Assets::Id))
                    .col(ColumnDef::new(Assets::DocumentId).string_len(36).not_null())
                    .col(parent(Assets::ProofRecordId))
                    .col(ColumnDef::new(Assets::Position).integer().not_null())
                    .col(text(Assets::Url))
                    .col(short(Assets::Kind))
                    .col(text_null(Assets::Alt))
                    .col(text_null(Assets::Caption))
                    .col(text_null(Assets::Credit))
                    .col(ColumnDef::new(Assets::Width).integer().null())
                    .col(ColumnDef::new(Assets::Height).integer().null())
                    .col(text(Assets::Shows))
                    .col(short(Assets::Release))
                    .col(time_null(Assets::CapturedAt))
                    .foreign_key(&mut cascade(
                        (Assets::Table, Assets::ProofRecordId),
                        (ProofRecords::Table, ProofRecords::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_assets_proof_record", Assets::Table, &["proof_record_id", "position"], false).await?;
        index(manager, "ix_assets_document", Assets::Table, &["document_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table(ProofRecordChannels::Table)
                    .col(pk(ProofRecordChannels::Id))
                    .col(parent(ProofRecordChannels::ProofRecordId))
                    .col(parent(ProofRecordChannels::ChannelId))
                    .foreign_key(&mut cascade(
                        (ProofRecordChannels::Table, ProofRecordChannels::ProofRecordId),
                        (ProofRecords::Table, ProofRecords::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (ProofRecordChannels::Table, ProofRecordChannels::ChannelId),
                        (ReuseChannels::Table, ReuseChannels::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_proof_record_channels",
            ProofRecordChannels::Table,
            &["proof_record_id", "channel_id"],
            true,
        )
        .await?;
        index(manager, "ix_proof_record_channels_channel", ProofRecordChannels::Table, &["channel_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table(ProofSnippets::Table)
                    .col(pk(ProofSnippets::Id))
                    .col(ColumnDef::new(ProofSnippets::DocumentId).string_len(36).not_null())
                    .col(short(ProofSnippets::Stage))
                    .col(short(ProofSnippets::Status))
                    .col(ColumnDef::new(ProofSnippets::ProofRecordDocumentId).string_len(36).not_null())
                    .col(ColumnDef::new(ProofSnippets::ArticleDocumentId).string_len(36).null())
                    .col(parent(ProofSnippets::ChannelId))
                    .col(text(ProofSnippets::Body))
                    .col(ColumnDef::new(ProofSnippets::CharCount).integer().not_null())
                    .col(time_null(ProofSnippets::PublishedAt))
                    .col(time(ProofSnippets::CreatedAt))
                    .col(time(ProofSnippets::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (ProofSnippets::Table, ProofSnippets::ChannelId),
                        (ReuseChannels::Table, ReuseChannels::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_proof_snippets_document_stage", ProofSnippets::Table, &["document_id", "stage"], true)
            .await?;
        index(manager, "ix_proof_snippets_channel", ProofSnippets::Table, &["channel_id", "stage", "id"], false)
            .await?;
        index(
            manager,
            "ix_proof_snippets_proof_record",
            ProofSnippets::Table,
            &["proof_record_document_id", "stage"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SearchDocuments::Table)
                    .col(pk(SearchDocuments::Id))
                    .col(ColumnDef::new(SearchDocuments::Kind).string_len(16).not_null())
                    .col(short(SearchDocuments::Stage))
                    .col(ColumnDef::new(SearchDocuments::RowId).integer().not_null())
                    .col(text(SearchDocuments::Title))
                    .col(text(SearchDocuments::Body))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_search_documents_row", SearchDocuments::Table, &["kind", "row_id"], true).await?;

        let mut seed = Query::insert();
        seed.into_table(ReuseChannels::Table).columns([
            ReuseChannels::Slug,
            ReuseChannels::Name,
            ReuseChannels::Description,
            ReuseChannels::MaxChars,
            ReuseChannels::Position,
        ]);
        for (position, (slug, name, description, max_chars)) in CHANNELS.iter().enumerate() {
            seed.values_panic([
                (*slug).into(),
                (*name).into(),
                (*description).into(),
                (*max_chars).into(),
                (position as i32).into(),
            ]);
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SearchDocuments::Table.into_iden(),
            ProofSnippets::Table.into_iden(),
            ProofRecordChannels::Table.into_iden(),
            Assets::Table.into_iden(),
            Observations::Table.into_iden(),
            ProofRecords::Table.into_iden(),
            ArticleLinks::Table.into_iden(),
            Questions::Table.into_iden(),
            ArticleSections::Table.into_iden(),
            Articles::Table.into_iden(),
            ReuseChannels::Table.into_iden(),
            Collections::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
