//! `salve import`: stream a directory of NDJSON files into the database in one
//! transaction. Rows are validated and written in batches, so memory stays flat however
//! large the set is; duplicate detection uses a temporary table for the same reason.

use std::fmt;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ValueType;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};

use super::parse::{self, FieldValue, InlineRow, ItemRow, LinkRow};
use super::{BATCH_ROWS, MAX_REPORTED_ERRORS, Source};
use crate::config::ReviewSettings;
use crate::domain::model::file_links;
use crate::domain::{Collection, LinkSpec, Status};
use crate::error::AppError;

/// A rejected row: `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Bad input; nothing was written.
    #[error("{} invalid row(s); nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Files the importer does not know: a misnamed file would otherwise be skipped.
    #[error(
        "unknown file(s) {}; nothing was imported (known files: {})",
        .unknown.join(", "),
        .known.join(", ")
    )]
    UnknownFiles {
        unknown: Vec<String>,
        known: Vec<String>,
    },
    #[error(transparent)]
    Database(#[from] AppError),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Database(e.into())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub file: String,
    /// Rows read from the file.
    pub rows: u64,
    /// Rows inserted or changed (identical rows are left untouched).
    pub changed: u64,
    pub elapsed: std::time::Duration,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
}

pub(super) type ImportResult<T> = Result<T, ImportError>;

pub(super) const SEEN_TABLE: &str = "salve_import_seen";

/// Whether an import is kept, or only reports what it would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    Commit,
    DryRun,
}

/// The interchange files an import reads, in the order it reads them.
pub fn known_files() -> Vec<String> {
    Collection::ALL
        .into_iter()
        .flat_map(|c| {
            let csl = (c == Collection::Citations).then(|| super::csl::FILE.to_owned());
            std::iter::once(Target::Items(c).file()).chain(csl)
        })
        .chain(file_links().map(|link| Target::Links(link).file()))
        .chain([
            super::reviews::FILE.to_owned(),
            super::drafts::FILE.to_owned(),
            super::terms::FILE.to_owned(),
        ])
        .collect()
}

/// The error reading `file` gives.
pub(super) fn io_error(file: &str) -> impl Fn(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        file: file.to_owned(),
        source,
    }
}

fn check_names(source: &dyn Source) -> ImportResult<()> {
    let known = known_files();
    let unknown: Vec<String> = source
        .names()
        .map_err(io_error("the file list"))?
        .into_iter()
        .filter(|name| !known.contains(name))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ImportError::UnknownFiles { unknown, known })
    }
}

