//! Row sources that validation streams over without holding a table of
//! strings: a delimited text file parsed record by record from its bytes
//! ([`Delimited`]), or an already read [`RawTable`] (workbooks, tests).
//!
//! A source can be walked more than once ([`Input::for_each_row`]): the
//! first walk types every cell into columns; a later walk, only when a
//! problem message needs a cell's text as written, fetches those cells
//! again instead of keeping every cell as text.

use super::{clip, LineCounter, ParquetSource, RawTable};
use crate::error::IngestError;

/// A delimited text file (CSV/TSV) held as bytes; rows are parsed on each
/// walk. The header record is parsed once, on construction.
#[derive(Debug, Clone)]
pub struct Delimited<'a> {
    /// The file as named in messages.
    pub file: String,
    bytes: &'a [u8],
    delimiter: u8,
    /// Header cells as written (untrimmed).
    pub headers: Vec<String>,
    /// Whether `bytes` starts with the header record (false for the later
    /// part of a split file).
    with_header: bool,
    /// Line number of the first byte of `bytes` in the file.
    first_line: u64,
}

/// What one full walk over the rows found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Data rows (blank rows not counted).
    pub rows: usize,
    /// Lines of blank rows, skipped.
    pub blank_lines: Vec<u64>,
}

impl<'a> Delimited<'a> {
    /// The header of `bytes` (BOM stripped); errors as [`super::parse_csv`]
    /// gives them for the header line (an unreadable record, not UTF-8, no
    /// record at all).
    pub fn new(file: &str, bytes: &'a [u8], delimiter: u8) -> Result<Self, IngestError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut d = Delimited {
            file: file.to_string(),
            bytes,
            delimiter,
            headers: Vec::new(),
            with_header: true,
            first_line: 1,
        };
        let mut headers = None;
        d.walk(&mut |_, cells: &[&str]| {
            headers = Some(cells.iter().map(|c| c.to_string()).collect::<Vec<_>>());
            false
        })?;
        d.headers = headers.ok_or_else(|| IngestError::Empty {
            file: file.to_string(),
        })?;
        Ok(d)
    }

    /// Every record (the header first), as (line, cells), until `f` returns
    /// false. Cells are not padded.
    fn walk(&self, f: &mut dyn FnMut(u64, &[&str]) -> bool) -> Result<(), IngestError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(self.bytes);
        let mut record = csv::ByteRecord::new();
        let mut lines = LineCounter::starting_at(self.bytes, self.first_line);
        // one cell vector for every record (emptied, its allocation reused)
        let mut spare: Vec<&str> = Vec::new();
        loop {
            let before = reader.position().byte();
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| IngestError::Csv {
                    file: self.file.clone(),
                    line: lines.line_at(e.position().map(|p| p.byte()).unwrap_or(before)),
                    message: e.to_string(),
                })?;
            if !more {
                return Ok(());
            }
            let line = lines.line_at(record.position().map(|p| p.byte()).unwrap_or(before));
            // the record's bytes checked as UTF-8 once, each cell a slice
            // of that text starting and ending on a character (so each is
            // valid text on its own, as a check per cell would find)
            let not_utf8 = || IngestError::NotUtf8 {
                file: self.file.clone(),
                line,
            };
            let text = std::str::from_utf8(record.as_slice()).map_err(|_| not_utf8())?;
            let mut cells = recycle(std::mem::take(&mut spare));
            for i in 0..record.len() {
                let range = record.range(i).unwrap_or_default();
                if !(text.is_char_boundary(range.start) && text.is_char_boundary(range.end)) {
                    return Err(not_utf8());
                }
                cells.push(&text[range]);
            }
            if !f(line, &cells) {
                return Ok(());
            }
            spare = recycle(cells);
        }
    }

    /// The file cut into two parts at a line break near its middle, for
    /// walking the parts on two cores: the first part holds the header and
    /// the rows before the cut, the second the rest, numbered by their lines
    /// in the whole file. Walking the two parts one after the other gives
    /// the rows, lines, blank lines and errors of one walk of the whole.
    ///
    /// `None` when the file is smaller than `min_bytes` or has a quote
    /// character anywhere (a quoted field may span lines, so a line break
    /// is not known to end a record without parsing from the start).
    pub fn halves(&self, min_bytes: usize) -> Option<[Delimited<'a>; 2]> {
        if self.bytes.len() < min_bytes.max(2) || memchr::memchr(b'"', self.bytes).is_some() {
            return None;
        }
        let mid = self.bytes.len() / 2;
        let cut = mid + memchr::memchr(b'\n', &self.bytes[mid..])? + 1;
        let (a, b) = self.bytes.split_at(cut);
        let lines_a = memchr::memchr_iter(b'\n', a).count() as u64;
        Some([
            Delimited {
                bytes: a,
                ..self.clone()
            },
            Delimited {
                bytes: b,
                with_header: false,
                first_line: self.first_line + lines_a,
                ..self.clone()
            },
        ])
    }

    /// Every data row as (line, cells padded to the header width); blank
    /// rows are skipped and counted, a row with data beyond the header is
    /// an error.
    pub fn for_each_row(&self, f: &mut dyn FnMut(u64, &[&str])) -> Result<Walk, IngestError> {
        let width = self.headers.len();
        let mut first = self.with_header;
        let mut walk = Walk::default();
        let mut err = None;
        self.walk(&mut |line, cells| {
            if std::mem::take(&mut first) {
                return true;
            }
            match row_shape(&self.file, width, line, cells) {
                Ok(Shape::Blank) => walk.blank_lines.push(line),
                Ok(Shape::Row) => {
                    walk.rows += 1;
                    if cells.len() >= width {
                        f(line, &cells[..width]);
                    } else {
                        let mut padded = cells.to_vec();
                        padded.resize(width, "");
                        f(line, &padded);
                    }
                }
                Err(e) => {
                    err = Some(e);
                    return false;
                }
            }
            true
        })?;
        match err {
            Some(e) => Err(e),
            None => Ok(walk),
        }
    }
}

