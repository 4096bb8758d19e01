//! Fast column reader for the ad-hoc commands (`km`, `logrank`, `cox`).
//!
//! Reads only the requested columns of a CSV file. A large regular file is
//! cut in two at a line boundary near its middle; each core streams its half
//! through its own file handle and a 1 MiB buffer, parsing straight into its
//! own columns, so peak memory is the parsed columns plus two small buffers.
//! The halves are concatenated in file order (levels of text columns in
//! order of first appearance), so results are identical to a sequential
//! read. Pipes and small files are read by one thread.
//!
//! Cells: surrounding spaces are trimmed; blank or `NA` is missing; a quoted
//! cell (`"…"`, with `""` escapes) is unquoted. Every row must have as many
//! fields as the header ([`TableError::Ragged`]; extra blank fields at the
//! end are accepted): fields are counted on every line, past the requested
//! columns too. Files with a quoted field that
//! spans lines fall back to the `csv` crate (slower, same result). A UTF-8
//! BOM and CRLF line ends are accepted. Column names match exactly, or else
//! after trimming, case-insensitively.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use thiserror::Error;

/// What to parse a requested column as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    /// A number; missing = NaN.
    Number,
    /// A label, interned; missing = [`MISSING`].
    Text,
}

/// Code of a missing label.
pub const MISSING: u32 = u32::MAX;

/// A parsed column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; NaN = missing.
    Number(Vec<f64>),
    /// Text, coded by level.
    Text {
        /// Level index per row ([`MISSING`] = missing).
        codes: Vec<u32>,
        /// The distinct values, sorted.
        levels: Vec<String>,
    },
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Number(v) => v.len(),
            Column::Text { codes, .. } => codes.len(),
        }
    }
    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether row i is missing.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Number(v) => v[i].is_nan(),
            Column::Text { codes, .. } => codes[i] == MISSING,
        }
    }
}

/// Errors reading a table; lines count the header as line 1.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TableError {
    #[error("cannot read file: {0}")]
    /// The file cannot be read.
    Io(String),
    #[error("the file is empty (no header line)")]
    /// The file has no header line.
    Empty,
    #[error("the file has a header line but no data rows")]
    /// The file has a header line only.
    NoRows,
    /// A requested column is not in the header.
    #[error("column '{name}' not found (columns: {available})")]
    MissingColumn {
        /// The column asked for.
        name: String,
        /// The file's columns, comma-separated.
        available: String,
    },
    /// A number column has a cell that is not a number.
    #[error("line {line}, column '{column}': '{value}' is not a number")]
    NotNumber {
        /// 1-based line (the header is line 1).
        line: usize,
        /// Column header.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A Parquet cell that should be a number is not one.
    #[error("row {row}, column '{column}': '{value}' is not a number")]
    NotNumberInRow {
        /// 1-based data row of the Parquet file.
        row: usize,
        /// Column name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A Parquet file that cannot be read (not Parquet, corrupt, nested).
    #[error("{0}")]
    Parquet(String),
    /// A row with more or fewer fields than the header (extra blank fields
    /// at the end of a row are accepted, as `run` accepts them). A missing
    /// or extra separator shifts every value after it, so such a row is
    /// never read.
    #[error("line {line}: {found} fields, but the header has {expected} (a missing or extra separator shifts the values after it; quote cells that contain commas)")]
    Ragged {
        /// 1-based line (the header is line 1).
        line: usize,
        /// Fields of the row.
        found: usize,
        /// Fields of the header.
        expected: usize,
    },
}

/// A request: column name and kind.
#[derive(Debug, Clone)]
pub struct Request {
    /// Column header (any case).
    pub name: String,
    /// How the column is parsed.
    pub kind: ColKind,
}

/// The columns read, in request order, and the line number of each row.
#[derive(Debug, Clone)]
pub struct Table {
    /// The requested columns, in request order.
    pub columns: Vec<Column>,
    /// Number of data rows.
    pub n_rows: usize,
    /// Resolved header names of the requested columns.
    pub names: Vec<String>,
    /// Line numbers of skipped blank lines, ascending.
    pub blank_lines: Vec<usize>,
    /// Line of every row, when rows can span lines (quoted newlines); empty
    /// otherwise.
    pub row_lines: Vec<usize>,
    /// Rows are numbered as data rows from 1 (Parquet), not as file lines.
    pub data_rows: bool,
}

impl Table {
    /// Line number in the file (header = 1) of data row `row`, accounting
    /// for skipped blank lines.
    pub fn line_of(&self, row: usize) -> usize {
        if self.data_rows {
            return row + 1;
        }
        if let Some(&l) = self.row_lines.get(row) {
            return l;
        }
        let mut line = row + 2;
        for &b in &self.blank_lines {
            if b <= line {
                line += 1;
            } else {
                break;
            }
        }
        line
    }
}

/// Read buffer of each parsing thread (fits the L2 cache with the columns'
/// write streams).
const BLOCK: usize = 1 << 20;

/// Files at least this large are parsed on two threads.
const MIN_SPLIT: u64 = 1 << 20;

fn resolve(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name).or_else(|| {
        let want = name.trim().to_ascii_lowercase();
        header
            .iter()
            .position(|h| h.trim().to_ascii_lowercase() == want)
    })
}