/// Imports every interchange file `source` has, all-or-nothing; a dry run reports the
/// same figures and writes nothing. Published reviewed items without a next review date
/// get the one publishing them through the API would give (see [`review_due`]).
pub async fn import(
    db: &DatabaseConnection,
    source: &dyn Source,
    mode: ImportMode,
    review: ReviewSettings,
) -> ImportResult<ImportReport> {
    check_names(source)?;
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Takes SQLite's write lock now, as BEGIN IMMEDIATE would: a transaction whose
        // first write follows its reads fails (SQLITE_BUSY_SNAPSHOT) when another process,
        // a server renewing its lease, committed in between.
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 1 = 0")
            .await?;
    }
    let mut importer = Importer {
        backend: db.get_database_backend(),
        txn: &txn,
        errors: Vec::new(),
        report: ImportReport::default(),
        review,
    };
    let outcome = importer.run(source).await;
    let errors = std::mem::take(&mut importer.errors);
    let report = std::mem::take(&mut importer.report);
    match outcome {
        Ok(()) if errors.is_empty() && mode == ImportMode::DryRun => {
            txn.rollback().await?;
            Ok(report)
        }
        Ok(()) if errors.is_empty() => {
            if report.files.iter().any(|f| f.changed > 0) {
                // Every server's read cache: anything may have changed.
                let everything = ["*".to_owned()];
                crate::service::changes::record(&txn, &everything).await?;
                let event = crate::service::webhooks::Event {
                    kind: crate::domain::webhook::EventType::ContentImported,
                    item: None,
                    actor: None,
                    request_id: None,
                };
                crate::service::webhooks::outbox::record(&txn, &event, &everything).await?;
            }
            txn.commit().await?;
            if report.files.iter().any(|f| f.changed > 0) {
                refresh_statistics(db).await?;
            }
            Ok(report)
        }
        Ok(()) => {
            txn.rollback().await?;
            Err(ImportError::Rows(errors))
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Refreshes the planner's statistics after a bulk load, so the first queries after an
/// import get good plans (PostgreSQL's autovacuum would only catch up later, and SQLite
/// has none until asked).
async fn refresh_statistics(db: &DatabaseConnection) -> ImportResult<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "ANALYZE",
        _ => "PRAGMA optimize=0x10002",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

/// A file whose lines are rows checked one by one ([`Importer::import_rows`]).
pub(super) trait RowFile {
    const FILE: &'static str;
    /// Why a line is refused when its key repeats an earlier line's.
    const DUPLICATE: &'static str;
    type Line: serde::de::DeserializeOwned;
    type Checked;
    type Key: std::hash::Hash + Eq;

    /// The line checked, or why it is refused.
    fn check(
        importer: &Importer<'_>,
        line: Self::Line,
    ) -> impl std::future::Future<Output = ImportResult<Result<Self::Checked, String>>> + Send;

    fn key(checked: &Self::Checked) -> Self::Key;

    /// Writes the row; false when it was already as the file says.
    fn store(
        importer: &Importer<'_>,
        checked: &Self::Checked,
    ) -> impl std::future::Future<Output = ImportResult<bool>> + Send;
}

pub(super) struct Importer<'a> {
    pub(super) backend: DbBackend,
    pub(super) txn: &'a DatabaseTransaction,
    pub(super) errors: Vec<RowError>,
    pub(super) report: ImportReport,
    /// The review interval, to derive published articles' next review dates.
    pub(super) review: ReviewSettings,
}

/// What a file holds, deciding how its lines are parsed and written.
#[derive(Clone, Copy)]
enum Target {
    Items(Collection),
    Inline(Collection),
    Links(&'static LinkSpec),
}

enum Row {
    Item(ItemRow),
    Inline(InlineRow),
    Link(LinkRow),
}

impl Target {
    fn file(self) -> String {
        match self {
            Target::Items(c) | Target::Inline(c) => format!("{c}.ndjson"),
            Target::Links(link) => format!("{}.ndjson", link.table),
        }
    }

    fn parse(self, line_no: usize, text: &str) -> Result<Row, String> {
        match self {
            Target::Items(c) => parse::parse_item(c, line_no, text).map(Row::Item),
            Target::Inline(c) => parse::parse_inline(c, line_no, text).map(Row::Inline),
            Target::Links(link) => parse::parse_link(link, line_no, text).map(Row::Link),
        }
    }
}

impl Importer<'_> {
    async fn run(&mut self, source: &dyn Source) -> ImportResult<()> {
        self.exec_sql(&format!("DROP TABLE IF EXISTS {SEEN_TABLE}"))
            .await?;
        self.exec_sql(&format!(
            "CREATE TEMPORARY TABLE {SEEN_TABLE} (key TEXT PRIMARY KEY)"
        ))
        .await?;
        for collection in Collection::ALL {
            self.stream(source, Target::Items(collection)).await?;
            if collection == Collection::Citations {
                self.import_csl(source).await?;
            }
            if !self.errors.is_empty() {
                return Ok(());
            }
        }
        for collection in Collection::ALL {
            if collection.inline_links().next().is_some() {
                self.stream(source, Target::Inline(collection)).await?;
                if !self.errors.is_empty() {
                    return Ok(());
                }
            }
        }
        for link in file_links() {
            self.stream(source, Target::Links(link)).await?;
            if !self.errors.is_empty() {
                return Ok(());
            }
        }
        // Drafts first: a review of a draft stands beside one.
        self.import_rows::<super::drafts::Drafts>(source).await?;
        if !self.errors.is_empty() {
            return Ok(());
        }
        self.import_rows::<super::reviews::Reviews>(source).await?;
        if !self.errors.is_empty() {
            return Ok(());
        }
        self.import_terms(source).await?;
        if !self.errors.is_empty() {
            return Ok(());
        }
        self.exec_sql(&format!("DROP TABLE {SEEN_TABLE}")).await
    }

    async fn exec_sql(&self, sql: &str) -> ImportResult<()> {
        self.txn.execute_unprepared(sql).await?;
        Ok(())
    }

    /// Reads a file of checked rows, if the set has it: each line is parsed, checked
    /// (against the file and the database), refused when it repeats an earlier line's key,
    /// and stored once the whole import is still clean.
    pub(super) async fn import_rows<F: RowFile>(
        &mut self,
        source: &dyn super::Source,
    ) -> ImportResult<()> {
        let io_error = io_error(F::FILE);
        let Some(reader) = source.open(F::FILE).map_err(&io_error)? else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut report = FileReport {
            file: F::FILE.into(),
            ..FileReport::default()
        };
        let mut seen = std::collections::HashSet::new();
        for (n, line) in std::io::BufRead::lines(reader).enumerate() {
            let line = line.map_err(&io_error)?;
            if line.trim().is_empty() {
                continue;
            }
            report.rows += 1;
            let checked = match serde_json::from_str::<F::Line>(&line) {
                Ok(line) => F::check(self, line).await?,
                Err(e) => Err(e.to_string()),
            };
            let checked = checked.and_then(|c| match seen.insert(F::key(&c)) {
                true => Ok(c),
                false => Err(F::DUPLICATE.to_owned()),
            });
            match checked {
                Ok(row) if self.errors.is_empty() => {
                    report.changed += u64::from(F::store(self, &row).await?);
                }
                Ok(_) => {}
                Err(reason) => self.reject(F::FILE, n + 1, reason),
            }
            if self.full() {
                return Ok(());
            }
        }
        report.elapsed = started.elapsed();
        self.report.files.push(report);
        Ok(())
    }

    pub(super) fn reject(&mut self, file: &str, line: usize, reason: impl Into<String>) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError {
                file: file.to_owned(),
                line,
                reason: reason.into(),
            });
        }
    }

    pub(super) fn full(&self) -> bool {
        self.errors.len() >= MAX_REPORTED_ERRORS
    }

    /// Streams the target's file: each line is parsed, and every `BATCH_ROWS` valid rows
    /// are validated against the database and written, so one batch at most is in memory.
    async fn stream(&mut self, source: &dyn Source, target: Target) -> ImportResult<()> {
        let file = target.file();
        let io_error = io_error(&file);
        let Some(mut reader) = source.open(&file).map_err(&io_error)? else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut report = FileReport {
            file: file.clone(),
            ..FileReport::default()
        };
        let mut buffer = Vec::with_capacity(4096);
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        let mut line_no = 0;
        loop {
            buffer.clear();
            if reader.read_until(b'\n', &mut buffer).map_err(&io_error)? == 0 {
                break;
            }
            line_no += 1;
            let Ok(text) = std::str::from_utf8(&buffer) else {
                self.reject(&file, line_no, "line is not valid UTF-8");
                continue;
            };
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            report.rows += 1;
            match target.parse(line_no, text) {
                Ok(row) => batch.push(row),
                Err(reason) => self.reject(&file, line_no, reason),
            }
            if self.full() {
                return Ok(());
            }
            if batch.len() == BATCH_ROWS {
                report.changed += self
                    .flush(target, &file, std::mem::take(&mut batch))
                    .await?;
            }
        }
        if !batch.is_empty() {
            report.changed += self.flush(target, &file, batch).await?;
        }
        report.elapsed = started.elapsed();
        if target_counts(target) {
            self.report.files.push(report);
        }
        Ok(())
    }

    async fn flush(&mut self, target: Target, file: &str, rows: Vec<Row>) -> ImportResult<u64> {
        match target {
            Target::Items(c) => {
                let rows: Vec<ItemRow> = rows
                    .into_iter()
                    .filter_map(|r| if let Row::Item(r) = r { Some(r) } else { None })
                    .collect();
                self.flush_items(c, file, rows).await
            }
            Target::Inline(c) => {
                let rows = rows
                    .into_iter()
                    .filter_map(|r| {
                        if let Row::Inline(r) = r {
                            Some(r)
                        } else {
                            None
                        }
                    })
                    .collect();
                self.flush_inline(c, file, rows).await
            }
            Target::Links(link) => {
                let rows = rows
                    .into_iter()
                    .filter_map(|r| if let Row::Link(r) = r { Some(r) } else { None })
                    .collect();
                self.flush_links(link, file, rows).await
            }
        }
    }
}

/// The second pass over articles re-reads a file already reported.
fn target_counts(target: Target) -> bool {
    !matches!(target, Target::Inline(_))
}

/// A published reviewed item without a next review date gets the one the API gives: its
/// last review (else its publication) plus the review interval. One with neither date
/// has nothing to count from and keeps none.
pub(super) fn review_due(collection: Collection, row: &mut ItemRow, review: ReviewSettings) {
    let fields = collection.fields();
    let at = |name: &str| fields.iter().position(|f| f.name == name);
    let (Some(due), Some(reviewed)) = (at("next_review_due"), at("last_reviewed_at")) else {
        return;
    };
    let timestamp = |value: &FieldValue| match value {
        FieldValue::Ready(value) => <Option<DateTime<Utc>> as ValueType>::try_from(value.clone())
            .ok()
            .flatten(),
        FieldValue::Reference { .. } => None,
    };
    if row.status != Status::Published || timestamp(&row.values[due]).is_some() {
        return;
    }
    let from = timestamp(&row.values[reviewed]).or(row.published_at);
    if let Some(from) = from {
        let interval = chrono::Duration::days(i64::from(review.review_interval_days));
        row.values[due] = FieldValue::Ready(Some(from + interval).into());
    }
}
