//! `salve_bm25(fts, sz, weights…)`: FTS5's `bm25()`, given each row's size.
//!
//! `bm25()` reads a matching row's token count with a statement of its own on the
//! `_docsize` table (prepared once, but stepped, reset and halted for every row): about half
//! the work of ranking a common word. Queries join `<fts>_docsize` on the rowid instead,
//! in their own loop, and pass the row's record (`sz`); everything else is what `bm25()`
//! computes (SQLite's `fts5_aux.c`), in the same order and the same floating-point
//! operations, so both give the same scores (a test compares them on every match).
//!
//! A last argument may give the query's statistics (see [`QueryStatistics`]) where the
//! caller has read them already; otherwise the first row counts each phrase's matches.

use std::ffi::{c_int, c_void};
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;

/// The SQL name of the function.
pub const FUNCTION: &str = "salve_bm25";
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// bm25's floor for the idf of a phrase in at least half the rows.
const IDF_FLOOR: f64 = 1e-6;

/// A collection's statistics for one query, as `bm25()` reads them: its rows, their
/// tokens, and each phrase's matching rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStatistics {
    pub rows: u64,
    pub tokens: u64,
    pub hits: Vec<u64>,
}

impl QueryStatistics {
    /// From FTS5's averages record (`<fts>_data` id 1: the row count, then each of the
    /// `columns` columns' token count) and the phrases' hits.
    pub fn from_averages(record: &[u8], hits: Vec<u64>) -> Option<Self> {
        let (rows, mut read) = varint(record)?;
        let mut tokens = 0u64;
        while read < record.len() {
            let (column, n) = varint(&record[read..])?;
            tokens = tokens.checked_add(column)?;
            read += n;
        }
        Some(Self { rows, tokens, hits })
    }

    /// Each phrase's idf, as bm25 computes it.
    pub fn idf(&self) -> Vec<f64> {
        self.hits
            .iter()
            .map(|&hits| {
                // Exact integers (below 2^53): the same values as bm25's integer subtraction.
                let value = ((self.rows as f64 - hits as f64 + 0.5) / (hits as f64 + 0.5)).ln();
                if value <= 0.0 { IDF_FLOOR } else { value }
            })
            .collect()
    }

    /// The least score no row reaches: each phrase adds idf · F(k1 + 1) / (F + K) with
    /// F / (F + K) below 1.
    pub fn score_bound(&self) -> f64 {
        (K1 + 1.0) * self.idf().iter().sum::<f64>()
    }

    /// The SQL argument `salve_bm25` reads: `rows tokens hits…`.
    pub fn encode(&self) -> String {
        let mut text = format!("{} {}", self.rows, self.tokens);
        for hits in &self.hits {
            text.push_str(&format!(" {hits}"));
        }
        text
    }

    fn decode(text: &str) -> Option<Self> {
        let mut numbers = text.split(' ').map(|n| n.parse::<u64>().ok());
        let (rows, tokens) = (numbers.next()??, numbers.next()??);
        let hits = numbers.collect::<Option<Vec<u64>>>()?;
        Some(Self { rows, tokens, hits })
    }
}

/// Per query: each phrase's idf, the average row size and the column weights (constant
/// arguments, read once); `freq` is per-row scratch.
struct Statistics {
    idf: Vec<f64>,
    avgdl: f64,
    columns: usize,
    weights: Vec<f64>,
    freq: Vec<f64>,
}

/// Registers `salve_bm25` on a connection.
#[allow(
    unsafe_code,
    reason = "FFI: FTS5 auxiliary functions have no safe binding"
)]
pub fn register(db: NonNull<ffi::sqlite3>) -> Result<(), String> {
    let api = fts5_api(db)?;
    // SAFETY: `api` is the connection's live fts5_api (it lives as long as the
    // connection); the name is a NUL-terminated static string that FTS5 copies; the
    // function keeps no user data, so it needs no destructor.
    let rc = unsafe {
        let create = (*api)
            .xCreateFunction
            .ok_or("FTS5 cannot register functions")?;
        create(api, c"salve_bm25".as_ptr(), null_mut(), Some(bm25), None)
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("registering {FUNCTION} failed ({rc})"))
    }
}

/// The connection's FTS5 API, as SQLite documents obtaining it (`SELECT fts5(?1)` with a
/// pointer bound as "fts5_api_ptr").
#[allow(unsafe_code, reason = "FFI: the documented way to reach the FTS5 API")]
fn fts5_api(db: NonNull<ffi::sqlite3>) -> Result<*mut ffi::fts5_api, String> {
    let mut api: *mut ffi::fts5_api = null_mut();
    let mut statement: *mut ffi::sqlite3_stmt = null_mut();
    // SAFETY: `db` is a live connection held under sqlx's lock; the statement is
    // finalized before returning; `api` outlives the step that writes through the bound
    // pointer, and the pointer type string is the one FTS5 checks.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db.as_ptr(),
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &raw mut statement,
            null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("FTS5 is not available ({rc})"));
        }
        ffi::sqlite3_bind_pointer(
            statement,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(statement);
        ffi::sqlite3_finalize(statement);
    }
    if api.is_null() {
        Err("FTS5 gave no API pointer".to_owned())
    } else {
        Ok(api)
    }
}

