//! `syndication.ndjson`: the deployment's syndication terms, one line, in import and
//! export alike.

use std::io::BufRead;

use super::import::{FileReport, ImportResult, Importer, io_error};
use crate::domain::syndication::Terms;
use crate::service::syndication;

pub const FILE: &str = "syndication.ndjson";

impl Importer<'_> {
    /// Reads the terms, if the set has them: one JSON object on one line, checked like an
    /// admin's edit; unchanged terms are left alone.
    pub(super) async fn import_terms(&mut self, source: &dyn super::Source) -> ImportResult<()> {
        let io_error = io_error(FILE);
        let Some(reader) = source.open(FILE).map_err(&io_error)? else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut found: Option<(usize, Terms)> = None;
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(&io_error)?;
            if line.trim().is_empty() {
                continue;
            }
            let line_no = n + 1;
            if found.is_some() {
                self.reject(FILE, line_no, "the terms are one line; this is another");
                continue;
            }
            match serde_json::from_str::<Terms>(&line) {
                Ok(terms) => found = Some((line_no, terms)),
                Err(e) => self.reject(FILE, line_no, e.to_string()),
            }
        }
        let Some((line_no, terms)) = found else {
            return Ok(());
        };
        for violation in terms.violations() {
            self.reject(
                FILE,
                line_no,
                format!("{}: {}", violation.pointer, violation.detail),
            );
        }
        if !self.errors.is_empty() {
            return Ok(());
        }
        let changed = syndication::terms(self.txn).await? != terms;
        if changed {
            syndication::store(self.txn, &terms).await?;
        }
        self.report.files.push(FileReport {
            file: FILE.into(),
            rows: 1,
            changed: u64::from(changed),
            elapsed: started.elapsed(),
        });
        Ok(())
    }
}
