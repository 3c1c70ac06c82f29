//! `citations.csl.json`: citations as reference managers export them, a CSL-JSON array.
//! Each item is checked against the CSL-JSON schema, read as a citation row
//! (`domain::csl::read`) and then handled as a line of `citations.ndjson` is, errors named
//! by the line where the item starts.

use std::io::Read;

use serde_json::value::RawValue;

use super::BATCH_ROWS;
use super::import::{FileReport, ImportResult, Importer, io_error};
use super::parse;
use crate::domain::Collection;
use crate::domain::csl::read;

pub const FILE: &str = "citations.csl.json";

/// The largest file read (it is read whole: an array has no lines to stream).
const MAX_BYTES: u64 = 256 * 1024 * 1024;

impl Importer<'_> {
    /// Reads the file, if the set has it, right after `citations.ndjson`: a slug in both
    /// is a duplicate, as within one file.
    pub(super) async fn import_csl(&mut self, source: &dyn super::Source) -> ImportResult<()> {
        let io_error = io_error(FILE);
        let Some(reader) = source.open(FILE).map_err(&io_error)? else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut bytes = Vec::new();
        reader
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(&io_error)?;
        if bytes.len() as u64 > MAX_BYTES {
            let limit = MAX_BYTES >> 20;
            self.reject(FILE, 1, format!("larger than {limit} MiB: split it"));
            return Ok(());
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            self.reject(FILE, 1, "not valid UTF-8");
            return Ok(());
        };
        let items: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(items) => items,
            Err(e) => {
                let reason = format!("not a CSL-JSON array of items: {e}");
                self.reject(FILE, e.line().max(1), reason);
                return Ok(());
            }
        };
        let mut report = FileReport {
            file: FILE.into(),
            ..FileReport::default()
        };
        let mut batch = Vec::with_capacity(BATCH_ROWS.min(items.len()));
        let mut lines = LineIndex::new(text);
        for raw in items {
            let line_no = lines.line_of(raw.get());
            report.rows += 1;
            let item = serde_json::from_str(raw.get()).unwrap_or_default();
            match read::row(&item)
                .and_then(|row| parse::parse_item_object(Collection::Citations, line_no, row))
            {
                Ok(row) => batch.push(row),
                Err(reason) => self.reject(FILE, line_no, reason),
            }
            if self.full() {
                return Ok(());
            }
            if batch.len() == BATCH_ROWS {
                let rows = std::mem::take(&mut batch);
                report.changed += self.flush_items(Collection::Citations, FILE, rows).await?;
            }
        }
        if !batch.is_empty() {
            report.changed += self.flush_items(Collection::Citations, FILE, batch).await?;
        }
        report.elapsed = started.elapsed();
        self.report.files.push(report);
        Ok(())
    }
}

/// Line numbers of slices of one text, asked in order.
struct LineIndex<'a> {
    text: &'a str,
    at: usize,
    line: usize,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The line where `part` (a slice of the text, after the last one asked) starts.
    fn line_of(&mut self, part: &str) -> usize {
        let offset = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let offset = offset.clamp(self.at, self.text.len());
        self.line += self.text.as_bytes()[self.at..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.at = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_found_by_line() {
        let text = "[\n  {\"id\": 1},\n\n  {\"id\": 2}, {\"id\": 3}\n]";
        let items: Vec<&RawValue> = serde_json::from_str(text).unwrap();
        let mut lines = LineIndex::new(text);
        let found: Vec<usize> = items.iter().map(|i| lines.line_of(i.get())).collect();
        assert_eq!(found, [2, 4, 4]);
    }
}
