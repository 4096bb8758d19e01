//! Columnar storage of the typed input: one vector per plan column, each
//! cell parsed once (dates as `NaiveDate`, yes/no as a byte, numbers as
//! `f64`, categories as codes into interned [`Label`]s). No per-row maps and
//! no table of strings: a 10^6-row export takes a few tens of bytes per
//! patient here.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::{iso, yes_no_label, Value};
use crate::ingest::format_number;
use crate::plan::ColumnType;

/// An interned, cheaply cloned string (a grouping level, a category value,
/// an endpoint's end column): every patient with the same value shares one
/// allocation. A thin pointer (8 bytes, `Option<Label>` too), since the
/// cohort holds one per patient per grouping and variable.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Label(Arc<Box<str>>);

impl Label {
    /// Intern `s` (a new allocation; clones share it).
    pub fn new(s: &str) -> Label {
        Label(Arc::new(Box::from(s)))
    }
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Label {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Label {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self.0, f)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self.0, f)
    }
}

impl From<&str> for Label {
    fn from(s: &str) -> Label {
        Label::new(s)
    }
}

impl From<String> for Label {
    fn from(s: String) -> Label {
        Label(Arc::new(s.into_boxed_str()))
    }
}

impl From<Label> for String {
    fn from(l: Label) -> String {
        l.0.to_string()
    }
}

impl PartialEq<str> for Label {
    fn eq(&self, o: &str) -> bool {
        &**self.0 == o
    }
}
impl PartialEq<&str> for Label {
    fn eq(&self, o: &&str) -> bool {
        &**self.0 == *o
    }
}
impl PartialEq<String> for Label {
    fn eq(&self, o: &String) -> bool {
        &**self.0 == o.as_str()
    }
}
impl PartialEq<Label> for String {
    fn eq(&self, o: &Label) -> bool {
        self.as_str() == &**o.0
    }
}
impl PartialEq<Label> for str {
    fn eq(&self, o: &Label) -> bool {
        self == &**o.0
    }
}
impl PartialEq<Label> for &str {
    fn eq(&self, o: &Label) -> bool {
        *self == &**o.0
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Yes/no cell codes.
pub(crate) const NO: u8 = 0;
pub(crate) const YES: u8 = 1;
pub(crate) const NA: u8 = 2;

/// One plan column's typed cells, for every row read (excluded rows too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColData {
    Date(Vec<Option<NaiveDate>>),
    YesNo(Vec<u8>),
    Number(Vec<Option<f64>>),
    /// Category (and free text): code 0 = missing, else `levels[code - 1]`.
    Codes {
        codes: Vec<u32>,
        levels: Vec<Label>,
    },
}

/// The typed columns of the plan columns present in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// Canonical plan names, by slot.
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<ColumnType>,
    pub(crate) data: Vec<ColData>,
    pub(crate) slot: SlotMap,
}

/// Column name → slot. Looked up for every cell the derivation reads
/// (several per row and grouping), so hashed with FNV-1a over the short
/// names rather than SipHash; nothing iterates the map.
pub(crate) type SlotMap = HashMap<String, usize, std::hash::BuildHasherDefault<Fnv1a>>;

/// FNV-1a, 64 bit (for short, trusted keys: the plan's column names).
#[derive(Default)]
pub(crate) struct Fnv1a(u64);

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A borrowed typed cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Missing,
    Date(NaiveDate),
    YesNo(bool),
    Number(f64),
    Text(&'a Label),
}

impl<'a> Cell<'a> {
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Cell::Missing)
    }
    /// As [`Cell::to_text`], borrowed where the text exists already (yes/no
    /// and categories: no allocation per row).
    pub(crate) fn text(self) -> std::borrow::Cow<'a, str> {
        match self {
            Cell::Missing => std::borrow::Cow::Borrowed(""),
            Cell::YesNo(b) => std::borrow::Cow::Borrowed(yes_no_label(b)),
            Cell::Text(s) => std::borrow::Cow::Borrowed(s.as_str()),
            other => std::borrow::Cow::Owned(other.to_text()),
        }
    }
    /// As [`Value::to_text`].
    pub(crate) fn to_text(self) -> String {
        match self {
            Cell::Missing => String::new(),
            Cell::Date(d) => iso(d),
            Cell::YesNo(b) => yes_no_label(b).to_string(),
            Cell::Number(v) => format_number(v),
            Cell::Text(s) => s.to_string(),
        }
    }
}

impl Columns {
    pub(crate) fn slot_of(&self, name: &str) -> Option<usize> {
        self.slot.get(name).copied()
    }

    /// The cell of `slot` in row `r`.
    pub(crate) fn cell(&self, slot: usize, r: usize) -> Cell<'_> {
        match &self.data[slot] {
            ColData::Date(v) => v[r].map_or(Cell::Missing, Cell::Date),
            ColData::YesNo(v) => match v[r] {
                NO => Cell::YesNo(false),
                YES => Cell::YesNo(true),
                _ => Cell::Missing,
            },
            ColData::Number(v) => v[r].map_or(Cell::Missing, Cell::Number),
            ColData::Codes { codes, levels } => match codes[r] {
                0 => Cell::Missing,
                c => Cell::Text(&levels[c as usize - 1]),
            },
        }
    }

    /// The cell of the column named `name` (canonical), `Missing` when the
    /// column is not in the input.
    pub(crate) fn get(&self, name: &str, r: usize) -> Cell<'_> {
        match self.slot_of(name) {
            Some(k) => self.cell(k, r),
            None => Cell::Missing,
        }
    }

    pub(crate) fn date(&self, slot: Option<usize>, r: usize) -> Option<NaiveDate> {
        match &self.data[slot?] {
            ColData::Date(v) => v[r],
            _ => None,
        }
    }

    /// Owned value of a cell, as the typed record used to hold it.
    pub(crate) fn value(&self, name: &str, r: usize) -> Value {
        let Some(k) = self.slot_of(name) else {
            return Value::Missing;
        };
        match self.cell(k, r) {
            Cell::Missing => Value::Missing,
            Cell::Date(d) => Value::Date(d),
            Cell::YesNo(b) => Value::YesNo(b),
            Cell::Number(v) => Value::Number(v),
            Cell::Text(s) if self.kinds[k] == ColumnType::Text => Value::Text(s.to_string()),
            Cell::Text(s) => Value::Category(s.to_string()),
        }
    }
}