#[allow(unsafe_code, reason = "an FTS5 auxiliary function is called from C")]
unsafe extern "C" fn bm25(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    context: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes its live API, the cursor's context and `argc` argument values.
    let result = unsafe { score(&*api, fts, argc, argv) };
    // SAFETY: `context` is the live result context of this call.
    unsafe {
        match result {
            Ok(score) => ffi::sqlite3_result_double(context, -score),
            Err(rc) => ffi::sqlite3_result_error_code(context, rc),
        }
    }
}

fn check(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// The row's bm25 score (positive: higher is better).
#[allow(unsafe_code, reason = "calls into the FTS5 extension API")]
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let args: &[*mut ffi::sqlite3_value] = match usize::try_from(argc) {
        // SAFETY: SQLite passes `argc` valid value pointers.
        Ok(n) if n > 0 && !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
        _ => return Err(missing),
    };
    let (size, rest) = args.split_first().ok_or(missing)?;
    // SAFETY: the statistics live in the cursor's auxdata until the query ends; `rest`
    // holds values SQLite passed to this call.
    let stats = unsafe { statistics(api, fts, rest)? };
    let weight = |column: c_int| {
        usize::try_from(column)
            .ok()
            .and_then(|c| stats.weights.get(c))
            .copied()
            .unwrap_or(1.0)
    };
    // Each phrase's instances in the row, in the order `bm25()` adds them up (its
    // instance list, sorted by position, holds each phrase's in this order).
    let (first, next) = (
        api.xPhraseFirst.ok_or(missing)?,
        api.xPhraseNext.ok_or(missing)?,
    );
    for (phrase, freq) in stats.freq.iter_mut().enumerate() {
        *freq = 0.0;
        let phrase = c_int::try_from(phrase).map_err(|_| ffi::SQLITE_CORRUPT)?;
        let mut iter = ffi::Fts5PhraseIter {
            a: std::ptr::null(),
            b: std::ptr::null(),
        };
        let (mut column, mut offset): (c_int, c_int) = (0, 0);
        // SAFETY: `fts` is the live context; the iterator and out-parameters are local.
        check(unsafe { first(fts, phrase, &raw mut iter, &raw mut column, &raw mut offset) })?;
        while column >= 0 {
            *freq += weight(column);
            // SAFETY: as above; the iterator was started by xPhraseFirst.
            unsafe { next(fts, &raw mut iter, &raw mut column, &raw mut offset) };
        }
    }
    // SAFETY: a value pointer SQLite passed to this call.
    let d = unsafe { row_size(*size, stats.columns) }.ok_or(ffi::SQLITE_CORRUPT)? as f64;
    let mut score = 0.0;
    for (idf, freq) in stats.idf.iter().zip(&stats.freq) {
        score += idf * ((freq * (K1 + 1.0)) / (freq + K1 * (1.0 - B + B * d / stats.avgdl)));
    }
    Ok(score)
}

/// The query's statistics, computed by the first row and kept in the cursor's auxdata.
#[allow(unsafe_code, reason = "calls into the FTS5 extension API")]
unsafe fn statistics<'a>(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    args: &[*mut ffi::sqlite3_value],
) -> Result<&'a mut Statistics, c_int> {
    let missing = ffi::SQLITE_ERROR;
    // SAFETY: auxdata is null or the `Statistics` this function stored for this query.
    let kept = unsafe { api.xGetAuxdata.ok_or(missing)?(fts, 0) }.cast::<Statistics>();
    if let Some(mut kept) = NonNull::new(kept) {
        // SAFETY: see above; FTS5 calls the function serially for one cursor.
        return Ok(unsafe { kept.as_mut() });
    }
    // SAFETY: as above.
    let columns = unsafe { api.xColumnCount.ok_or(missing)?(fts) };
    let columns = usize::try_from(columns).map_err(|_| ffi::SQLITE_CORRUPT)?;
    // The weights are constant arguments: read once. Then, optionally, the statistics.
    let weights = (0..columns)
        // SAFETY: value pointers SQLite passed to this call.
        .map(|c| {
            args.get(c)
                .map_or(1.0, |v| unsafe { ffi::sqlite3_value_double(*v) })
        })
        .collect();
    // SAFETY: as above.
    let given = match args.get(columns) {
        Some(value) => Some(unsafe { text(*value) }.ok_or(ffi::SQLITE_MISMATCH)?),
        None => None,
    };
    let statistics = match given {
        Some(text) => QueryStatistics::decode(text).ok_or(ffi::SQLITE_MISMATCH)?,
        // SAFETY: `fts` is the live context.
        None => unsafe { read_statistics(api, fts)? },
    };
    // SAFETY: as above.
    let phrases = unsafe { api.xPhraseCount.ok_or(missing)?(fts) };
    if usize::try_from(phrases).ok() != Some(statistics.hits.len()) {
        return Err(ffi::SQLITE_MISMATCH);
    }
    let idf = statistics.idf();
    let stats = Box::new(Statistics {
        freq: vec![0.0; idf.len()],
        weights,
        idf,
        avgdl: statistics.tokens as f64 / statistics.rows as f64,
        columns,
    });
    let raw = Box::into_raw(stats);
    // SAFETY: FTS5 owns `raw` from here and frees it with `drop_statistics`.
    unsafe {
        check(api.xSetAuxdata.ok_or(missing)?(
            fts,
            raw.cast::<c_void>(),
            Some(drop_statistics),
        ))?;
        Ok(&mut *raw)
    }
}

