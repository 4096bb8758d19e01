//! Parquet input (`--data FILE.parquet`), read with the `parquet` crate's
//! low-level column readers (no arrow): row group by row group, a batch of
//! [`BATCH`] rows at a time, so memory is the file's bytes plus one batch of
//! decoded values per column, never a table of strings.
//!
//! Each cell is given to validation as the text a CSV export of the same
//! data would carry, so every rule (dates, yes/no, numbers, categories,
//! missing-value tokens) and every message is the CSV one:
//!
//! * null → blank (missing); a floating-point NaN → blank too (pandas
//!   writes missing floats as NaN);
//! * `DATE` (Date32) → `YYYY-MM-DD`;
//! * `TIMESTAMP` (milli-, micro- or nanoseconds, zone-aware or not) and
//!   legacy INT96 timestamps → `YYYY-MM-DD` at midnight, else
//!   `YYYY-MM-DD HH:MM:SS` (zone-aware values in UTC, as stored), which like
//!   an Excel date-time cell needs a `--date-format` with a time
//!   (`%Y-%m-%d %H:%M:%S`) for its date part to be taken;
//! * integers → decimal digits; floats → the shortest text that reads back
//!   to the same value (`61.5`, `3`); decimals → exact decimal text;
//! * booleans → `true`/`false` (yes/no columns accept them);
//! * strings, enums and dictionary-encoded columns → their UTF-8 text
//!   (text that is not UTF-8 is an error naming the row and column).
//!
//! Rows are numbered from 1 (the first data row) and messages say
//! `row N` ([`location_word`](super::location_word)). Only flat files are
//! read: a nested (struct, list or map) column is refused, naming it. A
//! file that is not Parquet, is truncated, or has a corrupt page is an
//! error naming the file (exit 2), never a panic.

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::NaiveDate;
use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;

use super::source::{row_shape, Shape, Walk};
use super::{clip, format_number};
use crate::error::IngestError;

/// What a walk hands each row to: (row number, cells); an error stops it.
pub type RowSink<'a> = dyn FnMut(u64, &[&str]) -> Result<(), IngestError> + 'a;

/// Rows decoded per column before they are handed on.
pub const BATCH: usize = 4096;

/// How a leaf column's values become cell text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Conv {
    Bool,
    Int32 {
        unsigned: bool,
    },
    Int64 {
        unsigned: bool,
    },
    Date,
    /// Ticks per second of a timestamp.
    Timestamp {
        per_sec: i64,
    },
    /// Ticks per second of a time of day.
    Time {
        per_sec: i64,
    },
    Int96,
    Float,
    Double,
    Decimal {
        scale: i32,
    },
    Float16,
    Text,
    /// Bytes shown as hex (UUIDs, fixed-length binaries).
    Hex,
}

/// One top-level (leaf) column of the file.
#[derive(Debug, Clone)]
struct Col {
    conv: Conv,
    descr: ColumnDescPtr,
}

/// A Parquet file held in memory, with its column names and how each
/// column's values are read.
#[derive(Clone)]
pub struct ParquetSource {
    /// The file as named in messages.
    pub file: String,
    /// Column names, in file order.
    pub headers: Vec<String>,
    reader: Arc<SerializedFileReader<Bytes>>,
    cols: Vec<Col>,
}

impl std::fmt::Debug for ParquetSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSource")
            .field("file", &self.file)
            .field("headers", &self.headers)
            .finish()
    }
}

fn err(file: &str, message: impl Into<String>) -> IngestError {
    let mut message: String = message.into();
    // a codec this build leaves out (zstd, brotli): say so, and how to fix
    if let Some(i) = message.find("Disabled feature at compile time: ") {
        let codec = message[i + 34..]
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("")
            .to_string();
        message.truncate(i);
        for noise in ["Parquet error: ", "corrupt data: "] {
            if message.ends_with(noise) {
                message.truncate(message.len() - noise.len());
            }
        }
        message.push_str(&format!(
            "compressed with {codec}, which survstudy does not read (it reads uncompressed, snappy, gzip and lz4 files); rewrite the file with snappy, e.g. pyarrow.parquet.write_table(table, path, compression=\"snappy\")"
        ));
    }
    IngestError::Parquet {
        file: file.to_string(),
        message,
    }
}