pub(crate) enum Shape {
    Blank,
    Row,
}

/// Whether a record is blank, a row, or has data beyond the header.
pub(crate) fn row_shape<S: AsRef<str>>(
    file: &str,
    width: usize,
    line: u64,
    cells: &[S],
) -> Result<Shape, IngestError> {
    if cells.iter().all(|c| c.as_ref().trim().is_empty()) {
        return Ok(Shape::Blank);
    }
    if cells.len() > width {
        if let Some(pos) = cells[width..]
            .iter()
            .position(|c| !c.as_ref().trim().is_empty())
        {
            return Err(IngestError::RaggedRow {
                file: file.to_string(),
                line,
                expected: width,
                found: cells.len(),
                column: width + pos + 1,
                value: clip(cells[width + pos].as_ref()),
            });
        }
    }
    Ok(Shape::Row)
}

/// The input of validation: a streamed delimited file or a read table.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// A table already in memory (workbook sheets, tests).
    Table(&'a RawTable),
    /// A CSV/TSV parsed on each walk.
    Delimited(Delimited<'a>),
    /// A Parquet file decoded on each walk (rows numbered from 1).
    Parquet(ParquetSource),
}

impl Input<'_> {
    /// The file as named in messages.
    pub fn file(&self) -> &str {
        match self {
            Input::Table(t) => &t.file,
            Input::Delimited(d) => &d.file,
            Input::Parquet(p) => &p.file,
        }
    }
    /// Header cells as written (Parquet: the column names).
    pub fn headers(&self) -> &[String] {
        match self {
            Input::Table(t) => &t.headers,
            Input::Delimited(d) => &d.headers,
            Input::Parquet(p) => &p.headers,
        }
    }
    /// Line of the header (0 for Parquet, which has none).
    pub fn header_line(&self) -> u64 {
        match self {
            Input::Table(t) => t.header_line,
            Input::Delimited(_) => 1,
            Input::Parquet(_) => 0,
        }
    }
    /// Line of the header as a problem's location: `None` for Parquet
    /// (a column problem there is about the schema, not a row).
    pub fn header_location(&self) -> Option<u64> {
        match self {
            Input::Parquet(_) => None,
            _ => Some(self.header_line()),
        }
    }
    /// Sheet name (workbooks).
    pub fn sheet(&self) -> Option<&str> {
        match self {
            Input::Table(t) => t.sheet.as_deref(),
            _ => None,
        }
    }
    /// Every sheet of the workbook (empty for other files).
    pub fn sheets(&self) -> &[String] {
        match self {
            Input::Table(t) => &t.sheets,
            _ => &[],
        }
    }
    /// Indices of every header matching `name` (trimmed, lowercase).
    pub fn find_columns(&self, name: &str) -> Vec<usize> {
        let want = RawTable::normalise_name(name);
        self.headers()
            .iter()
            .enumerate()
            .filter(|(_, h)| RawTable::normalise_name(h) == want)
            .map(|(i, _)| i)
            .collect()
    }

    /// A delimited file cut in two for walking on two cores
    /// ([`Delimited::halves`]); `None` for other inputs.
    pub fn halves(&self, min_bytes: usize) -> Option<[Input<'_>; 2]> {
        match self {
            Input::Delimited(d) => d.halves(min_bytes).map(|h| h.map(Input::Delimited)),
            _ => None,
        }
    }

    /// Every data row, in file order, as (line, cells — one per header).
    pub fn for_each_row(&self, f: &mut dyn FnMut(u64, &[&str])) -> Result<Walk, IngestError> {
        match self {
            Input::Table(t) => {
                let mut cells: Vec<&str> = Vec::with_capacity(t.headers.len());
                for r in &t.rows {
                    cells.clear();
                    cells.extend(r.cells.iter().map(String::as_str));
                    f(r.line, &cells);
                }
                Ok(Walk {
                    rows: t.rows.len(),
                    blank_lines: t.blank_lines.clone(),
                })
            }
            Input::Delimited(d) => {
                let w = d.for_each_row(f)?;
                if d.headers.iter().all(|h| h.trim().is_empty()) {
                    return Err(IngestError::Empty {
                        file: d.file.clone(),
                    });
                }
                Ok(w)
            }
            Input::Parquet(p) => p.for_each_row(f),
        }
    }
}