fn split_header(line: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    rdr.records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(|s| s.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Parse a trimmed cell as a number (`None` = not a number); blank/NA → NaN.
fn parse_number(cell: &[u8]) -> Option<f64> {
    if cell.is_empty() || cell == b"NA" {
        return Some(f64::NAN);
    }
    match fast_float2::parse::<f64, _>(cell) {
        Ok(v) => Some(v),
        Err(_) => {
            // accept forms fast-float rejects but Rust accepts (e.g. "+1", "inf")
            std::str::from_utf8(cell).ok()?.parse::<f64>().ok()
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e]
}

/// Unquote a cell; returns owned bytes only when escapes are present.
fn unquote(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let c = trim(cell);
    if c.len() >= 2 && c[0] == b'"' && c[c.len() - 1] == b'"' {
        let inner = &c[1..c.len() - 1];
        if memchr::memchr(b'"', inner).is_some() {
            let s = String::from_utf8_lossy(inner).replace("\"\"", "\"");
            return std::borrow::Cow::Owned(trim(s.as_bytes()).to_vec());
        }
        return std::borrow::Cow::Borrowed(trim(inner));
    }
    std::borrow::Cow::Borrowed(c)
}

/// Columns parsed by one thread, appended to block after block.
struct Sink {
    cols: Vec<PartCol>,
    rows: usize,
    /// Lines seen (every line is a row or a blank line).
    lines: usize,
    /// Index (0-based, within this thread's part of the file) of every
    /// skipped blank line.
    blanks: Vec<usize>,
}

enum PartCol {
    Number(Vec<f64>),
    Text {
        codes: Vec<u32>,
        levels: Vec<Vec<u8>>,
        map: HashMap<Vec<u8>, u32>,
    },
}

/// Error inside a thread's part: index of the line within the part, and details.
struct PartError {
    line: usize,
    kind: PartErrorKind,
}

enum PartErrorKind {
    NotNumber { col: usize, value: String },
    Ragged { found: usize },
    QuotedNewline,
    Io(String),
}

impl Sink {
    fn new(wanted: &[(usize, usize, ColKind)]) -> Sink {
        let cols = wanted
            .iter()
            .map(|(_, _, kind)| match kind {
                ColKind::Number => PartCol::Number(Vec::new()),
                ColKind::Text => PartCol::Text {
                    codes: Vec::new(),
                    levels: vec![],
                    map: HashMap::new(),
                },
            })
            .collect();
        Sink {
            cols,
            rows: 0,
            lines: 0,
            blanks: Vec::new(),
        }
    }

    /// Parse the complete lines of `buf` (which ends after a newline or at
    /// the end of the part).
    fn parse(
        &mut self,
        buf: &[u8],
        wanted: &[(usize, usize, ColKind)],
        max_field: usize,
        width: usize,
    ) -> Result<(), PartError> {
        // wanted: (field index, request index, kind), sorted by field index
        // one scan per block: most files have no quotes at all
        let block_has_quote = memchr::memchr(b'"', buf).is_some();
        let cols = &mut self.cols;
        let mut pos = 0;
        while pos < buf.len() {
            let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |e| pos + e);
            let mut line = &buf[pos..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            pos = end + 1;
            let line_no = self.lines;
            self.lines += 1;
            if trim(line).is_empty() {
                self.blanks.push(line_no);
                continue;
            }
            let fail = |kind| PartError {
                line: line_no,
                kind,
            };
            let has_quote = block_has_quote && memchr::memchr(b'"', line).is_some();
            if has_quote && memchr::memchr_iter(b'"', line).count() % 2 == 1 {
                return Err(fail(PartErrorKind::QuotedNewline));
            }
            let mut field = 0usize;
            let mut fstart = 0usize;
            let mut w = 0usize;
            let mut i = 0usize;
            let mut in_q = false;
            let fend = loop {
                // find the end of the current field
                let fend;
                if has_quote {
                    let mut j = i;
                    while j < line.len() && (in_q || line[j] != b',') {
                        if line[j] == b'"' {
                            in_q = !in_q;
                        }
                        j += 1;
                    }
                    fend = j;
                } else {
                    fend = memchr::memchr(b',', &line[i..]).map_or(line.len(), |e| i + e);
                }
                if w < wanted.len() && wanted[w].0 == field {
                    let raw = &line[fstart..fend];
                    let cell = unquote(raw);
                    let cell: &[u8] = &cell;
                    // every request for this field (a column may be requested twice)
                    while w < wanted.len() && wanted[w].0 == field {
                        match &mut cols[w] {
                            PartCol::Number(v) => match parse_number(cell) {
                                Some(x) => v.push(x),
                                None => {
                                    // a shifted row explains a bad number
                                    // better than the number itself
                                    let found = count_fields(line);
                                    if !fits(line, found, width) {
                                        return Err(fail(PartErrorKind::Ragged { found }));
                                    }
                                    return Err(fail(PartErrorKind::NotNumber {
                                        col: wanted[w].1,
                                        value: crate::ingest::clip(&String::from_utf8_lossy(cell)),
                                    }));
                                }
                            },
                            PartCol::Text { codes, levels, map } => {
                                if cell.is_empty() || cell == b"NA" {
                                    codes.push(MISSING);
                                } else if let Some(c) = (levels.len() <= 16)
                                    .then(|| levels.iter().position(|l| l.as_slice() == cell))
                                    .flatten()
                                {
                                    // few levels (the usual event/group column): a
                                    // linear scan beats hashing every cell
                                    codes.push(c as u32);
                                } else if let Some(&c) = map.get(cell) {
                                    codes.push(c);
                                } else {
                                    let c = levels.len() as u32;
                                    levels.push(cell.to_vec());
                                    map.insert(cell.to_vec(), c);
                                    codes.push(c);
                                }
                            }
                        }
                        w += 1;
                    }
                }
                if field >= max_field || fend >= line.len() {
                    break fend;
                }
                field += 1;
                i = fend + 1;
                fstart = i;
            };
            // count the fields past the last requested one: one memchr
            // scan of the rest of the line (quote-aware when it has quotes)
            let mut found = field + 1;
            if fend < line.len() {
                let rest = &line[fend + 1..];
                found += 1 + if has_quote {
                    count_separators(rest)
                } else {
                    count_commas(rest)
                };
            }
            if found != width && !fits(line, found, width) {
                return Err(fail(PartErrorKind::Ragged { found }));
            }
            debug_assert!(w == wanted.len());
            self.rows += 1;
        }
        Ok(())
    }
}

/// Commas in `s` (a line without quotes), eight bytes at a time: after
/// `v = word ^ ",,,,,,,,"`, a byte is zero exactly where a comma was, and
/// `((v & 0x7F..) + 0x7F..) | v` has its high bit clear exactly there (no
/// carry crosses a byte), so a popcount counts them — a few cycles per
/// line of a typical file, whatever its number of fields.
fn count_commas(s: &[u8]) -> usize {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const COMMAS: u64 = 0x2C2C_2C2C_2C2C_2C2C;
    let mut chunks = s.chunks_exact(8);
    let mut n = 0usize;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w) ^ COMMAS;
        let t = ((v & LO7) + LO7) | v;
        n += (!t & !LO7).count_ones() as usize;
    }
    n + chunks.remainder().iter().filter(|&&b| b == b',').count()
}

/// Separators outside quotes in `s` (which starts outside quotes).
fn count_separators(s: &[u8]) -> usize {
    let mut in_q = false;
    let mut n = 0;
    for &b in s {
        match b {
            b'"' => in_q = !in_q,
            b',' if !in_q => n += 1,
            _ => {}
        }
    }
    n
}

/// Fields on a line (quote-aware).
fn count_fields(line: &[u8]) -> usize {
    1 + count_separators(line)
}

/// Whether a line of `found` fields fits a header of `width`: exactly, or
/// with only blank fields past the header (a trailing separator).
fn fits(line: &[u8], found: usize, width: usize) -> bool {
    if found == width {
        return true;
    }
    if found < width {
        return false;
    }
    // the rare case: split the line and look at the extra fields
    let (mut in_q, mut field, mut start) = (false, 0, 0);
    for i in 0..=line.len() {
        match line.get(i) {
            Some(b'"') => in_q = !in_q,
            Some(b',') if !in_q => {
                if field >= width && !unquote(&line[start..i]).is_empty() {
                    return false;
                }
                field += 1;
                start = i + 1;
            }
            None => return field < width || unquote(&line[start..]).is_empty(),
            _ => {}
        }
    }
    true
}

/// Stream `left` more bytes from `rdr` (`u64::MAX`: to the end), after the
/// `filled` bytes already in `buf`, parsing complete lines block by block.
fn scan(
    mut rdr: impl Read,
    mut buf: Vec<u8>,
    mut filled: usize,
    mut left: u64,
    wanted: &[(usize, usize, ColKind)],
    max_field: usize,
    width: usize,
) -> Result<Sink, PartError> {
    let mut sink = Sink::new(wanted);
    let io = |sink: &Sink, e: std::io::Error| PartError {
        line: sink.lines,
        kind: PartErrorKind::Io(e.to_string()),
    };
    loop {
        while filled < buf.len() && left > 0 {
            let want = (buf.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = rdr
                .read(&mut buf[filled..filled + want])
                .map_err(|e| io(&sink, e))?;
            if n == 0 {
                left = 0;
                break;
            }
            filled += n;
            left -= n as u64;
        }
        if filled == 0 {
            break;
        }
        let cut = if left == 0 {
            filled
        } else if let Some(p) = memchr::memrchr(b'\n', &buf[..filled]) {
            p + 1
        } else {
            // one line longer than the buffer: make room and read on
            buf.resize(buf.len() * 2, 0);
            continue;
        };
        sink.parse(&buf[..cut], wanted, max_field, width)?;
        buf.copy_within(cut..filled, 0);
        filled -= cut;
        if left == 0 && filled == 0 {
            break;
        }
    }
    Ok(sink)
}

/// Read the requested columns of a CSV file.
///
/// A regular file of at least `MIN_SPLIT` (1 MiB) is cut in two at a line
/// boundary and each half is streamed and parsed by its own thread (separate
/// file handles, so the kernel's copies run in parallel too); the halves are
/// concatenated in file order, so the result is the sequential one.
pub fn read_columns(path: &Path, req: &[Request]) -> Result<Table, TableError> {
    if let Ok(crate::ingest::InputFormat::Parquet) = crate::ingest::InputFormat::from_path(path) {
        return read_columns_parquet(path, req);
    }
    read_columns_sized(path, req, BLOCK, MIN_SPLIT)
}

/// The requested columns of a Parquet file, decoded column batch by batch
/// (only those columns), each cell read from the text
/// [`ParquetSource`](crate::ingest::ParquetSource) gives it, by the CSV
/// rules: trimmed, blank or `NA` missing, numbers as CSV numbers. Rows are
/// numbered from 1; no row is skipped as blank (a row of nulls is a row of
/// missing values).
fn read_columns_parquet(path: &Path, req: &[Request]) -> Result<Table, TableError> {
    use crate::error::IngestError;
    let src = crate::ingest::ParquetSource::from_path(path).map_err(|e| match e {
        IngestError::Io { source, .. } => TableError::Io(source.to_string()),
        IngestError::Empty { .. } => TableError::Empty,
        IngestError::Parquet { message, .. } => TableError::Parquet(message),
        other => TableError::Parquet(other.to_string()),
    })?;
    let header: Vec<String> = src.headers.iter().map(|h| h.trim().to_string()).collect();
    let mut idx = vec![];
    let mut names = vec![];
    for r in req {
        let f = resolve(&header, &r.name).ok_or_else(|| TableError::MissingColumn {
            name: crate::ingest::clip(&r.name),
            available: crate::ingest::clip_list(&header, 50),
        })?;
        idx.push(f);
        names.push(header[f].clone());
    }
    // integer and double columns asked for as numbers are decoded straight
    // to f64 (no text); the rest through their text
    let mut direct: Vec<Option<Vec<f64>>> = Vec::with_capacity(req.len());
    for (k, r) in req.iter().enumerate() {
        let mut d = None;
        if r.kind == ColKind::Number {
            if let Some(j) = (0..k).find(|&j| idx[j] == idx[k] && direct[j].is_some()) {
                d = direct[j].clone();
            } else {
                d = src.column_numbers(idx[k]).map_err(|e| match e {
                    IngestError::Parquet { message, .. } => TableError::Parquet(message),
                    other => TableError::Parquet(other.to_string()),
                })?;
            }
        }
        direct.push(d);
    }
    // each file column decoded once, even when requested twice
    let mut which: Vec<usize> = idx
        .iter()
        .zip(&direct)
        .filter(|(_, d)| d.is_none())
        .map(|(f, _)| *f)
        .collect();
    which.sort_unstable();
    which.dedup();
    let pos: Vec<usize> = idx
        .iter()
        .map(|f| which.iter().position(|w| w == f).unwrap_or(0))
        .collect();
    let n_hint = usize::try_from(src.num_rows()).unwrap_or(0);
    let texts: Vec<bool> = direct.iter().map(Option::is_none).collect();
    let mut out: Vec<Column> = req
        .iter()
        .zip(&mut direct)
        .map(|(r, d)| match (r.kind, d.take()) {
            (_, Some(v)) => Column::Number(v),
            (ColKind::Number, None) => Column::Number(Vec::with_capacity(n_hint)),
            (ColKind::Text, None) => Column::Text {
                codes: Vec::with_capacity(n_hint),
                levels: vec![],
            },
        })
        .collect();
    let mut maps: Vec<HashMap<String, u32>> = vec![HashMap::new(); req.len()];
    let mut n_rows = 0;
    let mut bad: Option<TableError> = None;
    let walked = src.walk_columns(&which, &mut |row, cells| {
        for (k, col) in out.iter_mut().enumerate() {
            if !texts[k] {
                continue;
            }
            let cell = cells[pos[k]].trim();
            match col {
                Column::Number(v) => match parse_number(cell.as_bytes()) {
                    Some(x) => v.push(x),
                    None => {
                        bad = Some(TableError::NotNumberInRow {
                            row: row as usize,
                            column: names[k].clone(),
                            value: crate::ingest::clip(cell),
                        });
                        // stop the walk: the first problem is reported
                        return Err(IngestError::Empty {
                            file: String::new(),
                        });
                    }
                },
                Column::Text { codes, levels } => {
                    if cell.is_empty() || cell == "NA" {
                        codes.push(MISSING);
                    } else {
                        let m = &mut maps[k];
                        let c = match m.get(cell) {
                            Some(&c) => c,
                            None => {
                                levels.push(cell.to_string());
                                let c = (levels.len() - 1) as u32;
                                m.insert(cell.to_string(), c);
                                c
                            }
                        };
                        codes.push(c);
                    }
                }
            }
        }
        n_rows += 1;
        Ok(())
    });
    if let Some(e) = bad {
        return Err(e);
    }
    walked.map_err(|e| match e {
        IngestError::Parquet { message, .. } => TableError::Parquet(message),
        other => TableError::Parquet(other.to_string()),
    })?;
    if which.is_empty() {
        n_rows = n_hint;
    }
    Ok(Table {
        columns: out,
        n_rows,
        names,
        blank_lines: Vec::new(),
        row_lines: Vec::new(),
        data_rows: true,
    })
}

/// [`read_columns`] with a given buffer size and smallest file to split
/// (tests use tiny ones to exercise block seams and the cut).
fn read_columns_sized(
    path: &Path,
    req: &[Request],
    block: usize,
    min_split: u64,
) -> Result<Table, TableError> {
    let io = |e: std::io::Error| TableError::Io(e.to_string());
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mut buf: Vec<u8> = vec![0; block];
    let mut filled = 0usize;
    let mut eof = false;
    // header: read until its newline (or the end of the file)
    let start = loop {
        let hstart = if buf[..filled].starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        if filled > hstart && memchr::memchr(b'\n', &buf[hstart..filled]).is_some() || eof {
            break hstart;
        }
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = file.read(&mut buf[filled..]).map_err(io)?;
        filled += n;
        eof = n == 0;
    };
    let hend = memchr::memchr(b'\n', &buf[start..filled]).map_or(filled, |e| start + e);
    let header_line = String::from_utf8_lossy(&buf[start..hend])
        .trim_end_matches('\r')
        .to_string();
    if header_line.trim().is_empty() {
        return Err(TableError::Empty);
    }
    let header = split_header(&header_line);
    let mut wanted: Vec<(usize, usize, ColKind)> = Vec::new();
    let mut names = Vec::new();
    for (ri, r) in req.iter().enumerate() {
        let f = resolve(&header, &r.name).ok_or_else(|| TableError::MissingColumn {
            name: crate::ingest::clip(&r.name),
            available: crate::ingest::clip_list(&header, 50),
        })?;
        wanted.push((f, ri, r.kind));
        names.push(header[f].clone());
    }
    wanted.sort_by_key(|w| (w.0, w.1));
    let max_field = wanted.iter().map(|w| w.0).max().unwrap_or(0);
    let width = header.len().max(1);

    // data: bytes data_start.. of the file; buf[..filled] holds bytes up to `read`
    let data_start = (hend + 1).min(filled);
    let read = filled as u64;
    buf.copy_within(data_start..filled, 0);
    filled -= data_start;
    let data_start = data_start as u64;
    // a large regular file is cut just after the first newline past its
    // middle; a second handle, positioned there, reads the second part
    let split = if meta.is_file() && meta.len() >= min_split && !eof {
        let mut tail = std::fs::File::open(path).map_err(io)?;
        let mid = data_start + (meta.len() - data_start) / 2;
        match find_cut(&mut tail, mid).map_err(io)? {
            Some(cut) if cut > read => Some((cut, tail)),
            _ => None,
        }
    } else {
        None
    };
    let (first, second) = match split {
        Some((cut, tail)) => std::thread::scope(|s| {
            let h = s.spawn(|| scan(tail, vec![0; block], 0, u64::MAX, &wanted, max_field, width));
            let a = scan(
                &mut file,
                buf,
                filled,
                cut - read,
                &wanted,
                max_field,
                width,
            );
            (a, Some(h.join().expect("parser thread")))
        }),
        None => {
            let left = if eof { 0 } else { u64::MAX };
            (
                scan(&mut file, buf, filled, left, &wanted, max_field, width),
                None,
            )
        }
    };
    // the first error in file order wins; lines count the header as line 1
    let fail = |e: PartError, lines_before: usize| -> Result<Table, TableError> {
        let line = 1 + lines_before + e.line + 1;
        Err(match e.kind {
            PartErrorKind::QuotedNewline => return read_columns_slow(path, req),
            PartErrorKind::Io(m) => TableError::Io(m),
            PartErrorKind::NotNumber { col, value } => TableError::NotNumber {
                line,
                column: names[col].clone(),
                value,
            },
            PartErrorKind::Ragged { found } => TableError::Ragged {
                line,
                found,
                expected: width,
            },
        })
    };
    let first = match first {
        Ok(s) => s,
        Err(e) => return fail(e, 0),
    };
    let second = match second {
        Some(Err(e)) => return fail(e, first.lines),
        Some(Ok(s)) => Some(s),
        None => None,
    };
    Ok(join_parts(first, second, req, &wanted, names))
}

/// Offset just after the first newline at or after `from` (None: no
/// newline), leaving `f` positioned there.
fn find_cut(f: &mut std::fs::File, from: u64) -> std::io::Result<Option<u64>> {
    f.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut at = from;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(p) = memchr::memchr(b'\n', &buf[..n]) {
            let cut = at + p as u64 + 1;
            f.seek(SeekFrom::Start(cut))?;
            return Ok(Some(cut));
        }
        at += n as u64;
    }
}

/// Concatenate the two parts in file order into the table.
fn join_parts(
    first: Sink,
    second: Option<Sink>,
    req: &[Request],
    wanted: &[(usize, usize, ColKind)],
    names: Vec<String>,
) -> Table {
    let n_rows = first.rows + second.as_ref().map_or(0, |s| s.rows);
    let mut blank_lines: Vec<usize> = first.blanks.iter().map(|b| b + 2).collect();
    if let Some(s) = &second {
        blank_lines.extend(s.blanks.iter().map(|b| b + first.lines + 2));
    }
    let mut out: Vec<Option<Column>> = vec![None; req.len()];
    let mut rest: Vec<Option<PartCol>> = match second {
        Some(s) => s.cols.into_iter().map(Some).collect(),
        None => (0..wanted.len()).map(|_| None).collect(),
    };
    for (slot, pc) in first.cols.into_iter().enumerate() {
        let ri = wanted[slot].1;
        let col = match (pc, rest[slot].take()) {
            (PartCol::Number(mut v), more) => {
                if let Some(PartCol::Number(b)) = more {
                    v.extend_from_slice(&b);
                }
                Column::Number(v)
            }
            (
                PartCol::Text {
                    mut codes,
                    mut levels,
                    mut map,
                },
                more,
            ) => {
                if let Some(PartCol::Text {
                    codes: bc,
                    levels: bl,
                    ..
                }) = more
                {
                    // the second part's levels, in order of first appearance
                    let remap: Vec<u32> = bl
                        .into_iter()
                        .map(|l| match map.get(&l) {
                            Some(&c) => c,
                            None => {
                                let c = levels.len() as u32;
                                levels.push(l.clone());
                                map.insert(l, c);
                                c
                            }
                        })
                        .collect();
                    codes.extend(bc.iter().map(|&c| {
                        if c == MISSING {
                            MISSING
                        } else {
                            remap[c as usize]
                        }
                    }));
                }
                Column::Text {
                    codes,
                    levels: levels
                        .into_iter()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .collect(),
                }
            }
        };
        out[ri] = Some(col);
    }
    Table {
        columns: out
            .into_iter()
            .map(|c| c.expect("every request is parsed"))
            .collect(),
        n_rows,
        names,
        blank_lines,
        row_lines: Vec::new(),
        data_rows: false,
    }
}

/// Slow, fully general path through the `csv` crate (quoted fields spanning
/// lines). The file is held in memory so that each record's true starting
/// line can be counted (the crate's own line count skips empty lines and is
/// one short after CRLF line ends).
fn read_columns_slow(path: &Path, req: &[Request]) -> Result<Table, TableError> {
    let bytes = std::fs::read(path).map_err(|e| TableError::Io(e.to_string()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..]);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| TableError::Io(e.to_string()))?
        .iter()
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let width = header.len().max(1);
    let mut idx = vec![];
    let mut names = vec![];
    for r in req {
        let f = resolve(&header, &r.name).ok_or_else(|| TableError::MissingColumn {
            name: crate::ingest::clip(&r.name),
            available: crate::ingest::clip_list(&header, 50),
        })?;
        idx.push(f);
        names.push(header[f].clone());
    }
    let mut out: Vec<Column> = req
        .iter()
        .map(|r| match r.kind {
            ColKind::Number => Column::Number(vec![]),
            ColKind::Text => Column::Text {
                codes: vec![],
                levels: vec![],
            },
        })
        .collect();
    let mut maps: Vec<HashMap<String, u32>> = vec![HashMap::new(); req.len()];
    let mut n_rows = 0;
    let mut blank_lines = Vec::new();
    let mut row_lines = Vec::new();
    let mut by_field: Vec<usize> = (0..idx.len()).collect();
    by_field.sort_by_key(|&k| (idx[k], k));
    let mut lines = crate::ingest::LineCounter::new(&bytes);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| TableError::Io(e.to_string()))?;
        let line = lines.line_at(rec.position().map_or(0, |p| p.byte())) as usize;
        // a blank line (one empty or all-space field), as the fast path sees
        // it; a line of empty fields (",,") is a row of missing values
        if rec.len() <= 1 && rec.iter().all(|c| c.trim().is_empty()) {
            blank_lines.push(line);
            continue;
        }
        // a ragged row first (as the fast path), then fields left to right,
        // so the first problem on a line is the one the fast path reports
        if rec.len() != width
            && (rec.len() < width || rec.iter().skip(width).any(|c| !c.trim().is_empty()))
        {
            return Err(TableError::Ragged {
                line,
                found: rec.len(),
                expected: width,
            });
        }
        for &k in &by_field {
            let f = idx[k];
            let cell = rec.get(f).unwrap_or("");
            let cell = cell.trim();
            match &mut out[k] {
                Column::Number(v) => {
                    v.push(
                        parse_number(cell.as_bytes()).ok_or_else(|| TableError::NotNumber {
                            line,
                            column: names[k].clone(),
                            value: crate::ingest::clip(cell),
                        })?,
                    )
                }
                Column::Text { codes, levels } => {
                    if cell.is_empty() || cell == "NA" {
                        codes.push(MISSING);
                    } else {
                        let m = &mut maps[k];
                        let c = *m.entry(cell.to_string()).or_insert_with(|| {
                            levels.push(cell.to_string());
                            (levels.len() - 1) as u32
                        });
                        codes.push(c);
                    }
                }
            }
        }
        n_rows += 1;
        row_lines.push(line);
    }
    Ok(Table {
        columns: out,
        n_rows,
        names,
        blank_lines,
        row_lines,
        data_rows: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("survstudy-table-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn req(cols: &[(&str, ColKind)]) -> Vec<Request> {
        cols.iter()
            .map(|(n, k)| Request {
                name: n.to_string(),
                kind: *k,
            })
            .collect()
    }

    #[test]
    fn quoted_newline_falls_back_to_the_general_reader() {
        let p = tmp("q.csv", "t,note,g\n1,\"two\nlines\",a\n2,plain,b\n");
        let t = read_columns(&p, &req(&[("t", ColKind::Number), ("g", ColKind::Text)])).unwrap();
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.columns[0], Column::Number(vec![1.0, 2.0]));
        // the second record starts on line 4 (the first spans lines 2-3)
        assert_eq!((t.line_of(0), t.line_of(1)), (2, 4));
    }

    #[test]
    fn comma_count_is_exact() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for len in 0..200 {
            // commas, their neighbours in value (+, -, ., 0xAC) and high bytes
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    *[b',', b'+', b'-', b'.', 0xAC, 0x2D, b'1', 0xFF, 0x00]
                        .get(rng.random_range(0..9))
                        .unwrap()
                })
                .collect();
            assert_eq!(
                count_commas(&s),
                s.iter().filter(|&&b| b == b',').count(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn ragged_rows_are_errors_on_both_paths() {
        let r = req(&[("t", ColKind::Number), ("e", ColKind::Text)]);
        for (text, line, found) in [
            ("t,e,x\n1,1,a\n2,1,b,c\n", 3, 4),
            ("t,e,x\n1,1,a\n2,1\n", 3, 2),
            // a bad number on a ragged line: the shift is reported
            ("t,e,x\n1,1,a\nz,1,b,c\n", 3, 4),
            // quoted commas are not separators; a quoted newline takes the slow path
            ("t,e,x\n1,1,\"a,b\"\n2,1,\"b\",c\n", 3, 4),
            ("t,e,x\n1,1,\"a\nb\"\n2,1,b,c\n", 4, 4),
        ] {
            let p = tmp("ragged.csv", text);
            assert_eq!(
                read_columns(&p, &r).unwrap_err(),
                TableError::Ragged {
                    line,
                    found,
                    expected: 3
                },
                "{text:?}"
            );
        }
        // blank fields past the header (a trailing comma) are accepted
        let p = tmp("trailing.csv", "t,e\n1,1,\n2,0, ,\"\"\n");
        let t = read_columns(&p, &r).unwrap();
        assert_eq!(t.n_rows, 2);
        let s = read_columns_slow(&p, &r).unwrap();
        assert_eq!(bits(&t), bits(&s));
    }

    #[test]
    fn line_numbers_account_for_blank_lines() {
        let p = tmp("blank.csv", "t,e\n1,1\n\n2,0\n  \n\n3,1\n");
        let t = read_columns(&p, &req(&[("t", ColKind::Number)])).unwrap();
        assert_eq!(t.n_rows, 3);
        assert_eq!(t.blank_lines, vec![3, 5, 6]);
        assert_eq!((t.line_of(0), t.line_of(1), t.line_of(2)), (2, 4, 7));
    }

    /// Every cell as bits (NA is NaN, which == would call unequal) or code.
    fn bits(t: &Table) -> Vec<Vec<u64>> {
        t.columns
            .iter()
            .map(|c| match c {
                Column::Number(v) => v.iter().map(|x| x.to_bits()).collect(),
                Column::Text { codes, .. } => codes.iter().map(|&c| c as u64).collect(),
            })
            .collect()
    }

    /// A random CSV: LF or CRLF per line, blank and all-space lines, rows of
    /// empty fields, missing and quoted cells, text with commas and escaped
    /// quotes, occasionally a bad number or a short line.
    fn random_csv(rng: &mut rand::rngs::StdRng, rows: usize, errors: bool) -> String {
        use rand::Rng;
        let mut s = String::from("num,\"lab\",t,x\n");
        for _ in 0..rows {
            let eol = if rng.random_bool(0.3) { "\r\n" } else { "\n" };
            match rng.random_range(0..40) {
                0 => {
                    s.push_str(eol);
                    continue;
                }
                1 => {
                    s.push_str("   ");
                    s.push_str(eol);
                    continue;
                }
                2 => {
                    s.push_str(",,,");
                    s.push_str(eol);
                    continue;
                }
                3 if errors => {
                    s.push_str("1,a");
                    s.push_str(eol);
                    continue;
                }
                _ => {}
            }
            let num = match rng.random_range(0..8) {
                0 => String::new(),
                1 => "NA".into(),
                2 => format!(" {} ", rng.random_range(-50..50)),
                3 => format!("\"{}\"", rng.random_range(0..9)),
                4 if errors && rng.random_bool(0.05) => "x1".into(),
                _ => format!("{}", rng.random::<f64>() * 100.0),
            };
            let lab = match rng.random_range(0..6) {
                0 => String::new(),
                1 => "\"b, c\"".into(),
                2 => "\"say \"\"hi\"\"\"".into(),
                _ => format!("g{}", rng.random_range(0..5)),
            };
            let t = rng.random_range(0..400);
            let x = format!("{:.3}", rng.random::<f64>());
            s.push_str(&format!("{num},{lab},{t},{x}"));
            s.push_str(eol);
        }
        if rng.random_bool(0.5) {
            // no final line end
            while s.ends_with('\n') || s.ends_with('\r') {
                s.pop();
            }
        }
        s
    }

    #[test]
    fn random_files_read_alike_at_any_block_size_and_cut() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let r = req(&[
            ("x", ColKind::Number),
            ("lab", ColKind::Text),
            ("num", ColKind::Number),
            ("t", ColKind::Number),
        ]);
        for case in 0..120 {
            let rows = rng.random_range(0..400);
            let text = random_csv(&mut rng, rows, case % 3 == 0);
            let p = tmp(&format!("rand{case}.csv"), &text);
            let slow = read_columns_slow(&p, &r);
            for (block, min_split) in [(7, 0), (64, 100), (1 << 20, 0), (1 << 20, u64::MAX)] {
                let fast = read_columns_sized(&p, &r, block, min_split);
                let tag = format!("case {case}, block {block}, split at {min_split}");
                match (&fast, &slow) {
                    (Ok(f), Ok(s)) => {
                        assert_eq!(f.n_rows, s.n_rows, "{tag}");
                        assert_eq!(bits(f), bits(s), "{tag}");
                        assert_eq!(f.columns[1], s.columns[1], "{tag}");
                        for i in 0..f.n_rows {
                            assert_eq!(f.line_of(i), s.line_of(i), "{tag}, row {i}");
                        }
                    }
                    (Err(f), Err(s)) => assert_eq!(f, s, "{tag}"),
                    _ => panic!("{tag}: {fast:?} vs {slow:?}"),
                }
            }
        }
    }

    #[test]
    fn two_threads_agree_with_the_general_reader() {
        // > MIN_SPLIT bytes, CRLF line ends, blank lines in both halves, a
        // level first seen in the second half, missing cells, no final newline
        let n = 120_000;
        let mut text = String::from("\u{feff}id,time,grp,x\r\n");
        for i in 0..n {
            if i % 25_000 == 7 {
                text.push_str("\r\n  \r\n");
            }
            let grp = if i > 100_000 && i % 3 == 0 {
                "late".to_string()
            } else {
                format!("g{}", i % 5)
            };
            let x = if i % 1000 == 3 {
                "NA".to_string()
            } else {
                format!("{}", (i as f64) * 0.001 - 7.25)
            };
            text.push_str(&format!("{i},{}.25,{grp},{x}\r\n", i % 365));
        }
        text.pop();
        text.pop();
        assert!(text.len() as u64 > 2 * MIN_SPLIT);
        let p = tmp("two.csv", &text);
        let r = req(&[
            ("grp", ColKind::Text),
            ("time", ColKind::Number),
            ("x", ColKind::Number),
        ]);
        let fast = read_columns(&p, &r).unwrap();
        let slow = read_columns_slow(&p, &r).unwrap();
        assert_eq!(fast.n_rows, n);
        // bit for bit (NA is NaN, which == would call unequal)
        assert_eq!(bits(&fast), bits(&slow));
        assert!(matches!(&fast.columns[2], Column::Number(x) if x[3].is_nan()));
        assert_eq!(fast.columns[0], slow.columns[0]);
        // the pair of blank lines before row i = 25000k + 7 (the csv crate
        // skips empty lines without recording them, so compare line numbers)
        let want: Vec<usize> = (0..5)
            .flat_map(|k| {
                let before = 1 + 25_000 * k + 7 + 2 * k;
                [before + 1, before + 2]
            })
            .collect();
        assert_eq!(fast.blank_lines, want);
        for i in [0, 1, 7, 8, 60_000, 100_002, n - 1] {
            assert_eq!(fast.line_of(i), slow.line_of(i), "row {i}");
        }
        let Column::Text { levels, .. } = &fast.columns[0] else {
            panic!()
        };
        assert_eq!(levels.last().map(String::as_str), Some("late"));
        // a bad cell in the second half: the true line, counting blank lines
        let bad = text.replacen("\r\n110000,", "\r\noops,", 1);
        let p = tmp("two-bad.csv", &bad);
        match read_columns(&p, &req(&[("id", ColKind::Number)])) {
            Err(TableError::NotNumber { line, value, .. }) => {
                assert_eq!(value, "oops");
                // header + 110000 rows before + 5 pairs of blank lines
                assert_eq!(line, 1 + 110_000 + 10 + 1);
            }
            other => panic!("{other:?}"),
        }
        // a quoted newline in the second half: the general reader takes over
        let quoted = text.replacen("\r\n110000,", "\r\n\"110\n000\",", 1);
        let p = tmp("two-quoted.csv", &quoted);
        let t = read_columns(&p, &req(&[("time", ColKind::Number)])).unwrap();
        assert_eq!(t.n_rows, n);
        assert!(!t.row_lines.is_empty());
        // its line numbers are true ones too (CRLF, empty lines, BOM)
        assert_eq!(t.line_of(0), 2);
        assert_eq!(t.line_of(8), fast.line_of(8));
        assert_eq!(t.line_of(110_001), fast.line_of(110_001) + 1);
    }

    #[test]
    fn many_blocks_give_the_same_columns_as_a_sequential_parse() {
        // > 2 blocks of 8 MiB, so halves and block seams are exercised
        let mut text = String::from("id,time,grp,x\n");
        let n = 700_000;
        for i in 0..n {
            text.push_str(&format!(
                "{i},{}.5,g{},{}\n",
                i % 977,
                i % 7,
                (i as f64).sqrt() * 1e-3 + 0.123456789012345
            ));
        }
        assert!(text.len() > 2 * BLOCK);
        let p = tmp("big.csv", &text);
        let t = read_columns(
            &p,
            &req(&[
                ("x", ColKind::Number),
                ("time", ColKind::Number),
                ("grp", ColKind::Text),
            ]),
        )
        .unwrap();
        assert_eq!(t.n_rows, n);
        let Column::Number(x) = &t.columns[0] else {
            panic!()
        };
        let Column::Number(time) = &t.columns[1] else {
            panic!()
        };
        let Column::Text { codes, levels } = &t.columns[2] else {
            panic!()
        };
        for i in [0usize, 1, 12345, 199_999, 200_000, n - 1] {
            assert_eq!(
                x[i],
                (i as f64).sqrt() * 1e-3 + 0.123456789012345,
                "row {i}"
            );
            assert_eq!(time[i], (i % 977) as f64 + 0.5);
            assert_eq!(levels[codes[i] as usize], format!("g{}", i % 7));
        }
        // a bad cell deep in the file is reported with its line number
        let mut bad = text.clone();
        let pos = bad.find("\n300000,").unwrap() + 1;
        bad.replace_range(pos..pos + 6, "oops00");
        let p = tmp("bad.csv", &bad);
        match read_columns(&p, &req(&[("id", ColKind::Number)])) {
            Err(TableError::NotNumber { line, value, .. }) => {
                assert_eq!(line, 300_002);
                assert_eq!(value, "oops00");
            }
            other => panic!("{other:?}"),
        }
    }
}
