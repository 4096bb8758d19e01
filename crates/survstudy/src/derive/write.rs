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
        push_number(&mut self.buf, f);
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

/// Appends `f` as [`crate::ingest::format_number`] writes it.
#[inline]
fn push_number(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        push_int(out, f as i64);
    } else {
        use std::io::Write;
        // writing into a Vec cannot fail
        let _ = write!(out, "{f}");
    }
}

/// The texts of recently written `AVAL`s, by the record's day count
/// (direct-mapped, checked against the time's bits: a time is formatted
/// once per distinct day count instead of once per record).
struct AvalTexts {
    slots: Vec<(u64, Vec<u8>)>,
}

impl Default for AvalTexts {
    fn default() -> Self {
        AvalTexts {
            // a NaN's bits: no time written through the cache has them
            slots: vec![(f64::NAN.to_bits(), Vec::new()); 1 << 14],
        }
    }
}

impl AvalTexts {
    #[inline]
    fn push(&mut self, out: &mut Vec<u8>, days: i32, time: f64) {
        let bits = time.to_bits();
        if time.is_nan() {
            push_number(out, time);
            return;
        }
        let slot = &mut self.slots[(days as u32 as usize) & ((1 << 14) - 1)];
        if slot.0 != bits {
            slot.0 = bits;
            slot.1.clear();
            push_number(&mut slot.1, time);
        }
        out.extend_from_slice(&slot.1);
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

/// A plan column of the shared store, by its type.
enum ColOut<'a> {
    Date(&'a [Option<chrono::NaiveDate>]),
    YesNo(&'a [u8]),
    Number(&'a super::Numbers),
    /// Codes and each code's encoded text (code 0 = missing = empty).
    Codes(&'a super::Codes, Vec<Vec<u8>>),
    Text(&'a super::store::Ids),
    /// Not in the store: every cell blank.
    Absent,
}

impl<'a> ColOut<'a> {
    fn of(cols: &'a super::store::Columns, slot: Option<usize>) -> ColOut<'a> {
        use super::store::ColData;
        match slot.map(|s| &cols.data[s]) {
            None => ColOut::Absent,
            Some(ColData::Date(v)) => ColOut::Date(v),
            Some(ColData::YesNo(v)) => ColOut::YesNo(v),
            Some(ColData::Number(v)) => ColOut::Number(v),
            Some(ColData::Codes { codes, levels }) => ColOut::Codes(
                codes,
                std::iter::once(Vec::new())
                    .chain(levels.iter().map(|l| encoded(l)))
                    .collect(),
            ),
            Some(ColData::Text(ids)) => ColOut::Text(ids),
        }
    }
    /// Writes row `r`'s cell, as the `Cell` of [`super::store::Columns::cell`]
    /// is written.
    #[inline]
    fn write(&self, w: &mut Out, r: usize, dates: &mut DateTexts) {
        use super::store::{NO, YES};
        match self {
            ColOut::Date(v) => match v[r] {
                Some(d) => {
                    w.sep();
                    dates.push(&mut w.buf, d);
                }
                None => w.plain(b""),
            },
            ColOut::YesNo(v) => w.plain(match v[r] {
                NO => b"no",
                YES => b"yes",
                _ => b"",
            }),
            ColOut::Number(v) => match v.get(r) {
                Some(x) => w.number(x),
                None => w.plain(b""),
            },
            ColOut::Codes(codes, texts) => w.plain(&texts[codes.get(r) as usize]),
            ColOut::Text(ids) => w.field(ids.bytes(r)),
            ColOut::Absent => w.plain(b""),
        }
    }
}

/// The ISO texts of recently written dates, by day number (direct-mapped:
/// a cohort's dates span a few thousand days, so nearly every date is
/// formatted once).
struct DateTexts {
    slots: Vec<(i32, [u8; 10])>,
}

impl Default for DateTexts {
    fn default() -> Self {
        DateTexts {
            // i32::MIN: no date has that day number
            slots: vec![(i32::MIN, [0; 10]); 1 << 14],
        }
    }
}

impl DateTexts {
    #[inline]
    fn push(&mut self, out: &mut Vec<u8>, d: chrono::NaiveDate) {
        use chrono::Datelike;
        let key = d.num_days_from_ce();
        if !(0..=9999).contains(&d.year()) {
            push_iso_bytes(out, d);
            return;
        }
        let slot = &mut self.slots[(key as usize) & ((1 << 14) - 1)];
        if slot.0 != key {
            let mut text = Vec::with_capacity(10);
            push_iso_bytes(&mut text, d);
            slot.0 = key;
            slot.1.copy_from_slice(&text);
        }
        out.extend_from_slice(&slot.1);
    }
}

/// The groupings ADSL writes: each one that is not simply a yes/no or
/// category column of the same name.
fn adsl_groupings(cohort: &Cohort) -> Vec<&super::GroupingData> {
    cohort
        .groupings
        .iter()
        .filter(|g| {
            !(matches!(g.kind, GroupingKind::YesNo | GroupingKind::Category)
                && cohort.present_columns.contains(&g.name))
        })
        .collect()
}

/// Write `adsl.csv` into `dir` (created if needed): `USUBJID`, `SRCLINE`
/// (input line), every plan column present in the input (plan names; dates
/// ISO, yes/no as `yes`/`no`, blank = missing), each grouping that is not
/// simply a column of the same name, and each interval as `<name>_days`.
/// Columns not in the plan are not written. Returns the file path.
pub fn write_adsl(cohort: &Cohort, dir: &Path) -> Result<PathBuf, WriteError> {
    let mut w = Out::open(dir, super::ADSL_FILE)?;
    let columns: Vec<&String> = cohort.present_columns.iter().collect();
    let groupings = adsl_groupings(cohort);
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
    // the columns of the store every patient shares, each read by its type
    // (not one string-keyed lookup and one `Cell` per cell), category
    // levels encoded once
    let shared = cohort.patients.first().map(|p| {
        let cols: &std::sync::Arc<_> = &p.store.columns;
        let outs: Vec<ColOut> = columns
            .iter()
            .map(|c| ColOut::of(cols, cols.slot_of(c)))
            .collect();
        (cols, outs)
    });
    // each grouping's label table encoded once
    let group_texts: Vec<Vec<Vec<u8>>> = groupings
        .iter()
        .map(|g| {
            g.labels
                .table()
                .iter()
                .map(|l| encoded(l.as_deref().unwrap_or_default()))
                .collect()
        })
        .collect();
    let mut dates = DateTexts::default();
    for (k, p) in cohort.patients.iter().enumerate() {
        let outs = shared
            .as_ref()
            .filter(|(c, _)| std::sync::Arc::ptr_eq(c, &p.store.columns))
            .map(|(_, o)| o);
        match outs {
            Some(outs) => {
                w.field(p.store.ids.bytes(p.row));
                w.int(p.line() as i64);
                for o in outs {
                    o.write(&mut w, p.row, &mut dates);
                }
            }
            // a patient of another store (hand-made cohorts): cell by cell
            None => {
                w.field(p.id().as_bytes());
                w.int(p.line() as i64);
                for c in &columns {
                    match p.columns().get(c, p.row) {
                        Cell::Text(s) => w.field(s.as_bytes()),
                        Cell::Str(s) => w.field(s.as_bytes()),
                        Cell::Missing => w.plain(b""),
                        Cell::Date(d) => w.date(d),
                        Cell::YesNo(b) => w.plain(super::yes_no_label(b).as_bytes()),
                        Cell::Number(v) => w.number(v),
                    }
                }
            }
        }
        for (g, texts) in groupings.iter().zip(&group_texts) {
            w.plain(&texts[g.labels.codes().get(k) as usize]);
        }
        for i in &cohort.intervals {
            match i.days[k] {
                Some(d) => w.int(d.into()),
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
    let mut dates = DateTexts::default();
    let mut avals = AvalTexts::default();
    for (k, p) in cohort.patients.iter().enumerate() {
        for (e, ([code, label, unit], ends)) in cohort.endpoints.iter().zip(&fixed) {
            let Some(r) = &e.records[k] else { continue };
            w.field(p.store.ids.bytes(p.row));
            w.plain(code);
            w.plain(label);
            // a duration endpoint has no dates: STARTDT and ADT blank
            for d in [r.start, r.end()] {
                w.sep();
                if let Some(d) = d {
                    dates.push(&mut w.buf, d);
                }
            }
            w.sep();
            avals.push(&mut w.buf, r.days, e.time_of(k, r));
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn cached_dates_are_the_dates_formatted() {
        let base = NaiveDate::from_ymd_opt(2021, 3, 1).unwrap();
        // dates 2^14 days apart share a slot; years outside 0..=9999 bypass it
        let dates = [
            base,
            base + chrono::Days::new(1 << 14),
            base,
            base + chrono::Days::new(1),
            NaiveDate::from_ymd_opt(-3, 1, 2).unwrap(),
            NaiveDate::from_ymd_opt(12000, 5, 6).unwrap(),
            base + chrono::Days::new(1 << 14),
            base,
        ];
        let mut cache = DateTexts::default();
        for d in dates {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            cache.push(&mut got, d);
            push_iso_bytes(&mut want, d);
            assert_eq!(got, want, "{d}");
        }
    }

    #[test]
    fn cached_avals_are_the_times_formatted() {
        // the same day count with other times (a slot must be checked by the
        // time itself), day counts 2^14 apart, negative counts, non-finite
        let cases = [
            (273, 273.0 / 30.4375),
            (273, 273.0),
            (273, 273.0 / 30.4375),
            (273 + (1 << 14), 0.5),
            (-5, -5.0 / 7.0),
            (-5, f64::NAN),
            (0, f64::INFINITY),
            (0, 0.0),
            (0, -0.0),
            (273 + (1 << 14), 0.25),
        ];
        let mut cache = AvalTexts::default();
        for (days, time) in cases {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            cache.push(&mut got, days, time);
            push_number(&mut want, time);
            assert_eq!(got, want, "{days} {time}");
            assert_eq!(
                String::from_utf8(got).unwrap(),
                crate::ingest::format_number(time)
            );
        }
    }

    /// ADSL written cell by cell through `Cell` with `csv::Writer`: what the
    /// typed columns must reproduce byte for byte.
    fn adsl_by_cells(c: &Cohort) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let groupings = adsl_groupings(c);
        let mut head = vec!["USUBJID".to_string(), "SRCLINE".to_string()];
        head.extend(c.present_columns.iter().cloned());
        head.extend(groupings.iter().map(|g| g.name.clone()));
        head.extend(c.intervals.iter().map(|i| format!("{}_days", i.name)));
        w.write_record(&head).unwrap();
        for (k, p) in c.patients.iter().enumerate() {
            let mut rec = vec![p.id().to_string(), p.line().to_string()];
            for col in &c.present_columns {
                rec.push(match p.columns().get(col, p.row) {
                    Cell::Text(s) => s.to_string(),
                    Cell::Str(s) => s.to_string(),
                    Cell::Missing => String::new(),
                    Cell::Date(d) => {
                        let mut s = String::new();
                        push_iso(&mut s, d);
                        s
                    }
                    Cell::YesNo(b) => super::super::yes_no_label(b).to_string(),
                    Cell::Number(v) => crate::ingest::format_number(v),
                });
            }
            for g in &groupings {
                rec.push(g.labels[k].as_deref().unwrap_or_default().to_string());
            }
            for i in &c.intervals {
                rec.push(i.days[k].map(|d| d.to_string()).unwrap_or_default());
            }
            w.write_record(&rec).unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn adsl_by_typed_columns_is_adsl_by_cells() {
        // identifiers needing quotes, missing dates, numbers and
        // categories, yes/no in several spellings, dates 2^14 days apart
        let text = "patient_id,cart_product,cart_infusion_date,emd_at_infusion,pmd_at_infusion,\
progression_date,prog_biochemical,prog_emd,prog_pmd,last_followup_date,death_date,\
next_line_start_date,next_line_progression_date,next_line_category,age_at_infusion,sex\n\
\"P,01\",ide-cel,2021-01-10,yes,no,2021-06-01,no,yes,no,2022-01-01,2022-03-01,2021-06-15,2021-10-01,bispecific,61.5,F\n\
\"P\"\"02\",Cilta-Cel,2021-02-01,No,YES,2021-05-01,y,n,yes,2066-04-24,,,,,70,M\n\
P03,IDE-CEL,2020-11-20, Y ,n,2021-03-01,TRUE,0,0,2021-09-01,2021-09-01,2021-03-10,,salvage chemotherapy,,F\n\
P04,cilta-cel,2021-01-05,false,n,2021-07-15,1,1,false,2021-07-15,,,,,55.25,\n";
        let plan = crate::plan::Plan::builtin();
        let t = crate::ingest::parse_csv("t.csv", text.as_bytes()).unwrap();
        let c = crate::derive::derive(&plan, &t, &crate::derive::DeriveOptions::default()).unwrap();
        assert_eq!(c.patients.len(), 4);
        let dir = std::env::temp_dir().join(format!("survstudy-adsl-{}", std::process::id()));
        let path = write_adsl(&c, &dir).unwrap();
        let got = std::fs::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        let want = adsl_by_cells(&c);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        // the texts that need quotes were quoted
        let s = String::from_utf8(got).unwrap();
        assert!(s.contains("\"P,01\"") && s.contains("\"P\"\"02\""));
        // 2066-04-24 is 2021-06-15 + 2^14 days: the same cache slot, later
        assert!(s.contains("2066-04-24") && s.contains("2021-06-15"));
    }
}
