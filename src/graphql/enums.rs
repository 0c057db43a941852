//! API enums, mirrored from the storage enums so a storage change never renames an API value.

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ContentStatus")]
pub enum ContentStatus {
    Draft,
    Published,
    Archived,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ObservationKind")]
pub enum ObservationKind {
    People,
    Equipment,
    Constraint,
    Decision,
    Environment,
    Rhythm,
    Collaboration,
    Atmosphere,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ReleaseStatus")]
pub enum ReleaseStatus {
    NotRequired,
    Pending,
    Cleared,
    Denied,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::AssetKind")]
pub enum AssetKind {
    Image,
    Video,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    Asc,
    #[default]
    Desc,
}

impl From<OrderDirection> for crate::service::SortDirection {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => crate::service::SortDirection::Asc,
            OrderDirection::Desc => crate::service::SortDirection::Desc,
        }
    }
}
