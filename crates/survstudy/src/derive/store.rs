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

use super::{iso, yes_no_label, Codes, CodesIter, Value};
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

/// The patient identifier of every row read, in one text buffer (no
/// `String` per row); a missing (blank) identifier is empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ids {
    text: String,
    /// End of row r's identifier in `text`, modulo 2^[`WRAP_BITS`]
    /// (4 bytes a row).
    ends: Vec<u32>,
    /// The rows at which `text` grew past another multiple of
    /// 2^[`WRAP_BITS`] bytes (a row once per multiple passed): row r's end is
    /// `ends[r]` plus that power of two times the entries up to r. Empty
    /// below 4 GiB of identifiers.
    wraps: Vec<usize>,
}

/// The ends' width (a test build wraps at 64 bytes so that the tests read
/// identifiers past wraps as well as before the first).
const WRAP_BITS: u32 = if cfg!(test) { 6 } else { 32 };

impl Ids {
    /// Give back the room the growth left over (the column is complete).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.wraps.shrink_to_fit();
    }
    /// The next row ends at `end`; the row before it ended at `prev`.
    fn push_end(&mut self, prev: usize, end: usize) {
        for _ in (prev >> WRAP_BITS)..(end >> WRAP_BITS) {
            self.wraps.push(self.ends.len());
        }
        // the low bits (the truncation is the point)
        self.ends.push((end & ((1usize << WRAP_BITS) - 1)) as u32);
    }
    /// End of row `r`'s identifier in `text`.
    #[inline]
    fn end(&self, r: usize) -> usize {
        let low = self.ends[r] as usize;
        if self.wraps.is_empty() {
            low
        } else {
            low + (self.wraps.partition_point(|&w| w <= r) << WRAP_BITS)
        }
    }
    /// Row `r`'s identifier's place in `text`.
    fn span(&self, r: usize) -> std::ops::Range<usize> {
        let start = if r == 0 { 0 } else { self.end(r - 1) };
        start..self.end(r)
    }
    pub(crate) fn push(&mut self, id: Option<&str>) {
        let prev = self.text.len();
        if let Some(id) = id {
            self.text.push_str(id);
        }
        self.push_end(prev, self.text.len());
    }
    /// Append the identifiers of the rows after these.
    pub(crate) fn append(&mut self, other: &Ids) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        let mut prev = base;
        for r in 0..other.len() {
            let end = base + other.end(r);
            self.push_end(prev, end);
            prev = end;
        }
    }
    /// Row `r`'s identifier (`None` when missing).
    pub(crate) fn get(&self, r: usize) -> Option<&str> {
        let id = &self.text[self.span(r)];
        (!id.is_empty()).then_some(id)
    }
    /// Row `r`'s identifier as bytes (empty when missing; no UTF-8
    /// boundary checks, for the writers).
    pub(crate) fn bytes(&self, r: usize) -> &[u8] {
        &self.text.as_bytes()[self.span(r)]
    }
    /// Row `r`'s identifier as an owned string (for a problem or exclusion).
    pub(crate) fn owned(&self, r: usize) -> Option<String> {
        self.get(r).map(str::to_string)
    }
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
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
    /// Shared with the Table-1 and Cox variables of the column.
    Number(Arc<super::Numbers>),
    /// Category: code 0 = missing, else `levels[code - 1]`.
    Codes {
        codes: Codes,
        levels: Vec<Label>,
    },
    /// Free text (an identifier: a distinct value per row), in one buffer;
    /// missing = empty. The identifier column shares the rows' identifiers
    /// when they are the same texts.
    Text(Arc<Ids>),
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
    /// A category's value.
    Text(&'a Label),
    /// A free-text column's value.
    Str(&'a str),
}

impl<'a> Cell<'a> {
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Cell::Missing)
    }
    /// The text of a category or free-text cell (`None` for any other).
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            Cell::Text(s) => Some(s.as_str()),
            Cell::Str(s) => Some(s),
            _ => None,
        }
    }
    /// As [`Cell::to_text`], borrowed where the text exists already (yes/no
    /// and categories: no allocation per row).
    pub(crate) fn text(self) -> std::borrow::Cow<'a, str> {
        match self {
            Cell::Missing => std::borrow::Cow::Borrowed(""),
            Cell::YesNo(b) => std::borrow::Cow::Borrowed(yes_no_label(b)),
            other => match other.as_str() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(other.to_text()),
            },
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
            Cell::Str(s) => s.to_string(),
        }
    }
}

