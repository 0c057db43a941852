//! Schema migrations. `backlot migrate`, `serve` and `import` all apply them through [`Migrator`].

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_content;
mod m20261125_000002_search_index;
mod m20261125_000003_editorial;
mod m20261125_000004_content_generation;
mod m20261125_000005_schedule_index;
mod m20261125_000006_sort_index;
mod m20261126_000001_release_rights;
mod m20261126_000002_snippet_provenance;
mod m20261126_000003_webhooks;
mod m20261126_000004_content_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_content::Migration),
            Box::new(m20261125_000002_search_index::Migration),
            Box::new(m20261125_000003_editorial::Migration),
            Box::new(m20261125_000004_content_generation::Migration),
            Box::new(m20261125_000005_schedule_index::Migration),
            Box::new(m20261125_000006_sort_index::Migration),
            Box::new(m20261126_000001_release_rights::Migration),
            Box::new(m20261126_000002_snippet_provenance::Migration),
            Box::new(m20261126_000003_webhooks::Migration),
            Box::new(m20261126_000004_content_changes::Migration),
        ]
    }
}