/// The query's statistics as `bm25()` reads them: counting each phrase's matches.
#[allow(unsafe_code, reason = "calls into the FTS5 extension API")]
unsafe fn read_statistics(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> Result<QueryStatistics, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let (mut rows, mut tokens): (i64, i64) = (0, 0);
    // SAFETY: `fts` is the live context; the out-parameters are local.
    unsafe {
        check(api.xRowCount.ok_or(missing)?(fts, &raw mut rows))?;
        check(api.xColumnTotalSize.ok_or(missing)?(
            fts,
            -1,
            &raw mut tokens,
        ))?;
    }
    // SAFETY: as above.
    let phrases = unsafe { api.xPhraseCount.ok_or(missing)?(fts) };
    let mut hits = Vec::new();
    for phrase in 0..phrases {
        let mut count: i64 = 0;
        // SAFETY: the callback only counts into `count`, which outlives the call.
        check(unsafe {
            api.xQueryPhrase.ok_or(missing)?(
                fts,
                phrase,
                (&raw mut count).cast::<c_void>(),
                Some(count_row),
            )
        })?;
        hits.push(u64::try_from(count).map_err(|_| ffi::SQLITE_CORRUPT)?);
    }
    let unsigned = |n: i64| u64::try_from(n).map_err(|_| ffi::SQLITE_CORRUPT);
    Ok(QueryStatistics {
        rows: unsigned(rows)?,
        tokens: unsigned(tokens)?,
        hits,
    })
}

#[allow(unsafe_code, reason = "an FTS5 callback")]
unsafe extern "C" fn count_row(
    _api: *const ffi::Fts5ExtensionApi,
    _fts: *mut ffi::Fts5Context,
    hits: *mut c_void,
) -> c_int {
    // SAFETY: `hits` is the i64 `statistics` passed to xQueryPhrase.
    unsafe { *hits.cast::<i64>() += 1 };
    ffi::SQLITE_OK
}

#[allow(unsafe_code, reason = "an FTS5 auxdata destructor")]
unsafe extern "C" fn drop_statistics(stats: *mut c_void) {
    // SAFETY: `stats` came from Box::into_raw in `statistics`, and FTS5 frees it once.
    drop(unsafe { Box::from_raw(stats.cast::<Statistics>()) });
}

/// A text argument (`None` for anything else).
#[allow(unsafe_code, reason = "reads a value SQLite passed in")]
unsafe fn text<'a>(value: *mut ffi::sqlite3_value) -> Option<&'a str> {
    // SAFETY: a live value; sqlite3_value_text converts it first, then the length is
    // the text's; the bytes stay valid during the call that passed the value.
    unsafe {
        if ffi::sqlite3_value_type(value) != ffi::SQLITE_TEXT {
            return None;
        }
        let start = ffi::sqlite3_value_text(value);
        let bytes = usize::try_from(ffi::sqlite3_value_bytes(value)).ok()?;
        if start.is_null() {
            return None;
        }
        std::str::from_utf8(std::slice::from_raw_parts(start, bytes)).ok()
    }
}

/// The row's token count: the sum of the first `columns` varints of its `_docsize` record.
#[allow(unsafe_code, reason = "reads a blob SQLite passed in")]
unsafe fn row_size(value: *mut ffi::sqlite3_value, columns: usize) -> Option<u64> {
    // SAFETY: a live value; the blob pointer is valid for `bytes` bytes until the value
    // changes, which it does not during this call.
    let record = unsafe {
        let bytes = usize::try_from(ffi::sqlite3_value_bytes(value)).ok()?;
        let blob = ffi::sqlite3_value_blob(value).cast::<u8>();
        if blob.is_null() {
            return None;
        }
        std::slice::from_raw_parts(blob, bytes)
    };
    let mut rest = record;
    let mut total = 0u64;
    for _ in 0..columns {
        let (size, read) = varint(rest)?;
        total = total.checked_add(size)?;
        rest = &rest[read..];
    }
    Some(total)
}

/// A SQLite varint (as FTS5 writes its records): the value and the bytes it took.
pub fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Some(((value << 8) | u64::from(*byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::varint;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        assert_eq!(varint(&[0x05, 0xff]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0x81, 0x9c, 0x20]), Some((20_000, 3)));
        assert_eq!(varint(&[0x80]), None);
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
    }
}
