//! Reading the chart-review export: CSV/TSV (UTF-8, with or without BOM,
//! LF or CRLF) and Excel/ODS workbooks (via calamine) into a [`RawTable`]
//! of text cells with their file line numbers; Parquet files through
//! [`ParquetSource`] (rows numbered from 1, see [`location_word`]).
//!
//! Excel date cells become ISO `YYYY-MM-DD` text (with ` HH:MM:SS` when the
//! cell carries a time of day), integral numbers are written without a
//! trailing `.0`, booleans as `true`/`false`. Typing and validation happen
//! later, in [`crate::derive`], driven by the study plan.
//!
//! Rows whose cells are all blank are skipped, and their lines are listed
//! in [`RawTable::blank_lines`] so that nothing disappears silently.

mod parquet;
mod source;
mod values;
pub(crate) use values::trim_cell;

pub use parquet::{ParquetSource, RowSink};
pub use source::{Delimited, Input, Walk};
pub use values::{
    parse_date, parse_number, parse_partial_date, parse_yes_no, DateFormat, PartialDate,
    ValueError, ISO_DATE_FORMAT,
};

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use serde::Serialize;

use crate::error::IngestError;

/// Longest quoted value shown in a message, in characters.
pub const CLIP_CHARS: usize = 80;

/// A cell, header or other user value as quoted in a message: at most
/// [`CLIP_CHARS`] characters, then `…` and the full length; control
/// characters (newlines, NUL, …) escaped so a message stays on one line.
/// Every error or problem that quotes user data goes through this, so a
/// 3 MB cell yields a short message, not megabytes on stderr.
pub fn clip(value: &str) -> String {
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        if n == CLIP_CHARS {
            let total = value.chars().count();
            out.push_str(&format!("… ({total} characters)"));
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A list of names (headers, sheets, levels) as shown in a message: each
/// [`clip`]ped, at most `max` of them, then how many more.
pub fn clip_list<S: AsRef<str>>(names: &[S], max: usize) -> String {
    let mut parts: Vec<String> = names.iter().take(max).map(|n| clip(n.as_ref())).collect();
    if names.len() > max {
        parts.push(format!("… and {} more", names.len() - max));
    }
    parts.join(", ")
}

/// A table of text cells as read from the input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawTable {
    /// The input file as given by the user (used in every message).
    pub file: String,
    /// Sheet name for workbooks; `None` for CSV.
    pub sheet: Option<String>,
    /// Every sheet of the workbook, in workbook order (empty for CSV); used
    /// in messages to point at the other sheets.
    pub sheets: Vec<String>,
    /// Header cells as written (untrimmed). Header = line 1 for CSV; for a
    /// workbook, the first row of the sheet's used range.
    pub headers: Vec<String>,
    /// Line number of the header row (1 for CSV).
    pub header_line: u64,
    /// Data rows, in file order; each has exactly `headers.len()` cells.
    pub rows: Vec<RawRow>,
    /// Lines of rows that were entirely blank and were skipped.
    pub blank_lines: Vec<u64>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawRow {
    /// Line in the file (CSV: the line the record starts on; workbook: the
    /// sheet row number), header = line 1.
    pub line: u64,
    /// Cells, one per header column (short rows are padded with "").
    pub cells: Vec<String>,
}

impl RawTable {
    /// Normalised form used to match column names: trimmed, lowercase.
    pub fn normalise_name(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Indices of every header that matches `name` after trimming and
    /// lowercasing both sides.
    pub fn find_columns(&self, name: &str) -> Vec<usize> {
        let want = Self::normalise_name(name);
        self.headers
            .iter()
            .enumerate()
            .filter(|(_, h)| Self::normalise_name(h) == want)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Which reader a file goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Comma-separated text.
    Csv,
    /// Tab-separated text.
    Tsv,
    /// Excel / OpenDocument workbook.
    Workbook,
    /// Apache Parquet (`.parquet`, `.parq`, `.pq`).
    Parquet,
}

/// How a place in the input is named in messages: `line` for text files
/// and workbooks (header = line 1), `row` for Parquet files (the first data
/// row is row 1). Decided by the file's extension, as its format is.
pub fn location_word(file: &str) -> &'static str {
    match InputFormat::from_path(Path::new(file)) {
        Ok(InputFormat::Parquet) => "row",
        _ => "line",
    }
}

impl InputFormat {
    /// Format from the file extension (case-insensitive).
    pub fn from_path(path: &Path) -> Result<Self, IngestError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" => Ok(InputFormat::Csv),
            "tsv" | "tab" => Ok(InputFormat::Tsv),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Ok(InputFormat::Workbook),
            "parquet" | "parq" | "pq" => Ok(InputFormat::Parquet),
            _ => Err(IngestError::UnsupportedFormat {
                file: path.display().to_string(),
                extension: ext,
            }),
        }
    }
}

/// Read a CSV/TSV file, a workbook sheet (the first sheet unless `sheet`
/// is given; `sheet` is ignored for other files) or a Parquet file (cells
/// as [`ParquetSource`] gives them, lines = row numbers, header line 0)
/// into a table of text. For small inputs (`plan --init`); `run` streams.
pub fn read_table(path: &Path, sheet: Option<&str>) -> Result<RawTable, IngestError> {
    let file = path.display().to_string();
    match InputFormat::from_path(path)? {
        InputFormat::Csv | InputFormat::Tsv => {
            let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
                file: file.clone(),
                source,
            })?;
            let delimiter = if InputFormat::from_path(path)? == InputFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            parse_delimited(&file, &bytes, delimiter)
        }
        InputFormat::Workbook => read_workbook(path, sheet),
        InputFormat::Parquet => {
            let src = ParquetSource::from_path(path)?;
            let mut rows = Vec::new();
            let walk = src.for_each_row(&mut |line, cells| {
                rows.push(RawRow {
                    line,
                    cells: cells.iter().map(|c| c.to_string()).collect(),
                })
            })?;
            Ok(RawTable {
                file,
                sheet: None,
                sheets: Vec::new(),
                headers: src.headers.clone(),
                header_line: 0,
                rows,
                blank_lines: walk.blank_lines,
            })
        }
    }
}