/// An empty vector with `v`'s allocation, for borrows of another lifetime
/// (no element survives, so none outlives its borrow; the in-place collect
/// keeps the buffer, as element size and alignment are the same).
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, IngestError> {
        let d = Delimited::new("t.csv", bytes, b',')?;
        let mut out = vec![];
        d.for_each_row(&mut |line, cells| {
            out.push((line, cells.iter().map(|c| c.to_string()).collect()));
        })?;
        Ok(out)
    }

    /// Cells are the record's text cut at its fields, checked as UTF-8 once
    /// per record: multi-byte text and quoted fields come through as they
    /// are; a record that is not UTF-8, or whose bytes are UTF-8 only once
    /// its fields are joined (a character split by a comma), is refused
    /// with its line.
    #[test]
    fn cells_are_checked_as_utf8_per_record() {
        let got = rows("id,name\n1,Zoë\n2,\"a, «b»\"\n3,\n".as_bytes()).unwrap();
        let want = [(2, ["1", "Zoë"]), (3, ["2", "a, «b»"]), (4, ["3", ""])];
        assert_eq!(got.len(), want.len());
        for ((l, c), (wl, wc)) in got.iter().zip(want) {
            assert_eq!((*l, c.as_slice()), (wl, &wc.map(String::from)[..]));
        }
        for (bytes, line) in [
            (&b"id,name\n1,ok\n2,\xff\n"[..], 3),
            (&b"id,name\n1,ok\n\xc3,\xa9\n"[..], 3),
            (&b"id,name\n\xc3\xa9\xc3,\xa9x\n"[..], 2),
        ] {
            match rows(bytes) {
                Err(IngestError::NotUtf8 { line: l, .. }) => assert_eq!(l, line),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    /// The recycled cell vector keeps its allocation and holds nothing.
    #[test]
    fn recycled_vectors_are_empty_and_keep_their_buffer() {
        let text = String::from("a b c");
        let v: Vec<&str> = text.split(' ').collect();
        let cap = v.capacity();
        let w: Vec<&'static str> = recycle(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), cap);
    }
}
