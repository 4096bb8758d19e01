//! Fast column reader for the ad-hoc commands (`km`, `logrank`, `cox`).
//!
//! Reads only the requested columns of a CSV file, streaming it in blocks so
//! peak memory is the parsed columns plus two blocks, and splitting each block
//! at a line boundary between the two cores. Results are identical to a
//! sequential read: halves are parsed independently and concatenated in order.
//!
//! Cells: surrounding spaces are trimmed; blank or `NA` is missing; a quoted
//! cell (`"…"`, with `""` escapes) is unquoted. Files with a quoted field that
//! spans lines fall back to the `csv` crate (slower, same result). A UTF-8
//! BOM and CRLF line ends are accepted. Column names match exactly, or else
//! after trimming, case-insensitively.

use std::collections::HashMap;
use std::io::Read;
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
    Number(Vec<f64>),
    Text {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Number(v) => v.len(),
            Column::Text { codes, .. } => codes.len(),
        }
    }
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
    Io(String),
    #[error("the file is empty (no header line)")]
    Empty,
    #[error("column '{name}' not found (columns: {available})")]
    MissingColumn { name: String, available: String },
    #[error("line {line}, column '{column}': '{value}' is not a number")]
    NotNumber {
        line: usize,
        column: String,
        value: String,
    },
    #[error("line {line}: {found} fields, but column '{column}' is field {needed}")]
    ShortLine {
        line: usize,
        found: usize,
        needed: usize,
        column: String,
    },
}

/// A request: column name and kind.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub kind: ColKind,
}

/// The columns read, in request order, and the line number of each row.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub n_rows: usize,
    /// Resolved header names of the requested columns.
    pub names: Vec<String>,
    /// Line numbers of skipped blank lines, ascending.
    pub blank_lines: Vec<usize>,
    /// Line of every row, when rows can span lines (quoted newlines); empty
    /// otherwise.
    pub row_lines: Vec<usize>,
}