/// Parse CSV text (comma-delimited) held in memory. `file` names it in
/// messages.
pub fn parse_csv(file: &str, bytes: &[u8]) -> Result<RawTable, IngestError> {
    parse_delimited(file, bytes, b',')
}

fn parse_delimited(file: &str, bytes: &[u8], delimiter: u8) -> Result<RawTable, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut blank_lines = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(bytes);
    loop {
        let before = reader.position().byte();
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| IngestError::Csv {
                file: file.to_string(),
                line: lines.line_at(e.position().map(|p| p.byte()).unwrap_or(before)),
                message: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = lines.line_at(record.position().map(|p| p.byte()).unwrap_or(before));
        let mut cells = Vec::with_capacity(record.len());
        for field in record.iter() {
            let text = std::str::from_utf8(field).map_err(|_| IngestError::NotUtf8 {
                file: file.to_string(),
                line,
            })?;
            cells.push(text.to_string());
        }
        match &headers {
            None => headers = Some(cells),
            Some(h) => push_row(file, h.len(), line, cells, &mut rows, &mut blank_lines)?,
        }
    }
    let headers = headers.ok_or_else(|| IngestError::Empty {
        file: file.to_string(),
    })?;
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(IngestError::Empty {
            file: file.to_string(),
        });
    }
    Ok(RawTable {
        file: file.to_string(),
        sheet: None,
        sheets: Vec::new(),
        headers,
        header_line: 1,
        rows,
        blank_lines,
    })
}

/// Maps byte offsets of record starts to 1-based line numbers. The csv
/// crate's own line counter lags by one after CRLF terminators, so lines are
/// counted here: a record starts at the first byte after its offset that is
/// not a line terminator (csv skips empty lines and leftover `\n`).
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self::starting_at(bytes, 1)
    }

    /// A counter over `bytes` whose first byte is on line `line`.
    pub(crate) fn starting_at(bytes: &'a [u8], line: u64) -> Self {
        LineCounter {
            bytes,
            pos: 0,
            line,
        }
    }

    /// Line of the record starting at or after `offset` (offsets must not
    /// decrease between calls).
    pub(crate) fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.pos {
            self.line += memchr::memchr_iter(b'\n', &self.bytes[self.pos..start]).count() as u64;
            self.pos = start;
        }
        self.line
    }
}

/// Normalise a row to the header width; skip (and record) blank rows.
fn push_row(
    file: &str,
    width: usize,
    line: u64,
    mut cells: Vec<String>,
    rows: &mut Vec<RawRow>,
    blank_lines: &mut Vec<u64>,
) -> Result<(), IngestError> {
    if let source::Shape::Blank = source::row_shape(file, width, line, &cells)? {
        blank_lines.push(line);
        return Ok(());
    }
    // data beyond the header was refused above: the rest is empty
    cells.truncate(width);
    cells.resize(width, String::new());
    rows.push(RawRow { line, cells });
    Ok(())
}

