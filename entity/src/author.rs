use sea_orm::entity::prelude::*;

use crate::json::StringList;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "authors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub status: String,
    pub name: String,
    pub credentials: Option<String>,
    pub job_title: Option<String>,
    pub bio: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub specialties: StringList,
    pub image_url: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub same_as: StringList,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
