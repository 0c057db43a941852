//! One cost budget per HTTP request: the operations of a batch share `max_complexity`, so ten operations
//! cost what one operation ten times as large would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{ExtensionContext, NextResolve, ResolveInfo};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Value};

/// The complexity already spent by earlier operations of the same request.
#[derive(Debug, Default)]
pub struct BatchCost(AtomicUsize);

/// Charges a validated operation's complexity to its request (run by the one request extension, after
/// validation): past `max_complexity` for the batch so far, the operation is refused.
pub(super) fn charge(
    ctx: &ExtensionContext<'_>,
    result: &ValidationResult,
    max_complexity: usize,
) -> Result<(), Vec<ServerError>> {
    let Some(spent) = ctx.data_opt::<Arc<BatchCost>>() else {
        return Ok(());
    };
    let before = spent.0.fetch_add(result.complexity, Ordering::Relaxed);
    let total = before.saturating_add(result.complexity);
    if before > 0 && total > max_complexity {
        let message = format!(
            "the operations of this batch cost {total} together; at most {max_complexity} is allowed per request"
        );
        let mut error = ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", crate::error::code::QUERY_TOO_COMPLEX);
        return Err(vec![error]);
    }
    Ok(())
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

/// The bytes an answer may reach while it is being resolved: the serializer checks the exact size, but the
/// answer is a tree in memory by then, so resolution stops early once its text passes the budget.
#[derive(Debug)]
pub struct ResponseBytes {
    limit: usize,
    used: AtomicUsize,
}

impl ResponseBytes {
    pub fn new(limit: usize) -> Self {
        ResponseBytes { limit, used: AtomicUsize::new(0) }
    }

    pub fn exceeded(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }

    /// About what `value` adds to the JSON answer under `name` (leaves only: objects are counted through
    /// their fields).
    fn add(&self, name: &str, value: &Value) {
        let leaf = match value {
            Value::String(s) => s.len() + 2,
            Value::Object(_) | Value::List(_) => 2,
            _ => 8,
        };
        self.used.fetch_add(leaf + name.len() + 4, Ordering::Relaxed);
    }
}

/// Resolves one field within the request's limits: nothing more once the answer is over its byte budget,
/// root fields through the [`RootFieldGate`], and what the field adds counted against the budget. Called
/// by the one request extension's `resolve` hook (each extension hook is a boxed future per field).
pub(super) async fn limited(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let bytes = ctx.data_opt::<Arc<ResponseBytes>>();
    if bytes.is_some_and(|b| b.exceeded()) {
        // Past the budget the answer is refused whole: resolve nothing more.
        return Err(ServerError::new("the answer is over the response size budget", None));
    }
    let root = info.path_node.parent.is_none();
    if root {
        super::tags::guard_root_field(ctx, info.name);
    }
    let gate = ctx.data_opt::<Arc<RootFieldGate>>().filter(|_| root);
    // The permit is held while the field and everything below it resolve.
    let _permit = match gate {
        Some(gate) => gate.0.acquire().await.ok(),
        None => None,
    };
    let name = info.alias.unwrap_or(info.name);
    let value = next.run(ctx, info).await?;
    if let (Some(bytes), Some(value)) = (bytes, value.as_ref()) {
        bytes.add(name, value);
    }
    Ok(value)
}