fn read_workbook(path: &Path, sheet: Option<&str>) -> Result<RawTable, IngestError> {
    let file = path.display().to_string();
    let excel_err = |message: String| IngestError::Excel {
        file: file.clone(),
        message,
    };
    let mut workbook = open_workbook_auto(path).map_err(|e| excel_err(e.to_string()))?;
    let names = workbook.sheet_names();
    let chosen = match sheet {
        None => names
            .first()
            .cloned()
            .ok_or_else(|| IngestError::Empty { file: file.clone() })?,
        Some(want) => names
            .iter()
            .find(|n| n.as_str() == want)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(want.trim()))
            })
            .cloned()
            .ok_or_else(|| IngestError::SheetNotFound {
                file: file.clone(),
                sheet: want.to_string(),
                available: clip_list(&names, 50),
            })?,
    };
    let cells = sheet_cells(&mut workbook, &chosen).map_err(|e| {
        let others: Vec<String> = names.iter().filter(|n| **n != chosen).cloned().collect();
        excel_err(format!(
            "sheet '{chosen}': {e} (other sheets: {}; choose one with --sheet)",
            if others.is_empty() {
                "none".to_string()
            } else {
                clip_list(&others, 50)
            }
        ))
    })?;
    if cells.is_empty() {
        return Err(IngestError::Empty { file });
    }
    // the used range, as calamine's: bounding box of the non-empty cells
    let col_start = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let col_end = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let width = (col_end - col_start) as usize + 1;
    // rows that have cells, in order; only these are materialised
    let mut row_ids: Vec<u32> = cells.iter().map(|c| c.0).collect();
    row_ids.dedup();
    if width.saturating_mul(row_ids.len()) > MAX_SHEET_CELLS {
        let far = cells
            .iter()
            .max_by_key(|c| (c.1, c.0))
            .map(|c| (c.0, c.1, cell_text(&c.2)))
            .unwrap_or_default();
        return Err(excel_err(format!(
            "sheet '{chosen}': {} rows with cells × {width} columns is more than {MAX_SHEET_CELLS} cells; the table reaches column {} because of cell {} ('{}') — delete stray cells outside the table",
            row_ids.len(),
            column_letters(far.1),
            cell_name(far.0, far.1),
            clip(&far.2)
        )));
    }
    let mut rows = Vec::new();
    let mut blank_lines = Vec::new();
    let mut headers: Option<Vec<String>> = None;
    let mut header_line = 0;
    let mut last_row: Option<u32> = None;
    let mut k = 0;
    while k < cells.len() {
        let r = cells[k].0;
        let mut texts = vec![String::new(); width];
        while k < cells.len() && cells[k].0 == r {
            texts[(cells[k].1 - col_start) as usize] = cell_text(&cells[k].2);
            k += 1;
        }
        let line = u64::from(r) + 1;
        match &headers {
            // the header is the first row with a non-blank cell
            None => {
                if texts.iter().any(|c| !c.trim().is_empty()) {
                    headers = Some(texts);
                    header_line = line;
                }
            }
            Some(h) => {
                // rows without any cell between the previous row and this one
                if let Some(prev) = last_row {
                    blank_lines.extend((u64::from(prev) + 2)..line);
                }
                push_row(&file, h.len(), line, texts, &mut rows, &mut blank_lines)?;
            }
        }
        if headers.is_some() {
            last_row = Some(r);
        }
    }
    let Some(headers) = headers else {
        return Err(IngestError::Empty { file });
    };
    Ok(RawTable {
        file,
        sheet: Some(chosen),
        sheets: names.clone(),
        headers,
        header_line,
        rows,
        blank_lines,
    })
}

/// Most cells (rows with data × used columns) a sheet may spread over: a
/// stray value far right (e.g. in column XFD) would otherwise widen every
/// row to 16,384 cells.
pub const MAX_SHEET_CELLS: usize = 5_000_000;

/// The non-empty cells of a sheet as (row, column, value), sorted by row
/// then column. Excel workbooks (xlsx, xlsb) are read cell by cell, so
/// memory is proportional to the cells present, whatever the used range
/// (one value in XFD1048576 is one cell, not 17 billion); xls and ods go
/// through calamine's range reader.
fn sheet_cells(
    workbook: &mut calamine::Sheets<std::io::BufReader<std::fs::File>>,
    name: &str,
) -> Result<Vec<(u32, u32, Data)>, String> {
    let mut cells: Vec<(u32, u32, Data)> = Vec::new();
    let mut keep = |pos: (u32, u32), v: Data| {
        if !matches!(v, Data::Empty) {
            cells.push((pos.0, pos.1, v));
        }
    };
    match workbook {
        calamine::Sheets::Xlsx(x) => {
            let mut rdr = x.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
            while let Some(c) = rdr.next_cell().map_err(|e| e.to_string())? {
                keep(c.get_position(), c.get_value().clone().into());
            }
        }
        calamine::Sheets::Xlsb(x) => {
            let mut rdr = x.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
            while let Some(c) = rdr.next_cell().map_err(|e| e.to_string())? {
                keep(c.get_position(), c.get_value().clone().into());
            }
        }
        other => {
            let range = other.worksheet_range(name).map_err(|e| e.to_string())?;
            for (r, c, v) in range.used_cells() {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                keep((r0 + r as u32, c0 + c as u32), v.clone());
            }
        }
    }
    cells.sort_by_key(|c| (c.0, c.1));
    Ok(cells)
}

