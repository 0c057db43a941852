//! Relay cursor pagination over any entity, keyset-based so deep pages cost the same as the first.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Order, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};

use super::{Result, ServiceError};

pub const MAX_PAGE_SIZE: i32 = 100;
pub const DEFAULT_PAGE_SIZE: i32 = 20;

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    Asc,
    #[default]
    Desc,
}

/// The value of the sort column of one row, as carried in a cursor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SortValue {
    Time(DateTime<Utc>),
    Text(String),
    None,
}

impl SortValue {
    fn into_expr(self) -> SimpleExpr {
        match self {
            SortValue::Time(t) => Expr::value(t),
            SortValue::Text(s) => Expr::value(s),
            SortValue::None => Expr::value(0),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    k: SortValue,
    i: i32,
}

/// How a list is ordered: a sort expression (or none: id only) with the row id as tie-breaker.
pub struct Ordering<M> {
    pub key: Option<SimpleExpr>,
    pub id: SimpleExpr,
    pub direction: SortDirection,
    pub key_of: fn(&M) -> SortValue,
    pub id_of: fn(&M) -> i32,
}

pub struct Page<M> {
    pub items: Vec<(String, M)>,
    pub has_previous: bool,
    pub has_next: bool,
}

fn encode_cursor(key: SortValue, id: i32) -> String {
    let json = serde_json::to_vec(&CursorData { k: key, i: id }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(field: &str, cursor: &str) -> Result<CursorData> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CursorData>(&bytes).ok())
        .ok_or_else(|| ServiceError::bad_input(field, "is not a cursor returned by this connection"))
}

fn check_size(field: &str, value: Option<i32>) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if (0..=MAX_PAGE_SIZE).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(ServiceError::bad_input(
            field,
            format!("must be between 0 and {MAX_PAGE_SIZE} (got {n}); page through larger lists with cursors"),
        )),
    }
}

/// Rows strictly beyond `cursor` when walking in `direction`.
fn beyond<M>(ordering: &Ordering<M>, cursor: CursorData, direction: SortDirection) -> SimpleExpr {
    let id_value = Expr::value(cursor.i);
    let cmp = |left: SimpleExpr, right: SimpleExpr| match direction {
        SortDirection::Asc => left.gt(right),
        SortDirection::Desc => left.lt(right),
    };
    match &ordering.key {
        None => cmp(ordering.id.clone(), id_value),
        Some(key) => {
            let key_value = cursor.k.into_expr();
            cmp(key.clone(), key_value.clone()).or(key.clone().eq(key_value).and(cmp(ordering.id.clone(), id_value)))
        }
    }
}

fn order_by<E: EntityTrait>(
    mut select: Select<E>,
    ordering: &Ordering<E::Model>,
    direction: SortDirection,
) -> Select<E> {
    let order = match direction {
        SortDirection::Asc => Order::Asc,
        SortDirection::Desc => Order::Desc,
    };
    if let Some(key) = &ordering.key {
        select = select.order_by(key.clone(), order.clone());
    }
    select.order_by(ordering.id.clone(), order)
}

fn reverse(direction: SortDirection) -> SortDirection {
    match direction {
        SortDirection::Asc => SortDirection::Desc,
        SortDirection::Desc => SortDirection::Asc,
    }
}

/// One page of `select` (already filtered) in `ordering`, by the Relay arguments in `request`.
pub async fn paginate<E, C>(
    db: &C,
    select: Select<E>,
    ordering: &Ordering<E::Model>,
    request: &PageRequest,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let first = check_size("first", request.first)?;
    let last = check_size("last", request.last)?;
    if first.is_some() && last.is_some() {
        return Err(ServiceError::bad_input("last", "cannot be combined with first; use first/after or last/before"));
    }
    let after = request.after.as_deref().map(|c| decode_cursor("after", c)).transpose()?;
    let before = request.before.as_deref().map(|c| decode_cursor("before", c)).transpose()?;

    let mut select = select;
    let backwards = last.is_some();
    if let Some(cursor) = after {
        select = select.filter(beyond(ordering, cursor, ordering.direction));
    }
    if let Some(cursor) = before {
        select = select.filter(beyond(ordering, cursor, reverse(ordering.direction)));
    }
    let (limit, walk) = if let Some(last) = last {
        (last, reverse(ordering.direction))
    } else {
        (first.unwrap_or(DEFAULT_PAGE_SIZE as u64), ordering.direction)
    };
    let mut rows =
        if limit == 0 { Vec::new() } else { order_by(select, ordering, walk).limit(limit + 1).all(db).await? };
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backwards {
        rows.reverse();
    }
    let items =
        rows.into_iter().map(|row| (encode_cursor((ordering.key_of)(&row), (ordering.id_of)(&row)), row)).collect();
    let (has_previous, has_next) =
        if backwards { (more, request.before.is_some()) } else { (request.after.is_some(), more) };
    Ok(Page { items, has_previous, has_next })
}

/// Rows `select` would page through, for `totalCount`.
pub async fn count<E, C>(db: &C, select: Select<E>) -> Result<i64>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::Model: Sync,
{
    Ok(select.count(db).await? as i64)
}
