use sea_orm::entity::prelude::*;

use crate::json::StringList;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "citations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub status: String,
    pub kind: String,
    pub title: String,
    pub journal: Option<String>,
    pub year: Option<i64>,
    pub doi: Option<String>,
    pub pmid: Option<String>,
    pub url: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub authors: StringList,
    pub sample_size: Option<i64>,
    pub summary: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