/// Excel column letters of a 0-based column (0 = A, 16383 = XFD).
fn column_letters(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut s = Vec::new();
    while n > 0 {
        let d = ((n - 1) % 26) as u8;
        s.push(b'A' + d);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Excel name of a 0-based (row, column) cell, e.g. (0, 0) = A1.
fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_letters(col), u64::from(row) + 1)
}

/// Text form of a workbook cell.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, _ms) = dt.to_ymd_hms_milli();
            if hh == 0 && mm == 0 && ss == 0 {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::DateTime(dt) => format_number(dt.as_f64()),
        Data::DateTimeIso(s) => s
            .strip_suffix("T00:00:00")
            .map(str::to_string)
            .unwrap_or_else(|| s.clone()),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Numbers as text: integral values without a trailing `.0`, others in the
/// shortest form that reads back to the same value.
pub fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_bom_crlf_quoted_multiline_and_blank_rows() {
        let text = "\u{feff}Id,Note\r\n1,\"a\r\nb\"\r\n,\r\n2,x,\r\n";
        let t = parse_csv("t.csv", text.as_bytes()).unwrap();
        assert_eq!(t.headers, vec!["Id", "Note"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[0].cells[1], "a\r\nb");
        assert_eq!(t.rows[1].line, 5);
        assert_eq!(t.rows[1].cells, vec!["2", "x"]);
        assert_eq!(t.blank_lines, vec![4]);
    }

    #[test]
    fn csv_ragged_row_with_data_is_an_error() {
        let err = parse_csv("t.csv", b"a,b\n1,2,3\n").unwrap_err();
        match err {
            IngestError::RaggedRow {
                line,
                column,
                value,
                ..
            } => {
                assert_eq!((line, column, value.as_str()), (2, 3, "3"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn csv_short_row_is_padded() {
        let t = parse_csv("t.csv", b"a,b,c\n1\n").unwrap();
        assert_eq!(t.rows[0].cells, vec!["1", "", ""]);
    }

    #[test]
    fn empty_csv_is_an_error() {
        assert!(matches!(
            parse_csv("t.csv", b""),
            Err(IngestError::Empty { .. })
        ));
        assert!(matches!(
            parse_csv("t.csv", b"\xEF\xBB\xBF"),
            Err(IngestError::Empty { .. })
        ));
    }

    #[test]
    fn non_utf8_reports_line() {
        let err = parse_csv("t.csv", b"a\nok\n\xff\n").unwrap_err();
        assert!(
            matches!(err, IngestError::NotUtf8 { line: 3, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn numbers_format_without_trailing_zero() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-2.0), "-2");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(61.5), "61.5");
    }

    #[test]
    fn workbook_cells_to_text() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let d = Data::DateTime(ExcelDateTime::new(
            44197.0,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&d), "2021-01-01");
        let d = Data::DateTime(ExcelDateTime::new(
            44197.5,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&d), "2021-01-01 12:00:00");
        assert_eq!(cell_text(&Data::Float(1.0)), "1");
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2021-02-03T00:00:00".into())),
            "2021-02-03"
        );
    }

    #[test]
    fn excel_cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn clipped_values() {
        assert_eq!(clip("abc"), "abc");
        assert_eq!(clip("a\nb"), "a\\nb");
        let long = "é".repeat(3_000_000);
        let c = clip(&long);
        assert!(c.starts_with(&"é".repeat(80)));
        assert!(
            c.ends_with("… (3000000 characters)"),
            "{}",
            &c[c.len() - 40..]
        );
        assert_eq!(clip_list(&["a", "b", "c"], 2), "a, b, … and 1 more");
    }

    #[test]
    fn unsupported_extension() {
        assert!(matches!(
            read_table(Path::new("x.pdf"), None),
            Err(IngestError::UnsupportedFormat { .. })
        ));
    }
}