thread_local! {
    /// Recently found slots by the address of the name asked for (the
    /// derivation and the analyses ask for the same plan `String`s once per
    /// row): (address, slot + 1); a hit is checked against the name itself.
    static SLOT_CACHE: [std::cell::Cell<(usize, usize)>; 64] =
        const { [const { std::cell::Cell::new((0, 0)) }; 64] };
}

impl Columns {
    pub(crate) fn slot_of(&self, name: &str) -> Option<usize> {
        let key = name.as_ptr() as usize;
        let at = ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize;
        let (k, s) = SLOT_CACHE.with(|c| c[at].get());
        // a hit only counts when this table's column of that slot has
        // exactly this name, so a stale or foreign entry is never used
        if k == key && s > 0 && self.names.get(s - 1).is_some_and(|n| n == name) {
            return Some(s - 1);
        }
        let found = self.slot.get(name).copied();
        if let Some(slot) = found {
            SLOT_CACHE.with(|c| c[at].set((key, slot + 1)));
        }
        found
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
            ColData::Number(v) => v.get(r).map_or(Cell::Missing, Cell::Number),
            ColData::Codes { codes, levels } => match codes.get(r) {
                0 => Cell::Missing,
                c => Cell::Text(&levels[c as usize - 1]),
            },
            ColData::Text(ids) => ids.get(r).map_or(Cell::Missing, Cell::Str),
        }
    }

    /// The code of row `r` when `slot` is a category column (0 = missing).
    pub(crate) fn code_at(&self, slot: Option<usize>, r: usize) -> Option<u32> {
        match &self.data[slot?] {
            ColData::Codes { codes, .. } => Some(codes.get(r)),
            _ => None,
        }
    }

    /// The cell of `slot` in row `r`, `Missing` when the column is not in
    /// the input (`None`).
    pub(crate) fn cell_at(&self, slot: Option<usize>, r: usize) -> Cell<'_> {
        slot.map_or(Cell::Missing, |k| self.cell(k, r))
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
            Cell::Str(s) => Value::Text(s.to_string()),
            Cell::Text(s) => Value::Category(s.to_string()),
        }
    }
}

/// Per-patient labels (a grouping's, a categorical variable's) as 4-byte
/// codes into a table of the distinct labels: `table[0]` is `None`
/// (missing), every other entry a distinct label. Reads like a
/// `Vec<Option<Label>>` (`col[i]`, `iter()`, `len()`); clones share the codes.
/// Every label in the table is some patient's, once: the table is the set of
/// distinct labels present.
#[derive(Clone)]
pub struct LabelColumn {
    codes: Arc<Codes>,
    table: Vec<Option<Label>>,
    /// Text → code, once the table outgrows a short scan (free text).
    index: Option<HashMap<Label, u32>>,
}

/// Table size up to which a label's code is found by scanning.
const SCAN_LABELS: usize = 32;

impl Default for LabelColumn {
    fn default() -> Self {
        LabelColumn::with_capacity(0)
    }
}

impl LabelColumn {
    /// An empty column with room for `n` patients.
    pub fn with_capacity(n: usize) -> Self {
        LabelColumn {
            codes: Arc::new(Codes::with_capacity(n)),
            table: vec![None],
            index: None,
        }
    }

    /// The code of `label`, added to the table when new. The labels of a
    /// derivation are clones of a few interned ones, so the table is
    /// searched by pointer first, then by text; a long table (free text)
    /// by a hash map.
    pub(crate) fn code_of(&mut self, label: Option<&Label>) -> u32 {
        let Some(l) = label else { return 0 };
        if let Some(index) = &mut self.index {
            let next = self.table.len() as u32;
            let c = *index.entry(l.clone()).or_insert(next);
            if c == next {
                self.table.push(Some(l.clone()));
            }
            return c;
        }
        if self.table.len() > SCAN_LABELS {
            let index = self.table[1..]
                .iter()
                .enumerate()
                .filter_map(|(k, t)| Some((t.clone()?, k as u32 + 1)))
                .collect();
            self.index = Some(index);
            return self.code_of(label);
        }
        let found = self.table[1..]
            .iter()
            .position(|t| t.as_ref().is_some_and(|t| Arc::ptr_eq(&t.0, &l.0)))
            .or_else(|| {
                self.table[1..]
                    .iter()
                    .position(|t| t.as_ref().is_some_and(|t| t.as_str() == l.as_str()))
            });
        match found {
            Some(k) => k as u32 + 1,
            None => {
                self.table.push(Some(l.clone()));
                self.table.len() as u32 - 1
            }
        }
    }

