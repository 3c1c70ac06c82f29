use sea_orm::{DbBackend, Statement, Value};

/// Builds one SQL statement with backend-specific placeholders (`$n` / `?`).
pub struct SqlBuilder {
    backend: DbBackend,
    sql: String,
    values: Vec<Value>,
}

impl SqlBuilder {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            sql: String::with_capacity(4096),
            values: Vec::new(),
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.values.len().to_string());
            }
            _ => self.sql.push('?'),
        }
        self
    }

    /// `(?, ?, …)` for a list of values.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.sql, self.values)
    }
}

/// A value both drivers decode, read by [`column`] and [`required`].
pub trait ColumnValue:
    sea_orm::TryGetable
    + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>
    + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>
    + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
    + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
{
}

impl<T> ColumnValue for T where
    T: sea_orm::TryGetable
        + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>
        + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
{
}

/// Reads column `index` of a raw row as `Option<T>` from the driver's row. sea-orm's own
/// `Option<T>` reader formats an error message for every NULL before discarding it, which
/// on an include-heavy page (nullable notes, DOIs, sort keys) cost more than the values.
pub fn column<T: ColumnValue>(
    row: &sea_orm::QueryResult,
    index: usize,
) -> crate::error::Result<Option<T>> {
    use sea_orm::sqlx::Row;
    let decoded = if let Some(row) = row.try_as_sqlite_row() {
        row.try_get::<Option<T>, _>(index)
    } else if let Some(row) = row.try_as_pg_row() {
        row.try_get::<Option<T>, _>(index)
    } else {
        return Ok(row.try_get_by_index::<Option<T>>(index)?);
    };
    decoded.map_err(|e| sea_orm::DbErr::Custom(format!("column {index}: {e}")).into())
}

/// A column that is never NULL.
pub fn required<T: ColumnValue>(
    row: &sea_orm::QueryResult,
    index: usize,
) -> crate::error::Result<T> {
    column(row, index)?
        .ok_or_else(|| crate::error::AppError::internal_msg(format!("column {index} is NULL")))
}
