use sea_orm::entity::prelude::*;

use crate::json::{StatisticList, StringList};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conditions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub status: String,
    pub name: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub alternate_names: StringList,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub body_region: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub icd10: StringList,
    #[sea_orm(column_type = "JsonBinary")]
    pub statistics: StatisticList,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
