//! Scheduled publishing. Any number of `backlot serve` processes may run this against one database:
//! each due document is claimed by a conditional update, so exactly one of them publishes it.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::Result;
use super::editorial;

/// Publishes every draft whose `publishAt` has passed; returns how many this call published. Each runs in
/// its own transaction: one that fails (a slug another document took, say) is logged and stays scheduled,
/// to be retried next time, and the documents after it are still published.
pub async fn run_due(db: &DatabaseConnection) -> Result<usize> {
    let mut published = 0;
    for (kind, document_id) in editorial::due(db).await? {
        let id = document_id.clone();
        let outcome = editorial::publish_due(db, kind, &document_id).await;
        match outcome {
            Ok(true) => {
                published += 1;
                tracing::info!("published scheduled {} {id}", kind.name());
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("scheduled publish of {} {id} failed, will retry: {e}", kind.name()),
        }
    }
    Ok(published)
}

/// Runs [`run_due`] now (anything overdue at start-up) and then every `interval`, for the life of the process.
pub fn spawn(db: DatabaseConnection, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let runs = &crate::http::metrics::METRICS.scheduler_runs;
            match run_due(&db).await {
                Ok(_) => runs.with_label_values(&["ok"]).inc(),
                Err(e) => {
                    runs.with_label_values(&["failed"]).inc();
                    tracing::warn!("scheduled publishing failed, will retry: {e}");
                }
            }
            tokio::time::sleep(interval).await;
        }
    })
}
