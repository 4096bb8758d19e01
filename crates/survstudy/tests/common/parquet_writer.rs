//! A small Parquet writer for tests (the `parquet` crate's low-level
//! column writers), so fixtures are built in the test from a CSV's text
//! cells, not checked in. Shared by survstudy's and survstudy-cli's tests
//! (`#[path]`-included).

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;

/// How a column is stored. Blank cells become nulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pq {
    /// UTF-8 string, dictionary-encoded (the writer's default).
    Str,
    /// UTF-8 string, plain encoding.
    StrPlain,
    /// DATE (days since 1970-01-01) from `YYYY-MM-DD`.
    Date32,
    /// TIMESTAMP(MILLIS, local) at midnight of a `YYYY-MM-DD`.
    TsMillis,
    /// TIMESTAMP(MICROS, UTC) at midnight.
    TsMicrosUtc,
    /// TIMESTAMP(NANOS, local) at midnight.
    TsNanos,
    /// BOOLEAN from yes/no, true/false, 1/0.
    Bool,
    /// INT32.
    Int32,
    /// INT64.
    Int64,
    /// DOUBLE.
    Double,
}

/// Days from 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian).
pub fn days(ymd: &str) -> i32 {
    let p: Vec<i64> = ymd.trim().split('-').map(|x| x.parse().unwrap()).collect();
    let (y, m, d) = (p[0] - i64::from(p[1] <= 2), p[1], p[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

fn truth(s: &str) -> bool {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => true,
        "no" | "n" | "false" | "0" => false,
        other => panic!("not a boolean: {other}"),
    }
}

/// Write `rows` (text cells, one per header) to `path`, column `i` stored
/// as `types[i]`, `per_group` rows per row group, snappy-compressed.
pub fn write_parquet(
    path: &Path,
    headers: &[String],
    rows: &[Vec<String>],
    types: &[Pq],
    per_group: usize,
) {
    let fields: Vec<String> = headers
        .iter()
        .zip(types)
        .map(|(h, t)| {
            let ty = match t {
                Pq::Str | Pq::StrPlain => "binary",
                Pq::Date32 => "int32",
                Pq::Int32 => "int32",
                Pq::Bool => "boolean",
                Pq::Double => "double",
                _ => "int64",
            };
            let ann = match t {
                Pq::Str | Pq::StrPlain => " (STRING)",
                Pq::Date32 => " (DATE)",
                Pq::TsMillis => " (TIMESTAMP(MILLIS,false))",
                Pq::TsMicrosUtc => " (TIMESTAMP(MICROS,true))",
                Pq::TsNanos => " (TIMESTAMP(NANOS,false))",
                _ => "",
            };
            format!("optional {ty} {h}{ann};")
        })
        .collect();
    let msg = format!("message schema {{ {} }}", fields.join(" "));
    let schema = Arc::new(parse_message_type(&msg).unwrap());
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_data_page_row_count_limit(64);
    for (h, t) in headers.iter().zip(types) {
        if *t == Pq::StrPlain {
            props = props.set_column_dictionary_enabled(ColumnPath::from(h.as_str()), false);
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, Arc::new(props.build())).unwrap();
    for chunk in rows.chunks(per_group.max(1)) {
        let mut rg = w.next_row_group().unwrap();
        let mut c = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            let cells: Vec<&str> = chunk.iter().map(|r| r[c].trim()).collect();
            let defs: Vec<i16> = cells.iter().map(|s| i16::from(!s.is_empty())).collect();
            let present: Vec<&str> = cells.iter().copied().filter(|s| !s.is_empty()).collect();
            let midnight = |per_day: i64| -> Vec<i64> {
                present
                    .iter()
                    .map(|s| i64::from(days(s)) * per_day)
                    .collect()
            };
            match types[c] {
                Pq::Str | Pq::StrPlain => {
                    let v: Vec<ByteArray> = present.iter().map(|s| ByteArray::from(*s)).collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Pq::Date32 => {
                    let v: Vec<i32> = present.iter().map(|s| days(s)).collect();
                    col.typed::<Int32Type>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Pq::TsMillis | Pq::TsMicrosUtc | Pq::TsNanos => {
                    let per_day = match types[c] {
                        Pq::TsMillis => 86_400_000,
                        Pq::TsMicrosUtc => 86_400_000_000,
                        _ => 86_400_000_000_000,
                    };
                    col.typed::<Int64Type>()
                        .write_batch(&midnight(per_day), Some(&defs), None)
                        .unwrap();
                }
                Pq::Bool => {
                    let v: Vec<bool> = present.iter().map(|s| truth(s)).collect();
                    col.typed::<BoolType>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Pq::Int32 => {
                    let v: Vec<i32> = present.iter().map(|s| s.parse().unwrap()).collect();
                    col.typed::<Int32Type>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Pq::Int64 => {
                    let v: Vec<i64> = present.iter().map(|s| s.parse().unwrap()).collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Pq::Double => {
                    let v: Vec<f64> = present.iter().map(|s| s.parse().unwrap()).collect();
                    col.typed::<DoubleType>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
            }
            col.close().unwrap();
            c += 1;
        }
        rg.close().unwrap();
    }
    w.close().unwrap();
}
