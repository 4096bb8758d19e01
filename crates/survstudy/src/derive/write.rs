//! CDISC-style analysis data sets: ADSL (one row per patient) and ADTTE
//! (one row per patient per endpoint).

use std::path::{Path, PathBuf};

use super::store::Cell;
use super::{push_iso, Cohort, GroupingKind};
use crate::error::WriteError;

/// File name of the subject-level data set.
pub const ADSL_FILE: &str = "adsl.csv";
/// File name of the time-to-event data set.
pub const ADTTE_FILE: &str = "adtte.csv";

/// Bytes flushed to the file at a time.
const CHUNK: usize = 1 << 20;

/// A CSV writer formatting by hand into one large buffer: the same bytes as
/// `csv::Writer` with its defaults (`,` delimiter, `\n` terminator, a field
/// quoted only when it holds `,`, `"`, `\r` or `\n`, quotes doubled), without
/// the per-field state machine and with numbers formatted in place.
struct Out {
    path: PathBuf,
    file: std::fs::File,
    buf: Vec<u8>,
    /// No field written yet in the current record.
    first: bool,
}

impl Out {
    fn open(dir: &Path, name: &str) -> Result<Out, WriteError> {
        std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(name);
        let file = std::fs::File::create(&path).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Out {
            path,
            file,
            buf: Vec::with_capacity(CHUNK + (1 << 16)),
            first: true,
        })
    }
    #[inline]
    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }
    /// A text field, quoted when needed.
    #[inline]
    fn field(&mut self, f: &[u8]) {
        self.sep();
        push_field(&mut self.buf, f);
    }
    /// A field known to need no quotes (digits, dates, `-`, `.`), or one
    /// already encoded.
    #[inline]
    fn plain(&mut self, f: &[u8]) {
        self.sep();
        self.buf.extend_from_slice(f);
    }
    #[inline]
    fn int(&mut self, v: i64) {
        self.sep();
        push_int(&mut self.buf, v);
    }
    /// As [`crate::ingest::format_number`].
    #[inline]
    fn number(&mut self, f: f64) {
        self.sep();
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
            push_int(&mut self.buf, f as i64);
        } else {
            use std::io::Write;
            // writing into a Vec cannot fail
            let _ = write!(self.buf, "{f}");
        }
    }
    #[inline]
    fn date(&mut self, d: chrono::NaiveDate) {
        self.sep();
        push_iso_bytes(&mut self.buf, d);
    }
    fn end_record(&mut self) -> Result<(), WriteError> {
        self.buf.push(b'\n');
        self.first = true;
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), WriteError> {
        use std::io::Write;
        self.file
            .write_all(&self.buf)
            .map_err(|e| WriteError::Csv {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.buf.clear();
        Ok(())
    }
    fn finish(mut self) -> Result<PathBuf, WriteError> {
        self.flush()?;
        Ok(self.path)
    }
}

/// Appends `f` as a CSV field, quoted when needed.
fn push_field(out: &mut Vec<u8>, f: &[u8]) {
    if f.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push(b'"');
        for &b in f {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(f);
    }
}

/// `f` as a CSV field (for a text written on every row: encoded once).
fn encoded(f: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(f.len() + 2);
    push_field(&mut out, f.as_bytes());
    out
}

/// Appends the decimal form of `v`.
#[inline]
fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends `d` as ISO `YYYY-MM-DD` (as [`push_iso`]).
#[inline]
fn push_iso_bytes(out: &mut Vec<u8>, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (day / 10) as u8,
            b'0' + (day % 10) as u8,
        ]);
    } else {
        let mut s = String::new();
        push_iso(&mut s, d);
        out.extend_from_slice(s.as_bytes());
    }
}