impl Table {
    /// Line number in the file (header = 1) of data row `row`, accounting
    /// for skipped blank lines.
    pub fn line_of(&self, row: usize) -> usize {
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

const BLOCK: usize = 8 << 20;

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

struct Part {
    cols: Vec<PartCol>,
    rows: usize,
    /// Byte offsets (in the part) of blank lines that were skipped.
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

/// Error inside a part: byte offset of the line start within the part, and details.
struct PartError {
    offset: usize,
    kind: PartErrorKind,
}

enum PartErrorKind {
    NotNumber { col: usize, value: String },
    Short { found: usize, col: usize },
    QuotedNewline,
}

/// Parse complete lines of `buf` (which ends after a newline or at EOF).
fn parse_part(
    buf: &[u8],
    wanted: &[(usize, usize, ColKind)],
    max_field: usize,
) -> Result<Part, PartError> {
    // wanted: (field index, request index, kind), sorted by field index
    let mut cols: Vec<PartCol> = Vec::new();
    for (_, _, kind) in wanted.iter() {
        cols.push(match kind {
            ColKind::Number => PartCol::Number(Vec::with_capacity(buf.len() / 64)),
            ColKind::Text => PartCol::Text {
                codes: Vec::with_capacity(buf.len() / 64),
                levels: vec![],
                map: HashMap::new(),
            },
        });
    }
    // one scan per block: most files have no quotes at all
    let block_has_quote = memchr::memchr(b'"', buf).is_some();
    let mut rows = 0;
    let mut blanks = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |e| pos + e);
        let mut line = &buf[pos..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let line_start = pos;
        pos = end + 1;
        if trim(line).is_empty() {
            blanks.push(line_start);
            continue;
        }
        let has_quote = block_has_quote && memchr::memchr(b'"', line).is_some();
        if has_quote && memchr::memchr_iter(b'"', line).count() % 2 == 1 {
            return Err(PartError {
                offset: line_start,
                kind: PartErrorKind::QuotedNewline,
            });
        }
        let mut field = 0usize;
        let mut fstart = 0usize;
        let mut w = 0usize;
        let mut i = 0usize;
        let mut in_q = false;
        loop {
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
                                return Err(PartError {
                                    offset: line_start,
                                    kind: PartErrorKind::NotNumber {
                                        col: wanted[w].1,
                                        value: String::from_utf8_lossy(cell).into_owned(),
                                    },
                                })
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
                break;
            }
            field += 1;
            i = fend + 1;
            fstart = i;
        }
        if w < wanted.len() {
            return Err(PartError {
                offset: line_start,
                kind: PartErrorKind::Short {
                    found: field + 1,
                    col: wanted[w].1,
                },
            });
        }
        rows += 1;
    }
    Ok(Part { cols, rows, blanks })
}

/// Read the requested columns of a CSV file.
pub fn read_columns(path: &Path, req: &[Request]) -> Result<Table, TableError> {
    let mut file = std::fs::File::open(path).map_err(|e| TableError::Io(e.to_string()))?;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + 4096);
    let mut eof = false;
    // read until buf holds at least `target` bytes or the file ends
    // read straight into the buffer's tail (no intermediate copy)
    let mut fill = |buf: &mut Vec<u8>, eof: &mut bool, target: usize| -> Result<(), TableError> {
        while !*eof && buf.len() < target {
            let len = buf.len();
            buf.resize(target.max(len + 4096), 0);
            let n = file
                .read(&mut buf[len..])
                .map_err(|e| TableError::Io(e.to_string()))?;
            buf.truncate(len + n);
            if n == 0 {
                *eof = true;
            }
        }
        Ok(())
    };
    fill(&mut buf, &mut eof, BLOCK)?;
    let start = if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let hend = loop {
        if let Some(e) = memchr::memchr(b'\n', &buf[start..]) {
            break start + e;
        }
        if eof {
            break buf.len();
        }
        let t = buf.len() + BLOCK;
        fill(&mut buf, &mut eof, t)?;
    };
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
            name: r.name.clone(),
            available: header.join(", "),
        })?;
        wanted.push((f, ri, r.kind));
        names.push(header[f].clone());
    }
    wanted.sort_by_key(|w| (w.0, w.1));
    let max_field = wanted.iter().map(|w| w.0).max().unwrap_or(0);
    buf.drain(..(hend + 1).min(buf.len()));

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
    let mut global_maps: Vec<HashMap<Vec<u8>, u32>> = vec![HashMap::new(); req.len()];
    let mut lines_before = 1usize; // header
    let mut n_rows = 0usize;
    let mut blank_lines = Vec::new();
    loop {
        fill(&mut buf, &mut eof, BLOCK)?;
        if buf.is_empty() {
            break;
        }
        // complete lines only
        let cut = loop {
            if eof {
                break buf.len();
            }
            if let Some(p) = memchr::memrchr(b'\n', &buf) {
                break p + 1;
            }
            // a single line longer than the block: read more
            let t = buf.len() + BLOCK;
            fill(&mut buf, &mut eof, t)?;
        };
        let block = &buf[..cut];
        // split in two halves at a newline
        let mid = if block.len() > 1 << 16 {
            memchr::memchr(b'\n', &block[block.len() / 2..])
                .map_or(block.len(), |p| block.len() / 2 + p + 1)
        } else {
            block.len()
        };
        let (a, b) = block.split_at(mid);
        let (ra, rb) = std::thread::scope(|s| {
            let hb = s.spawn(|| parse_part(b, &wanted, max_field));
            let ra = parse_part(a, &wanted, max_field);
            (ra, hb.join().expect("parser thread"))
        });
        for (res, base_off) in [(ra, 0usize), (rb, mid)] {
            let part = match res {
                Ok(p) => p,
                Err(e) => {
                    if let PartErrorKind::QuotedNewline = e.kind {
                        return read_columns_slow(path, req);
                    }
                    let line = lines_before
                        + memchr::memchr_iter(b'\n', &block[..base_off + e.offset]).count()
                        + 1;
                    return Err(match e.kind {
                        PartErrorKind::NotNumber { col, value } => TableError::NotNumber {
                            line,
                            column: names[col].clone(),
                            value,
                        },
                        PartErrorKind::Short { found, col } => TableError::ShortLine {
                            line,
                            found,
                            needed: wanted.iter().find(|w| w.1 == col).map_or(0, |w| w.0 + 1),
                            column: names[col].clone(),
                        },
                        PartErrorKind::QuotedNewline => unreachable!(),
                    });
                }
            };
            n_rows += part.rows;
            // line numbers of blank lines (rare): count newlines up to each
            let mut line = lines_before + 1;
            let mut from = 0usize;
            for off in part.blanks.iter().map(|o| base_off + o) {
                line += memchr::memchr_iter(b'\n', &block[from..off]).count();
                from = off;
                blank_lines.push(line);
            }
            for (slot, pc) in part.cols.into_iter().enumerate() {
                let ri = wanted[slot].1;
                match (pc, &mut out[ri]) {
                    (PartCol::Number(v), Column::Number(dst)) => dst.extend_from_slice(&v),
                    (
                        PartCol::Text { codes, levels, .. },
                        Column::Text {
                            codes: dc,
                            levels: dl,
                        },
                    ) => {
                        let gm = &mut global_maps[ri];
                        let remap: Vec<u32> = levels
                            .into_iter()
                            .map(|l| {
                                if let Some(&c) = gm.get(&l) {
                                    c
                                } else {
                                    let c = dl.len() as u32;
                                    dl.push(String::from_utf8_lossy(&l).into_owned());
                                    gm.insert(l, c);
                                    c
                                }
                            })
                            .collect();
                        dc.extend(codes.iter().map(|&c| {
                            if c == MISSING {
                                MISSING
                            } else {
                                remap[c as usize]
                            }
                        }));
                    }
                    _ => unreachable!("kinds match by construction"),
                }
            }
        }
        lines_before += memchr::memchr_iter(b'\n', block).count();
        buf.drain(..cut);
        if eof && buf.is_empty() {
            break;
        }
    }
    Ok(Table {
        columns: out,
        n_rows,
        names,
        blank_lines,
        row_lines: Vec::new(),
    })
}

