//! Link tables: composite primary key, optional note, editorial position.

macro_rules! link_entity {
    ($module:ident, $table:literal, $left:ident, $right:ident) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub $left: Uuid,
                #[sea_orm(primary_key, auto_increment = false)]
                pub $right: Uuid,
                pub note: Option<String>,
                pub position: i32,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

link_entity!(
    condition_technique,
    "condition_techniques",
    condition_id,
    technique_id
);
link_entity!(
    condition_citation,
    "condition_citations",
    condition_id,
    citation_id
);
link_entity!(
    technique_benefit,
    "technique_benefits",
    technique_id,
    benefit_id
);
link_entity!(
    technique_citation,
    "technique_citations",
    technique_id,
    citation_id
);
link_entity!(
    benefit_citation,
    "benefit_citations",
    benefit_id,
    citation_id
);
link_entity!(
    technique_product,
    "technique_products",
    technique_id,
    product_id
);
link_entity!(
    article_condition,
    "article_conditions",
    article_id,
    condition_id
);
link_entity!(
    article_technique,
    "article_techniques",
    article_id,
    technique_id
);
link_entity!(article_benefit, "article_benefits", article_id, benefit_id);
link_entity!(
    article_citation,
    "article_citations",
    article_id,
    citation_id
);
link_entity!(article_product, "article_products", article_id, product_id);
link_entity!(article_related, "article_related", article_id, related_id);