    /// The column whose patient i has `labels[codes[i] - 1]` (code 0 =
    /// missing): the codes of a typed column, without a label per patient.
    /// Labels no patient has are left out, equal texts share one entry.
    pub(crate) fn from_codes(codes: Vec<u32>, labels: &[Label]) -> LabelColumn {
        let mut used = vec![false; labels.len() + 1];
        for &c in &codes {
            used[c as usize] = true;
        }
        // the table's code of each typed code (0 stays missing)
        let mut col = LabelColumn::with_capacity(0);
        let mut remap = vec![0u32; labels.len() + 1];
        for (k, l) in labels.iter().enumerate() {
            if used[k + 1] {
                remap[k + 1] = col.code_of(Some(l));
            }
        }
        // the table's codes fit a byte when the labels do
        col.codes = Arc::new(codes.into_iter().map(|c| remap[c as usize]).collect());
        col
    }

    /// Whether patient i has the same label (text) in both, for every i
    /// (whatever the codes and the order of the tables).
    pub(crate) fn same_labels(&self, other: &LabelColumn) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mine: HashMap<Option<&str>, u32> = self
            .table
            .iter()
            .enumerate()
            .map(|(k, l)| (l.as_ref().map(Label::as_str), k as u32))
            .collect();
        // other's code → this column's code of the same text (none: a
        // code no patient here has)
        let remap: Vec<u32> = other
            .table
            .iter()
            .map(|l| {
                mine.get(&l.as_ref().map(Label::as_str))
                    .copied()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        self.codes
            .iter()
            .zip(other.codes.iter())
            .all(|(a, b)| remap[b as usize] == a)
    }

    /// Append one patient's label.
    pub fn push(&mut self, label: Option<&Label>) {
        let c = self.code_of(label);
        Arc::make_mut(&mut self.codes).push(c);
    }

    /// This column's table with `codes` (each one from [`Self::code_of`])
    /// as its patients' labels, replacing any it had.
    pub(crate) fn with_codes(mut self, codes: Codes) -> LabelColumn {
        debug_assert!(codes.iter().all(|c| (c as usize) < self.table.len()));
        self.codes = Arc::new(codes);
        self
    }

    /// Give back the room the growth left over (the column is complete;
    /// codes shared with another column are left as they are).
    pub fn shrink_to_fit(&mut self) {
        if let Some(c) = Arc::get_mut(&mut self.codes) {
            c.shrink_to_fit();
        }
    }

    /// Append every label of `other`, in order.
    pub fn extend_from(&mut self, other: &LabelColumn) {
        let remap: Vec<u32> = other
            .table
            .iter()
            .map(|l| self.code_of(l.as_ref()))
            .collect();
        Arc::make_mut(&mut self.codes).extend(other.codes.iter().map(|c| remap[c as usize]));
    }

    /// The labels of rows `rows`, in that order (the table keeps only the
    /// labels still used).
    pub fn pick(&self, rows: &[usize]) -> LabelColumn {
        let mut used = vec![false; self.table.len()];
        used[0] = true;
        for &r in rows {
            used[self.codes.get(r) as usize] = true;
        }
        let mut table = Vec::new();
        let remap: Vec<u32> = self
            .table
            .iter()
            .zip(&used)
            .map(|(l, &u)| {
                if u {
                    table.push(l.clone());
                }
                table.len() as u32 - 1
            })
            .collect();
        LabelColumn {
            codes: Arc::new(
                rows.iter()
                    .map(|&r| remap[self.codes.get(r) as usize])
                    .collect(),
            ),
            table,
            index: None,
        }
    }

    /// Number of patients.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no patients.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Patient `i`'s label (`None` = missing).
    pub fn get(&self, i: usize) -> Option<&Label> {
        self.table[self.codes.get(i) as usize].as_ref()
    }

    /// The labels in patient order.
    pub fn iter(&self) -> LabelIter<'_> {
        LabelIter {
            codes: self.codes.iter(),
            table: &self.table,
        }
    }

    /// Each patient's code into [`LabelColumn::table`] (0 = missing).
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// The distinct labels; entry 0 is `None` (missing).
    pub fn table(&self) -> &[Option<Label>] {
        &self.table
    }

    /// For each table entry, the index of its label in `levels` (the first
    /// when a level repeats; `None` for missing or a label not among the
    /// levels). Linear in the table and the levels (a free-text column's
    /// table and levels can both be as long as the cohort).
    pub fn table_index(&self, levels: &[String]) -> Vec<Option<usize>> {
        let mut at: HashMap<&str, usize> = HashMap::with_capacity(levels.len());
        for (i, l) in levels.iter().enumerate() {
            at.entry(l.as_str()).or_insert(i);
        }
        self.table
            .iter()
            .map(|l| l.as_ref().and_then(|l| at.get(l.as_str()).copied()))
            .collect()
    }
}