/// Run `f`, turning a panic inside the parquet crate (a malformed file
/// it does not check) into an error naming the file.
fn guarded<T>(file: &str, f: impl FnOnce() -> Result<T, IngestError>) -> Result<T, IngestError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("malformed data");
            Err(err(
                file,
                format!(
                    "not a readable Parquet file (corrupt or truncated: {})",
                    clip(what)
                ),
            ))
        }
    }
}

impl ParquetSource {
    /// Open the Parquet file held in `bytes`; `file` names it in messages.
    /// Checks the footer and the schema (flat columns of supported types).
    pub fn new(file: &str, bytes: Bytes) -> Result<Self, IngestError> {
        guarded(file, || Self::open(file, bytes))
    }

    /// Read and open the Parquet file at `path`.
    pub fn from_path(path: &std::path::Path) -> Result<Self, IngestError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
            file: file.clone(),
            source,
        })?;
        Self::new(&file, Bytes::from(bytes))
    }

    fn open(file: &str, bytes: Bytes) -> Result<Self, IngestError> {
        if bytes.is_empty() {
            return Err(IngestError::Empty {
                file: file.to_string(),
            });
        }
        if bytes.len() < 12 || !bytes.starts_with(b"PAR1") || !bytes.ends_with(b"PAR1") {
            return Err(err(
                file,
                "not a Parquet file (no PAR1 magic at its start and end; truncated or another format?)",
            ));
        }
        let reader = SerializedFileReader::new(bytes)
            .map_err(|e| err(file, format!("not a readable Parquet file: {e}")))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let root = schema.root_schema();
        let mut headers = Vec::new();
        for field in root.get_fields() {
            if field.is_group() {
                return Err(err(
                    file,
                    format!(
                        "column '{}' is a nested (struct, list or map) column; only flat columns can be read (flatten it, or write it as text)",
                        clip(field.name())
                    ),
                ));
            }
            headers.push(field.name().to_string());
        }
        let mut cols = Vec::with_capacity(schema.num_columns());
        for descr in schema.columns() {
            if descr.max_rep_level() > 0 || descr.path().parts().len() != 1 {
                return Err(err(
                    file,
                    format!(
                        "column '{}' is a repeated (list) column; only flat columns can be read",
                        clip(&descr.path().string())
                    ),
                ));
            }
            cols.push(Col {
                conv: conv_of(file, descr)?,
                descr: descr.clone(),
            });
        }
        if cols.len() != headers.len() {
            return Err(err(
                file,
                "the schema's columns do not match its fields (nested data?)",
            ));
        }
        if headers.is_empty() {
            return Err(IngestError::Empty {
                file: file.to_string(),
            });
        }
        let md = reader.metadata();
        for g in md.row_groups() {
            if g.num_columns() != cols.len() {
                return Err(err(
                    file,
                    "a row group does not have every column (corrupt file)",
                ));
            }
        }
        Ok(ParquetSource {
            file: file.to_string(),
            headers,
            reader: Arc::new(reader),
            cols,
        })
    }

    /// Rows in the file, as its footer says.
    pub fn num_rows(&self) -> u64 {
        self.reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .sum()
    }

    /// Every data row as (row number from 1, cells, one per column); rows
    /// whose cells are all blank are skipped and counted, as blank CSV rows.
    pub fn for_each_row(&self, f: &mut dyn FnMut(u64, &[&str])) -> Result<Walk, IngestError> {
        let all: Vec<usize> = (0..self.cols.len()).collect();
        let mut walk = Walk::default();
        let file = self.file.clone();
        self.walk_columns(&all, &mut |row, cells| {
            match row_shape(&file, cells.len(), row, cells)? {
                Shape::Blank => walk.blank_lines.push(row),
                Shape::Row => {
                    walk.rows += 1;
                    f(row, cells);
                }
            }
            Ok(())
        })?;
        Ok(walk)
    }

    /// Column `c` as numbers (null and NaN = NaN), decoded straight from
    /// its values, when it is stored as plain integers or doubles; `None`
    /// for any other storage (read it as text, by the CSV rules). The
    /// numbers are those the column's text would parse to (an integer's
    /// digits and its `as f64` round alike; a double is itself).
    pub fn column_numbers(&self, c: usize) -> Result<Option<Vec<f64>>, IngestError> {
        let col = &self.cols[c];
        let plain = matches!(
            (col.conv, col.descr.physical_type()),
            (Conv::Int32 { .. } | Conv::Int64 { .. }, _) | (Conv::Double, Physical::DOUBLE)
        );
        if !plain {
            return Ok(None);
        }
        guarded(&self.file, || {
            let file = &self.file;
            let name = clip(&self.headers[c]);
            let mut out: Vec<f64> =
                Vec::with_capacity(usize::try_from(self.num_rows()).unwrap_or(0));
            let mut buf = Buf::new(col);
            for g in 0..self.reader.num_row_groups() {
                let group = self
                    .reader
                    .get_row_group(g)
                    .map_err(|e| err(file, format!("row group {}: {e}", g + 1)))?;
                let expected = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
                let mut r = group
                    .get_column_reader(c)
                    .map_err(|e| err(file, format!("column '{name}': {e}")))?;
                let mut done = 0u64;
                loop {
                    let n = buf.read(&mut r).map_err(|e| {
                        err(
                            file,
                            format!(
                                "column '{name}', near row {}: corrupt data: {e}",
                                out.len() + 1
                            ),
                        )
                    })?;
                    if n == 0 {
                        break;
                    }
                    done += n as u64;
                    let mut v = 0;
                    for i in 0..n {
                        let present = buf.max_def == 0 || buf.defs.get(i) == Some(&buf.max_def);
                        if !present {
                            out.push(f64::NAN);
                            continue;
                        }
                        out.push(match (&buf.vals, col.conv) {
                            (Vals::I32(x), Conv::Int32 { unsigned: true }) => {
                                f64::from(x[v] as u32)
                            }
                            (Vals::I32(x), _) => f64::from(x[v]),
                            (Vals::I64(x), Conv::Int64 { unsigned: true }) => x[v] as u64 as f64,
                            (Vals::I64(x), _) => x[v] as f64,
                            (Vals::F64(x), _) => x[v],
                            _ => f64::NAN,
                        });
                        v += 1;
                    }
                }
                if done != expected {
                    return Err(err(
                        file,
                        format!(
                            "row group {} has {done} rows in column '{name}' but its footer says {expected} (corrupt or truncated file)",
                            g + 1
                        ),
                    ));
                }
            }
            Ok(Some(out))
        })
    }

    /// The cells of the columns `which` (indices into [`Self::headers`]),
    /// row by row (numbered from 1), blank rows included.
    pub fn walk_columns(&self, which: &[usize], f: &mut RowSink<'_>) -> Result<(), IngestError> {
        guarded(&self.file, || self.walk_inner(which, f))
    }

    fn walk_inner(&self, which: &[usize], f: &mut RowSink<'_>) -> Result<(), IngestError> {
        let file = &self.file;
        let mut texts: Vec<String> = vec![String::new(); which.len()];
        let mut bufs: Vec<Buf> = which.iter().map(|&c| Buf::new(&self.cols[c])).collect();
        let mut row: u64 = 0;
        for g in 0..self.reader.num_row_groups() {
            let group = self
                .reader
                .get_row_group(g)
                .map_err(|e| err(file, format!("row group {}: {e}", g + 1)))?;
            let expected = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
            let mut readers = Vec::with_capacity(which.len());
            for &c in which {
                readers.push(
                    group.get_column_reader(c).map_err(|e| {
                        err(file, format!("column '{}': {e}", clip(&self.headers[c])))
                    })?,
                );
            }
            let mut done: u64 = 0;
            loop {
                let mut n: Option<usize> = None;
                for (k, r) in readers.iter_mut().enumerate() {
                    let got = bufs[k].read(r).map_err(|e| {
                        err(
                            file,
                            format!(
                                "column '{}', near row {}: corrupt data: {e}",
                                clip(&self.headers[which[k]]),
                                row + 1
                            ),
                        )
                    })?;
                    match n {
                        None => n = Some(got),
                        Some(m) if m != got => {
                            return Err(err(
                                file,
                                format!(
                                    "row group {}: columns have different numbers of rows (corrupt file)",
                                    g + 1
                                ),
                            ))
                        }
                        _ => {}
                    }
                }
                let n = n.unwrap_or(0);
                if n == 0 {
                    break;
                }
                for b in bufs.iter_mut() {
                    b.start();
                }
                for _ in 0..n {
                    row += 1;
                    for (k, b) in bufs.iter_mut().enumerate() {
                        texts[k].clear();
                        b.next_text(&mut texts[k]).map_err(|m| {
                            err(
                                file,
                                format!(
                                    "row {row}, column '{}': {m}",
                                    clip(&self.headers[which[k]])
                                ),
                            )
                        })?;
                    }
                    let cells: Vec<&str> = texts.iter().map(String::as_str).collect();
                    f(row, &cells)?;
                }
                done += n as u64;
                if which.is_empty() {
                    break;
                }
            }
            if which.is_empty() {
                row += expected;
            } else if done != expected {
                return Err(err(
                    file,
                    format!(
                        "row group {} has {done} rows but its footer says {expected} (corrupt or truncated file)",
                        g + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn conv_of(file: &str, d: &ColumnDescPtr) -> Result<Conv, IngestError> {
    let logical = d.logical_type_ref();
    let unit_per_sec = |u: &TimeUnit| match u {
        TimeUnit::MILLIS => 1_000,
        TimeUnit::MICROS => 1_000_000,
        TimeUnit::NANOS => 1_000_000_000,
    };
    let legacy = d.converted_type();
    use parquet::basic::ConvertedType as Ct;
    let conv = match d.physical_type() {
        Physical::BOOLEAN => Conv::Bool,
        Physical::INT32 => match logical {
            Some(LogicalType::Date) => Conv::Date,
            Some(LogicalType::Decimal(t)) => Conv::Decimal { scale: t.scale },
            Some(LogicalType::Time(t)) => Conv::Time {
                per_sec: unit_per_sec(&t.unit),
            },
            Some(LogicalType::Integer(t)) => Conv::Int32 {
                unsigned: !t.is_signed,
            },
            _ => match legacy {
                Ct::DATE => Conv::Date,
                Ct::DECIMAL => Conv::Decimal {
                    scale: d.type_scale(),
                },
                Ct::TIME_MILLIS => Conv::Time { per_sec: 1_000 },
                Ct::UINT_8 | Ct::UINT_16 | Ct::UINT_32 => Conv::Int32 { unsigned: true },
                _ => Conv::Int32 { unsigned: false },
            },
        },
        Physical::INT64 => match logical {
            Some(LogicalType::Timestamp(t)) => Conv::Timestamp {
                per_sec: unit_per_sec(&t.unit),
            },
            Some(LogicalType::Decimal(t)) => Conv::Decimal { scale: t.scale },
            Some(LogicalType::Time(t)) => Conv::Time {
                per_sec: unit_per_sec(&t.unit),
            },
            Some(LogicalType::Integer(t)) => Conv::Int64 {
                unsigned: !t.is_signed,
            },
            _ => match legacy {
                Ct::TIMESTAMP_MILLIS => Conv::Timestamp { per_sec: 1_000 },
                Ct::TIMESTAMP_MICROS => Conv::Timestamp { per_sec: 1_000_000 },
                Ct::TIME_MICROS => Conv::Time { per_sec: 1_000_000 },
                Ct::DECIMAL => Conv::Decimal {
                    scale: d.type_scale(),
                },
                Ct::UINT_64 => Conv::Int64 { unsigned: true },
                _ => Conv::Int64 { unsigned: false },
            },
        },
        Physical::INT96 => Conv::Int96,
        Physical::FLOAT => Conv::Float,
        Physical::DOUBLE => Conv::Double,
        Physical::BYTE_ARRAY => match logical {
            Some(LogicalType::Decimal(t)) => Conv::Decimal { scale: t.scale },
            _ if legacy == Ct::DECIMAL => Conv::Decimal {
                scale: d.type_scale(),
            },
            // strings, enums, JSON, and plain binary (read as UTF-8 text)
            _ => Conv::Text,
        },
        Physical::FIXED_LEN_BYTE_ARRAY => match logical {
            Some(LogicalType::Decimal(t)) => Conv::Decimal { scale: t.scale },
            Some(LogicalType::Float16) => Conv::Float16,
            _ if legacy == Ct::DECIMAL => Conv::Decimal {
                scale: d.type_scale(),
            },
            _ => Conv::Hex,
        },
    };
    if let Conv::Decimal { scale } = conv {
        if !(0..=38).contains(&scale) {
            return Err(err(
                file,
                format!(
                    "column '{}': decimal scale {scale} is not supported",
                    clip(d.name())
                ),
            ));
        }
    }
    Ok(conv)
}

/// Decoded values of one column for the current batch.
enum Vals {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

/// One column's batch: definition levels, packed non-null values, and the
/// cursor over both.
struct Buf {
    conv: Conv,
    max_def: i16,
    defs: Vec<i16>,
    vals: Vals,
    /// Next level (row) and next value of the batch.
    at: usize,
    vat: usize,
}

impl Buf {
    fn new(col: &Col) -> Buf {
        let vals = match col.descr.physical_type() {
            Physical::BOOLEAN => Vals::Bool(Vec::new()),
            Physical::INT32 => Vals::I32(Vec::new()),
            Physical::INT64 => Vals::I64(Vec::new()),
            Physical::INT96 => Vals::I96(Vec::new()),
            Physical::FLOAT => Vals::F32(Vec::new()),
            Physical::DOUBLE => Vals::F64(Vec::new()),
            Physical::BYTE_ARRAY => Vals::Bytes(Vec::new()),
            Physical::FIXED_LEN_BYTE_ARRAY => Vals::Fixed(Vec::new()),
        };
        Buf {
            conv: col.conv,
            max_def: col.descr.max_def_level(),
            defs: Vec::new(),
            vals,
            at: 0,
            vat: 0,
        }
    }

    /// Decode the next batch of rows; returns how many.
    fn read(&mut self, r: &mut ColumnReader) -> parquet::errors::Result<usize> {
        self.defs.clear();
        let defs = (self.max_def > 0).then_some(&mut self.defs);
        macro_rules! go {
            ($rd:expr, $v:expr) => {{
                $v.clear();
                let (records, values, levels) = $rd.read_records(BATCH, defs, None, $v)?;
                let n_def = if self.max_def > 0 { levels } else { records };
                if records != n_def || values > records || $v.len() != values {
                    return Err(parquet::errors::ParquetError::General(
                        "levels and values disagree".into(),
                    ));
                }
                if self.max_def > 0 {
                    let present = self.defs.iter().filter(|&&d| d == self.max_def).count();
                    if present != values {
                        return Err(parquet::errors::ParquetError::General(
                            "definition levels and values disagree".into(),
                        ));
                    }
                }
                Ok(records)
            }};
        }
        match (r, &mut self.vals) {
            (ColumnReader::BoolColumnReader(rd), Vals::Bool(v)) => go!(rd, v),
            (ColumnReader::Int32ColumnReader(rd), Vals::I32(v)) => go!(rd, v),
            (ColumnReader::Int64ColumnReader(rd), Vals::I64(v)) => go!(rd, v),
            (ColumnReader::Int96ColumnReader(rd), Vals::I96(v)) => go!(rd, v),
            (ColumnReader::FloatColumnReader(rd), Vals::F32(v)) => go!(rd, v),
            (ColumnReader::DoubleColumnReader(rd), Vals::F64(v)) => go!(rd, v),
            (ColumnReader::ByteArrayColumnReader(rd), Vals::Bytes(v)) => go!(rd, v),
            (ColumnReader::FixedLenByteArrayColumnReader(rd), Vals::Fixed(v)) => go!(rd, v),
            _ => Err(parquet::errors::ParquetError::General(
                "column reader of an unexpected type".into(),
            )),
        }
    }

    fn start(&mut self) {
        self.at = 0;
        self.vat = 0;
    }

    /// The next row's cell as text (blank when null).
    fn next_text(&mut self, out: &mut String) -> Result<(), String> {
        let present = self.max_def == 0 || self.defs.get(self.at) == Some(&self.max_def);
        self.at += 1;
        if !present {
            return Ok(());
        }
        let i = self.vat;
        self.vat += 1;
        let conv = self.conv;
        match &self.vals {
            Vals::Bool(v) => out.push_str(if v[i] { "true" } else { "false" }),
            Vals::I32(v) => match conv {
                Conv::Date => date_text(i64::from(v[i]), out),
                Conv::Decimal { scale } => decimal_text(i128::from(v[i]), scale, out),
                Conv::Time { per_sec } => time_text(i64::from(v[i]), per_sec, out),
                Conv::Int32 { unsigned: true } => {
                    let _ = write!(out, "{}", v[i] as u32);
                }
                _ => {
                    let _ = write!(out, "{}", v[i]);
                }
            },
            Vals::I64(v) => match conv {
                Conv::Timestamp { per_sec } => timestamp_text(v[i], per_sec, out),
                Conv::Decimal { scale } => decimal_text(i128::from(v[i]), scale, out),
                Conv::Time { per_sec } => time_text(v[i], per_sec, out),
                Conv::Int64 { unsigned: true } => {
                    let _ = write!(out, "{}", v[i] as u64);
                }
                _ => {
                    let _ = write!(out, "{}", v[i]);
                }
            },
            Vals::I96(v) => {
                let d = v[i].data();
                let nanos = (i64::from(d[1]) << 32) | i64::from(d[0]);
                let day = i64::from(d[2] as i32) - 2_440_588;
                datetime_text(day, nanos, 1_000_000_000, out);
            }
            Vals::F32(v) => {
                if !v[i].is_nan() {
                    // Display never writes a trailing ".0" (3.0 prints as 3)
                    let _ = write!(out, "{}", v[i]);
                }
            }
            Vals::F64(v) => {
                if !v[i].is_nan() {
                    out.push_str(&format_number(v[i]));
                }
            }
            Vals::Bytes(v) => bytes_text(v[i].data(), conv, out)?,
            Vals::Fixed(v) => bytes_text(v[i].data(), conv, out)?,
        }
        Ok(())
    }
}

fn bytes_text(b: &[u8], conv: Conv, out: &mut String) -> Result<(), String> {
    match conv {
        Conv::Decimal { scale } => {
            if b.is_empty() || b.len() > 16 {
                return Err(format!("decimal of {} bytes is not supported", b.len()));
            }
            // big-endian two's complement
            let mut v: i128 = if b[0] & 0x80 != 0 { -1 } else { 0 };
            for &x in b {
                v = (v << 8) | i128::from(x);
            }
            decimal_text(v, scale, out);
        }
        Conv::Float16 => {
            if b.len() != 2 {
                return Err("float16 value is not 2 bytes".into());
            }
            let x = half_to_f64(u16::from_le_bytes([b[0], b[1]]));
            if !x.is_nan() {
                out.push_str(&format_number(x));
            }
        }
        Conv::Hex => {
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
        }
        _ => match std::str::from_utf8(b) {
            Ok(s) => out.push_str(s),
            Err(_) => return Err("text is not valid UTF-8".into()),
        },
    }
    Ok(())
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Days since 1970-01-01 as a date, if chrono can represent it.
fn epoch_date(days: i64) -> Option<NaiveDate> {
    let days = i32::try_from(days.checked_add(719_163)?).ok()?;
    NaiveDate::from_num_days_from_ce_opt(days)
}

fn date_text(days: i64, out: &mut String) {
    match epoch_date(days) {
        Some(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        None => {
            let _ = write!(out, "{days} days from 1970-01-01");
        }
    }
}

fn timestamp_text(ticks: i64, per_sec: i64, out: &mut String) {
    let per_day = per_sec * 86_400;
    datetime_text(
        ticks.div_euclid(per_day),
        ticks.rem_euclid(per_day),
        per_sec,
        out,
    );
}

/// A day (since 1970-01-01) and ticks into it as `YYYY-MM-DD`, with
/// ` HH:MM:SS` unless at midnight (fractions of a second are dropped).
fn datetime_text(day: i64, ticks: i64, per_sec: i64, out: &mut String) {
    date_text(day, out);
    if ticks != 0 {
        let secs = ticks / per_sec;
        let _ = write!(
            out,
            " {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
}

fn time_text(ticks: i64, per_sec: i64, out: &mut String) {
    let secs = ticks.div_euclid(per_sec);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

fn decimal_text(v: i128, scale: i32, out: &mut String) {
    let digits = v.unsigned_abs().to_string();
    if v < 0 {
        out.push('-');
    }
    let scale = scale.max(0) as usize;
    if scale == 0 {
        out.push_str(&digits);
        return;
    }
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    out.push_str(int);
    out.push('.');
    out.push_str(frac);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_texts() {
        let mut s = String::new();
        date_text(0, &mut s);
        assert_eq!(s, "1970-01-01");
        s.clear();
        date_text(18_628, &mut s);
        assert_eq!(s, "2021-01-01");
        s.clear();
        timestamp_text(18_628 * 86_400_000, 1_000, &mut s);
        assert_eq!(s, "2021-01-01");
        s.clear();
        timestamp_text(18_628 * 86_400_000_000 + 45_296_000_001, 1_000_000, &mut s);
        assert_eq!(s, "2021-01-01 12:34:56");
        s.clear();
        timestamp_text(-1, 1_000_000_000, &mut s);
        assert_eq!(s, "1969-12-31 23:59:59");
        s.clear();
        decimal_text(-1234, 2, &mut s);
        assert_eq!(s, "-12.34");
        s.clear();
        decimal_text(5, 3, &mut s);
        assert_eq!(s, "0.005");
        s.clear();
        date_text(i64::from(i32::MAX), &mut s);
        assert!(s.ends_with("days from 1970-01-01"), "{s}");
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
    }
}
