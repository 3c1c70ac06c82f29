use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    /// Public, non-secret start of the key used to find its row.
    #[sea_orm(unique)]
    pub prefix: String,
    /// Hex SHA-256 of the whole key; the key itself is never stored.
    pub key_hash: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// After this instant the key is refused.
    pub expires_at: Option<DateTimeUtc>,
    /// When the key was last used, recorded in batches (to within a minute or so).
    pub last_used_at: Option<DateTimeUtc>,
    /// When its secret was last replaced.
    pub rotated_at: Option<DateTimeUtc>,
    /// Hex SHA-256 of the secret the last rotation replaced, valid until
    /// `previous_expires_at`.
    pub previous_hash: Option<String>,
    pub previous_expires_at: Option<DateTimeUtc>,
    /// The key's own rate limit (`N/<seconds>s`), instead of its class's.
    pub rate_limit: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