impl std::ops::Index<usize> for LabelColumn {
    type Output = Option<Label>;
    fn index(&self, i: usize) -> &Option<Label> {
        &self.table[self.codes.get(i) as usize]
    }
}

impl FromIterator<Option<Label>> for LabelColumn {
    fn from_iter<I: IntoIterator<Item = Option<Label>>>(it: I) -> Self {
        let it = it.into_iter();
        let mut col = LabelColumn::with_capacity(it.size_hint().0);
        for l in it {
            col.push(l.as_ref());
        }
        col
    }
}

/// The labels of a [`LabelColumn`] in patient order.
#[derive(Clone)]
pub struct LabelIter<'a> {
    codes: CodesIter<'a>,
    table: &'a [Option<Label>],
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = &'a Option<Label>;
    fn next(&mut self) -> Option<&'a Option<Label>> {
        self.codes.next().map(|c| &self.table[c as usize])
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.codes.size_hint()
    }
}

impl ExactSizeIterator for LabelIter<'_> {}

impl<'a> DoubleEndedIterator for LabelIter<'a> {
    fn next_back(&mut self) -> Option<&'a Option<Label>> {
        self.codes.next_back().map(|c| &self.table[c as usize])
    }
}

impl<'a> IntoIterator for &'a LabelColumn {
    type Item = &'a Option<Label>;
    type IntoIter = LabelIter<'a>;
    fn into_iter(self) -> LabelIter<'a> {
        self.iter()
    }
}

impl PartialEq for LabelColumn {
    fn eq(&self, o: &LabelColumn) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

impl fmt::Debug for LabelColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for LabelColumn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod label_column_tests {
    use super::*;

    fn texts(c: &LabelColumn) -> Vec<Option<&str>> {
        c.iter().map(|l| l.as_deref()).collect()
    }

    #[test]
    fn reads_like_the_labels_it_was_given() {
        let (a, b) = (Label::new("a"), Label::new("b"));
        let b2 = Label::new("b"); // same text, another allocation
        let v = [Some(a.clone()), None, Some(b.clone()), Some(b2), Some(a)];
        let c: LabelColumn = v.iter().cloned().collect();
        assert_eq!(c.len(), 5);
        assert_eq!(
            texts(&c),
            vec![Some("a"), None, Some("b"), Some("b"), Some("a")]
        );
        assert_eq!(c[2].as_deref(), Some("b"));
        assert_eq!(c.get(1), None);
        // one table entry per distinct text, missing first
        assert_eq!(c.table().len(), 3);
        assert_eq!(c.codes().iter().collect::<Vec<_>>(), [1, 0, 2, 2, 1]);
        assert_eq!(c.codes().width(), 1);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"["a",null,"b","b","a"]"#
        );
        let levels = vec!["b".to_string(), "a".to_string()];
        assert_eq!(c.table_index(&levels), vec![None, Some(1), Some(0)]);
        // a repeated level maps to its first place; absent labels to None
        let levels = vec![
            "x".to_string(),
            "a".to_string(),
            "x".to_string(),
            "a".to_string(),
        ];
        assert_eq!(c.table_index(&levels), vec![None, Some(1), None]);
    }

    #[test]
    fn extend_and_pick_keep_labels_and_only_used_table_entries() {
        let mk =
            |v: &[Option<&str>]| -> LabelColumn { v.iter().map(|s| s.map(Label::new)).collect() };
        let mut c = mk(&[Some("x"), Some("y")]);
        c.extend_from(&mk(&[Some("z"), None, Some("x")]));
        assert_eq!(
            texts(&c),
            vec![Some("x"), Some("y"), Some("z"), None, Some("x")]
        );
        assert_eq!(c.table().len(), 4);
        let p = c.pick(&[4, 3, 2]);
        assert_eq!(texts(&p), vec![Some("x"), None, Some("z")]);
        // "y" is no patient's label any more: left out of the table
        let mut t: Vec<&str> = p.table().iter().flatten().map(Label::as_str).collect();
        t.sort_unstable();
        assert_eq!(t, vec!["x", "z"]);
        assert_eq!(p, mk(&[Some("x"), None, Some("z")]));
        assert_ne!(p, mk(&[Some("x"), None, Some("y")]));
    }