/// Slow, fully general path through the `csv` crate (quoted fields spanning lines).
fn read_columns_slow(path: &Path, req: &[Request]) -> Result<Table, TableError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| TableError::Io(e.to_string()))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| TableError::Io(e.to_string()))?
        .iter()
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut idx = vec![];
    let mut names = vec![];
    for r in req {
        let f = resolve(&header, &r.name).ok_or_else(|| TableError::MissingColumn {
            name: r.name.clone(),
            available: header.join(", "),
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
    for rec in rdr.records() {
        let rec = rec.map_err(|e| TableError::Io(e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.iter().all(|c| c.trim().is_empty()) {
            blank_lines.push(line);
            continue;
        }
        for (k, &f) in idx.iter().enumerate() {
            let cell = rec.get(f).ok_or_else(|| TableError::ShortLine {
                line,
                found: rec.len(),
                needed: f + 1,
                column: names[k].clone(),
            })?;
            let cell = cell.trim();
            match &mut out[k] {
                Column::Number(v) => {
                    v.push(
                        parse_number(cell.as_bytes()).ok_or_else(|| TableError::NotNumber {
                            line,
                            column: names[k].clone(),
                            value: cell.to_string(),
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
    fn line_numbers_account_for_blank_lines() {
        let p = tmp("blank.csv", "t,e\n1,1\n\n2,0\n  \n\n3,1\n");
        let t = read_columns(&p, &req(&[("t", ColKind::Number)])).unwrap();
        assert_eq!(t.n_rows, 3);
        assert_eq!(t.blank_lines, vec![3, 5, 6]);
        assert_eq!((t.line_of(0), t.line_of(1), t.line_of(2)), (2, 4, 7));
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