/// Write `adsl.csv` into `dir` (created if needed): `USUBJID`, `SRCLINE`
/// (input line), every plan column present in the input (plan names; dates
/// ISO, yes/no as `yes`/`no`, blank = missing), each grouping that is not
/// simply a column of the same name, and each interval as `<name>_days`.
/// Columns not in the plan are not written. Returns the file path.
pub fn write_adsl(cohort: &Cohort, dir: &Path) -> Result<PathBuf, WriteError> {
    let mut w = Out::open(dir, super::ADSL_FILE)?;
    let columns: Vec<&String> = cohort.present_columns.iter().collect();
    let groupings: Vec<_> = cohort
        .groupings
        .iter()
        .filter(|g| {
            !(matches!(g.kind, GroupingKind::YesNo | GroupingKind::Category)
                && cohort.present_columns.contains(&g.name))
        })
        .collect();
    // every record has at least USUBJID and SRCLINE: never a lone empty
    // field (which csv would write as `""`)
    w.field(b"USUBJID");
    w.field(b"SRCLINE");
    for c in &columns {
        w.field(c.as_bytes());
    }
    for g in &groupings {
        w.field(g.name.as_bytes());
    }
    for i in &cohort.intervals {
        w.field(format!("{}_days", i.name).as_bytes());
    }
    w.end_record()?;
    // the columns' slots in the store every patient shares, looked up once
    // (not one string-keyed lookup per cell)
    let shared = cohort.patients.first().map(|p| {
        let slots: Vec<Option<usize>> = columns.iter().map(|c| p.columns().slot_of(c)).collect();
        (std::sync::Arc::clone(&p.store.columns), slots)
    });
    for (k, p) in cohort.patients.iter().enumerate() {
        w.field(p.id().as_bytes());
        w.int(p.line as i64);
        let slots = shared
            .as_ref()
            .filter(|(c, _)| std::sync::Arc::ptr_eq(c, &p.store.columns))
            .map(|(_, s)| s);
        for (j, c) in columns.iter().enumerate() {
            // typed cell straight from the columnar store (no Value, no
            // per-cell String)
            let cell = match slots {
                Some(s) => s[j].map_or(Cell::Missing, |slot| p.columns().cell(slot, p.row)),
                None => p.columns().get(c, p.row),
            };
            match cell {
                Cell::Text(s) => w.field(s.as_bytes()),
                Cell::Str(s) => w.field(s.as_bytes()),
                Cell::Missing => w.plain(b""),
                Cell::Date(d) => w.date(d),
                Cell::YesNo(b) => w.plain(super::yes_no_label(b).as_bytes()),
                Cell::Number(v) => w.number(v),
            }
        }
        for g in &groupings {
            w.field(g.labels[k].as_deref().unwrap_or_default().as_bytes());
        }
        for i in &cohort.intervals {
            match i.days[k] {
                Some(d) => w.int(d),
                None => w.plain(b""),
            }
        }
        w.end_record()?;
    }
    w.finish()
}

/// Write `adtte.csv` into `dir` (created if needed): one row per patient
/// per endpoint for patients in the endpoint's population, ordered by
/// patient then endpoint, with `USUBJID, PARAMCD, PARAM, STARTDT, ADT,
/// AVAL, AVALU, CNSR, EVNTDESC, CNSDTDSC`. `CNSR` is 0 for an event and 1
/// for censoring; `AVAL` is in the endpoint's time unit (`AVALU`); a duration endpoint
/// has blank `STARTDT` and `ADT`; `EVNTDESC` describes
/// the event or the censoring; `CNSDTDSC` names the censoring date (blank
/// for events). Returns the file path.
pub fn write_adtte(cohort: &Cohort, dir: &Path) -> Result<PathBuf, WriteError> {
    let mut w = Out::open(dir, super::ADTTE_FILE)?;
    for h in [
        "USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "AVALU", "CNSR", "EVNTDESC",
        "CNSDTDSC",
    ] {
        w.field(h.as_bytes());
    }
    w.end_record()?;
    // each endpoint's code, label and unit, the same on all its rows, and
    // each end column's (name, event description, censoring description)
    type Ends = Vec<[Vec<u8>; 3]>;
    let fixed: Vec<([Vec<u8>; 3], Ends)> = cohort
        .endpoints
        .iter()
        .map(|e| {
            let ends = e
                .ends
                .iter()
                .map(|c| [encoded(&c.column), encoded(&c.event), encoded(&c.censored)])
                .collect();
            (
                [encoded(&e.code), encoded(&e.label), encoded(e.unit.avalu())],
                ends,
            )
        })
        .collect();
    for (k, p) in cohort.patients.iter().enumerate() {
        for (e, ([code, label, unit], ends)) in cohort.endpoints.iter().zip(&fixed) {
            let Some(r) = &e.records[k] else { continue };
            w.field(p.id().as_bytes());
            w.plain(code);
            w.plain(label);
            // a duration endpoint has no dates: STARTDT and ADT blank
            match r.start {
                Some(d) => w.date(d),
                None => w.plain(b""),
            }
            match r.end {
                Some(d) => w.date(d),
                None => w.plain(b""),
            }
            w.number(r.time);
            w.plain(unit);
            w.plain(if r.event { b"0" } else { b"1" });
            // (an index past the list, in hand-made data: blank texts)
            let [column, event, censored] = ends
                .get(usize::from(r.end_index))
                .map_or([&[][..]; 3], |[c, e, x]| [&c[..], &e[..], &x[..]]);
            if r.event {
                w.plain(event);
                w.plain(b"");
            } else {
                w.plain(censored);
                w.plain(column);
            }
            w.end_record()?;
        }
    }
    w.finish()
}