    #[test]
    fn from_codes_reads_a_typed_columns_codes() {
        let labels = [
            Label::new("a"),
            Label::new("b"),
            Label::new("c"),
            Label::new("a"),
        ];
        let c = LabelColumn::from_codes(vec![2, 0, 4, 1, 2], &labels);
        assert_eq!(
            texts(&c),
            vec![Some("b"), None, Some("a"), Some("a"), Some("b")]
        );
        // "c" is no patient's; the two "a" entries are one
        assert_eq!(c.table().len(), 3);
        let v: Vec<Option<Label>> = c.iter().cloned().collect();
        assert_eq!(c, v.into_iter().collect::<LabelColumn>());
    }

    #[test]
    fn many_distinct_labels_are_found_by_text() {
        // free text: past the scan limit the codes come from a hash map
        let v: Vec<Option<Label>> = (0..1000)
            .map(|i| (i % 7 != 0).then(|| Label::new(&format!("t{}", i % 300))))
            .collect();
        let c: LabelColumn = v.iter().cloned().collect();
        assert!(c.iter().eq(v.iter()));
        let distinct: std::collections::BTreeSet<&str> =
            v.iter().flatten().map(Label::as_str).collect();
        assert_eq!(c.table().len() - 1, distinct.len());
        let mut d = c.pick(&(0..500).collect::<Vec<_>>());
        d.extend_from(&c.pick(&(500..1000).collect::<Vec<_>>()));
        assert_eq!(d, c);
        assert_eq!(d.table().len(), c.table().len());
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    fn columns(names: &[&str]) -> Columns {
        Columns {
            names: names.iter().map(|s| s.to_string()).collect(),
            kinds: vec![ColumnType::Number; names.len()],
            data: names
                .iter()
                .map(|_| ColData::Number(Arc::default()))
                .collect(),
            slot: names
                .iter()
                .enumerate()
                .map(|(k, s)| (s.to_string(), k))
                .collect(),
        }
    }

    #[test]
    fn cached_slots_are_those_of_the_table_asked() {
        // the same name Strings asked of two tables with other slot orders,
        // alternately, and of a table without them: every answer is the
        // table's own (the cache by name address never leaks across tables)
        let a = columns(&["age", "sex", "date"]);
        let b = columns(&["date", "age"]);
        let c = columns(&["other"]);
        let (age, sex, date) = ("age".to_string(), "sex".to_string(), "date".to_string());
        for _ in 0..3 {
            assert_eq!(a.slot_of(&age), Some(0));
            assert_eq!(b.slot_of(&age), Some(1));
            assert_eq!(c.slot_of(&age), None);
            assert_eq!(a.slot_of(&date), Some(2));
            assert_eq!(b.slot_of(&date), Some(0));
            assert_eq!(b.slot_of(&sex), None);
            assert_eq!(a.slot_of(&sex), Some(1));
            // a name at another address (a copy) is found too
            assert_eq!(a.slot_of(age.clone().as_str()), Some(0));
            assert_eq!(a.slot_of("nope"), None);
        }
    }
}

#[cfg(test)]
mod ids_tests {
    use super::*;

    /// Identifiers of every length up to 150 bytes (past 2^WRAP_BITS = 64
    /// in a test build, so one row can pass two multiples), blanks among them.
    fn sample() -> Vec<Option<String>> {
        (0..300)
            .map(|i| match i % 7 {
                0 => None,
                _ => Some("x".repeat((i * 13) % 151) + &i.to_string()),
            })
            .collect()
    }

    fn built(ids: &[Option<String>]) -> Ids {
        let mut b = Ids::default();
        for id in ids {
            b.push(id.as_deref());
        }
        b
    }

    #[test]
    fn each_row_reads_back_its_identifier_past_every_wrap() {
        let ids = sample();
        let b = built(&ids);
        assert!(b.wraps.len() > 100, "the text passes many multiples of 64");
        assert_eq!(b.len(), ids.len());
        for (r, id) in ids.iter().enumerate() {
            assert_eq!(b.get(r), id.as_deref(), "row {r}");
            assert_eq!(b.bytes(r), id.as_deref().unwrap_or("").as_bytes());
        }
        // before the first wrap: the fast path
        let small = built(&[Some("ab".into()), None, Some("c".into())]);
        assert!(small.wraps.is_empty());
        assert_eq!(
            (0..3).map(|r| small.get(r)).collect::<Vec<_>>(),
            [Some("ab"), None, Some("c")]
        );
    }

    #[test]
    fn two_halves_appended_equal_one_pass() {
        let ids = sample();
        let one = built(&ids);
        for cut in [0, 1, 5, 150, 299, 300] {
            let mut a = built(&ids[..cut]);
            a.append(&built(&ids[cut..]));
            assert_eq!(a, one, "cut at {cut}");
        }
    }
}
