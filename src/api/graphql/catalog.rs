//! What the request limits need to know about the schema: for every field, the type it
//! returns and, for list and connection fields, the page size it costs when `first` is
//! not given. Filled in while the schema is built, so the two cannot disagree.

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct FieldShape {
    /// The named type the field returns (for lists, the element type).
    pub ty: String,
    /// `Some(default first)` for paginated fields: their children cost `first` times.
    pub page: Option<crate::domain::PageSize>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    fields: HashMap<(String, String), FieldShape>,
}

impl Catalog {
    pub fn add(
        &mut self,
        owner: &str,
        field: &str,
        ty: &str,
        page: Option<crate::domain::PageSize>,
    ) {
        self.fields.insert(
            (owner.to_owned(), field.to_owned()),
            FieldShape {
                ty: ty.to_owned(),
                page,
            },
        );
    }

    pub fn get(&self, owner: &str, field: &str) -> Option<&FieldShape> {
        self.fields.get(&(owner.to_owned(), field.to_owned()))
    }
}
