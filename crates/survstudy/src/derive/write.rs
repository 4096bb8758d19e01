//! CDISC-style analysis data sets: ADSL (one row per patient) and ADTTE
//! (one row per patient per endpoint).

use std::path::{Path, PathBuf};

use super::store::Cell;
use super::{push_iso, Cohort, GroupingKind};
use crate::error::WriteError;
use crate::ingest::format_number;

/// File name of the subject-level data set.
pub const ADSL_FILE: &str = "adsl.csv";
/// File name of the time-to-event data set.
pub const ADTTE_FILE: &str = "adtte.csv";

fn open(dir: &Path, name: &str) -> Result<(PathBuf, csv::Writer<std::fs::File>), WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(|source| WriteError::Io {
        path: path.clone(),
        source,
    })?;
    let w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(file);
    Ok((path, w))
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> WriteError {
    let path = path.to_path_buf();
    move |e| WriteError::Csv {
        path: path.clone(),
        message: e.to_string(),
    }
}

/// Write `adsl.csv` into `dir` (created if needed): `USUBJID`, `SRCLINE`
/// (input line), every plan column present in the input (plan names; dates
/// ISO, yes/no as `yes`/`no`, blank = missing), each grouping that is not
/// simply a column of the same name, and each interval as `<name>_days`.
/// Columns not in the plan are not written. Returns the file path.
pub fn write_adsl(cohort: &Cohort, dir: &Path) -> Result<PathBuf, WriteError> {
    let (path, mut w) = open(dir, super::ADSL_FILE)?;
    let err = csv_err(&path);
    let columns: Vec<&String> = cohort.present_columns.iter().collect();
    let groupings: Vec<_> = cohort
        .groupings
        .iter()
        .filter(|g| {
            !(matches!(g.kind, GroupingKind::YesNo | GroupingKind::Category)
                && cohort.present_columns.contains(&g.name))
        })
        .collect();
    let mut header = vec!["USUBJID".to_string(), "SRCLINE".to_string()];
    header.extend(columns.iter().map(|c| c.to_string()));
    header.extend(groupings.iter().map(|g| g.name.clone()));
    header.extend(cohort.intervals.iter().map(|i| format!("{}_days", i.name)));
    w.write_record(&header).map_err(&err)?;
    let mut buf = String::new();
    // the columns' slots in the store every patient shares, looked up once
    // (not one string-keyed lookup per cell)
    let shared = cohort.patients.first().map(|p| {
        let slots: Vec<Option<usize>> = columns.iter().map(|c| p.columns.slot_of(c)).collect();
        (std::sync::Arc::clone(&p.columns), slots)
    });
    for (k, p) in cohort.patients.iter().enumerate() {
        w.write_field(&p.id).map_err(&err)?;
        w.write_field(p.line.to_string()).map_err(&err)?;
        let slots = shared
            .as_ref()
            .filter(|(c, _)| std::sync::Arc::ptr_eq(c, &p.columns))
            .map(|(_, s)| s);
        for (j, c) in columns.iter().enumerate() {
            // typed cell straight from the columnar store (no Value, no
            // per-cell String for categories)
            let cell = match slots {
                Some(s) => s[j].map_or(Cell::Missing, |slot| p.columns.cell(slot, p.row)),
                None => p.columns.get(c, p.row),
            };
            match cell {
                Cell::Text(s) => w.write_field(s.as_bytes()),
                Cell::Missing => w.write_field(b""),
                Cell::Date(d) => {
                    buf.clear();
                    push_iso(&mut buf, d);
                    w.write_field(buf.as_bytes())
                }
                cell => w.write_field(cell.to_text()),
            }
            .map_err(&err)?;
        }
        for g in &groupings {
            w.write_field(g.labels[k].as_deref().unwrap_or_default())
                .map_err(&err)?;
        }
        for i in &cohort.intervals {
            match i.days[k] {
                Some(d) => w.write_field(d.to_string()),
                None => w.write_field(b""),
            }
            .map_err(&err)?;
        }
        w.write_record(None::<&[u8]>).map_err(&err)?;
    }
    w.flush().map_err(|source| WriteError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
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
    let (path, mut w) = open(dir, super::ADTTE_FILE)?;
    let err = csv_err(&path);
    w.write_record([
        "USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "AVALU", "CNSR", "EVNTDESC",
        "CNSDTDSC",
    ])
    .map_err(&err)?;
    let (mut start, mut end) = (String::new(), String::new());
    for (k, p) in cohort.patients.iter().enumerate() {
        for e in &cohort.endpoints {
            let Some(r) = &e.records[k] else { continue };
            let cnsdtdsc = if r.event { "" } else { r.end_column.as_str() };
            // a duration endpoint has no dates: STARTDT and ADT blank
            start.clear();
            if let Some(d) = r.start {
                push_iso(&mut start, d);
            }
            end.clear();
            if let Some(d) = r.end {
                push_iso(&mut end, d);
            }
            w.write_record([
                p.id.as_str(),
                e.code.as_str(),
                e.label.as_str(),
                start.as_str(),
                end.as_str(),
                format_number(r.time).as_str(),
                e.unit.avalu(),
                if r.event { "0" } else { "1" },
                r.description.as_str(),
                cnsdtdsc,
            ])
            .map_err(&err)?;
        }
    }
    w.flush().map_err(|source| WriteError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
