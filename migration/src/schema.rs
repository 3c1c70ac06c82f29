//! Column builders shared by the migrations, so every content table carries the same
//! common fields and every enumeration is enforced by a CHECK constraint.

use sea_orm_migration::prelude::*;

pub const STATUSES: &[&str] = &["draft", "in_review", "published", "archived"];

pub fn iden(name: &str) -> Alias {
    Alias::new(name)
}

/// A text column restricted to `values` by a CHECK constraint (portable across engines,
/// unlike native enum types).
pub fn enum_column(name: &str, values: &[&str], required: bool) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.text()
        .check(Expr::col(iden(name)).is_in(values.iter().copied()));
    if required {
        col.not_null();
    } else {
        col.null();
    }
    col
}

pub fn text(name: &str, required: bool) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.text();
    if required {
        col.not_null();
    } else {
        col.null();
    }
    col
}

pub fn integer(name: &str) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.big_integer().null();
    col
}

pub fn json(name: &str) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.json_binary().not_null();
    col
}

pub fn timestamp(name: &str, required: bool) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.timestamp_with_time_zone();
    if required {
        col.not_null();
    } else {
        col.null();
    }
    col
}

pub fn uuid_ref(name: &str, required: bool) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.uuid();
    if required {
        col.not_null();
    } else {
        col.null();
    }
    col
}

/// The common fields of every content item: id, slug, status, timestamps, version.
pub fn content_table(table: &str, fields: Vec<ColumnDef>) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(iden(table))
        .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
        .col(
            ColumnDef::new(iden("slug"))
                .string_len(120)
                .not_null()
                .unique_key(),
        )
        .col(enum_column("status", STATUSES, true));
    for mut field in fields {
        stmt.col(&mut field);
    }
    stmt.col(timestamp("created_at", true))
        .col(timestamp("updated_at", true))
        .col(timestamp("published_at", false))
        .col(
            ColumnDef::new(iden("version"))
                .big_integer()
                .not_null()
                .default(1)
                .check(Expr::col(iden("version")).gte(1)),
        );
    stmt.to_owned()
}

/// A B-tree index; `columns` are in key order.
pub fn index(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{}_{}", table, columns.join("_")))
        .table(iden(table));
    for column in columns {
        stmt.col(iden(column));
    }
    stmt.to_owned()
}

pub fn foreign_key(
    table: &str,
    column: &str,
    target: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(iden(table), iden(column))
        .to(iden(target), iden("id"))
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}
