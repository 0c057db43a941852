//! Relay cursor pagination over any entity, keyset-based so deep pages cost the same as the first.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Order, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};

use super::{Result, ServiceError};

pub const MAX_PAGE_SIZE: i32 = 100;
/// What a list of staged documents sorts by. Drafts may have no publish date yet; they sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    PublishedAt,
    Title,
}

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
#[derive(Debug, Clone, PartialEq)]
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

    fn to_json(&self) -> serde_json::Value {
        match self {
            SortValue::Time(t) => serde_json::Value::String(t.to_rfc3339()),
            SortValue::Text(s) => serde_json::Value::String(s.clone()),
            SortValue::None => serde_json::Value::Null,
        }
    }
}

/// Which ordering a list is in, and so what its cursors' sort values are. Cursors carry the name and are
/// checked against it: a cursor from another ordering (a title where a date belongs) is the caller's
/// mistake, to be told so, not a comparison for the database to reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Time(&'static str),
    Text(&'static str),
    /// Ordered by id alone.
    Id(&'static str),
}

impl CursorKind {
    fn name(self) -> &'static str {
        match self {
            CursorKind::Time(n) | CursorKind::Text(n) | CursorKind::Id(n) => n,
        }
    }

    /// The sort value a cursor of this ordering carries, if `k` is one.
    fn value(self, k: serde_json::Value) -> Option<SortValue> {
        match (self, k) {
            (CursorKind::Time(_), serde_json::Value::String(s)) => {
                DateTime::parse_from_rfc3339(&s).ok().map(|t| SortValue::Time(t.with_timezone(&Utc)))
            }
            (CursorKind::Text(_), serde_json::Value::String(s)) => Some(SortValue::Text(s)),
            (CursorKind::Id(_), serde_json::Value::Null) => Some(SortValue::None),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// The ordering's name.
    o: String,
    k: serde_json::Value,
    i: i32,
}

/// A decoded, checked cursor.
struct Cursor {
    key: SortValue,
    id: i32,
}

/// How a list is ordered: a sort expression (or none: id only) with the row id as tie-breaker.
pub struct Ordering<M> {
    pub key: Option<SimpleExpr>,
    pub id: SimpleExpr,
    pub direction: SortDirection,
    pub cursor: CursorKind,
    pub key_of: fn(&M) -> SortValue,
    pub id_of: fn(&M) -> i32,
}

pub struct Page<M> {
    pub items: Vec<(String, M)>,
    pub has_previous: bool,
    pub has_next: bool,
    /// The row just past the page, which made `has_next` (or `has_previous`, paging backwards) true.
    pub beyond: Option<M>,
}

/// The ordering a cursor belongs to: the list's sort key and its direction.
fn ordering_tag(kind: CursorKind, direction: SortDirection) -> String {
    let direction = match direction {
        SortDirection::Asc => "asc",
        SortDirection::Desc => "desc",
    };
    format!("{} {direction}", kind.name())
}

fn encode_cursor(tag: &str, key: SortValue, id: i32) -> String {
    let json = serde_json::to_vec(&CursorData { o: tag.to_string(), k: key.to_json(), i: id }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor<M>(field: &str, ordering: &Ordering<M>, cursor: &str) -> Result<Cursor> {
    let tag = ordering_tag(ordering.cursor, ordering.direction);
    let data = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CursorData>(&bytes).ok())
        .ok_or_else(|| ServiceError::bad_input(field, "is not a cursor returned by this connection"))?;
    if data.o != tag {
        return Err(ServiceError::bad_input(
            field,
            format!(
                "is a cursor of another list or ordering ({:?}, this one is {:?}); page with cursors from this one",
                data.o, tag
            ),
        ));
    }
    let key = ordering
        .cursor
        .value(data.k)
        .ok_or_else(|| ServiceError::bad_input(field, "is not a cursor returned by this connection"))?;
    Ok(Cursor { key, id: data.i })
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
fn beyond<M>(ordering: &Ordering<M>, cursor: Cursor, direction: SortDirection) -> SimpleExpr {
    let id_value = Expr::value(cursor.id);
    let cmp = |left: SimpleExpr, right: SimpleExpr| match direction {
        SortDirection::Asc => left.gt(right),
        SortDirection::Desc => left.lt(right),
    };
    match &ordering.key {
        None => cmp(ordering.id.clone(), id_value),
        Some(key) => {
            let key_value = cursor.key.into_expr();
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
    let after = request.after.as_deref().map(|c| decode_cursor("after", ordering, c)).transpose()?;
    let before = request.before.as_deref().map(|c| decode_cursor("before", ordering, c)).transpose()?;

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
    let beyond = if more { rows.pop() } else { None };
    if backwards {
        rows.reverse();
    }
    let tag = ordering_tag(ordering.cursor, ordering.direction);
    let items = rows
        .into_iter()
        .map(|row| (encode_cursor(&tag, (ordering.key_of)(&row), (ordering.id_of)(&row)), row))
        .collect();
    let (has_previous, has_next) =
        if backwards { (more, request.before.is_some()) } else { (request.after.is_some(), more) };
    Ok(Page { items, has_previous, has_next, beyond })
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
