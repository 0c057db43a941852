//! One cost budget per HTTP request: the operations of a batch share `max_complexity`, so ten operations
//! cost what one operation ten times as large would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Value};

/// The complexity already spent by earlier operations of the same request.
#[derive(Debug, Default)]
pub struct BatchCost(AtomicUsize);

pub(super) struct BatchBudget {
    pub max_complexity: usize,
}

impl ExtensionFactory for BatchBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(BatchBudget { max_complexity: self.max_complexity })
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for BatchBudget {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let Some(spent) = ctx.data_opt::<Arc<BatchCost>>() else {
            return Ok(result);
        };
        let before = spent.0.fetch_add(result.complexity, Ordering::Relaxed);
        let total = before.saturating_add(result.complexity);
        if before > 0 && total > self.max_complexity {
            let message = format!(
                "the operations of this batch cost {total} together; at most {} is allowed per request",
                self.max_complexity
            );
            let mut error = ServerError::new(message, None);
            error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default)
                .set("code", crate::error::code::QUERY_TOO_COMPLEX);
            return Err(vec![error]);
        }
        Ok(result)
    }
}

/// Root fields of one request resolved at once. async-graphql resolves a query's root fields concurrently,
/// so one request with 30 aliases would otherwise take every pooled connection and queue everyone else's
/// statements behind its own.
pub const ROOT_FIELDS_AT_ONCE: usize = 2;

/// The per-request gate for [`ROOT_FIELDS_AT_ONCE`].
#[derive(Debug)]
pub struct RootFieldGate(tokio::sync::Semaphore);

impl Default for RootFieldGate {
    fn default() -> Self {
        RootFieldGate(tokio::sync::Semaphore::new(ROOT_FIELDS_AT_ONCE))
    }
}

pub(super) struct RootFieldLimit;

impl ExtensionFactory for RootFieldLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RootFieldLimit)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RootFieldLimit {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let gate = ctx.data_opt::<Arc<RootFieldGate>>().filter(|_| info.path_node.parent.is_none());
        // The permit is held while the field and everything below it resolve.
        let _permit = match gate {
            Some(gate) => gate.0.acquire().await.ok(),
            None => None,
        };
        next.run(ctx, info).await
    }
}
