//! Table 1: baseline characteristics overall and by the plan's grouping.

#[allow(unused_imports)]
use crate::report::study::*;

/// Superscript letters marking the test of each p-value, in order of first use.
const TEST_MARKS: [char; 8] = [
    '\u{1d43}', '\u{1d47}', '\u{1d9c}', '\u{1d48}', '\u{1d49}', '\u{1da0}', '\u{1d4d}', '\u{02b0}',
];
/// The same letters in the footnote.
const TEST_LETTERS: [char; 8] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/// The tests met while filling Table 1 (in order of first use) and their
/// notes, for the footnote.
#[derive(Default)]
struct Table1Tests {
    methods: Vec<String>,
    notes: Vec<String>,
}

impl Builder<'_> {
    pub(crate) fn table1_section(&mut self, t: &Table1) -> Section {
        let k = t.by_levels.len();
        let mut tests = Table1Tests::default();
        let mut body: Vec<Vec<Cell>> = Vec::new();
        for row in &t.rows {
            let p_cell = self.table1_p_cell(row, &mut tests);
            match &row.summary {
                Some(s) => body.extend(self.table1_numeric_rows(row, s, k, p_cell)),
                None => body.extend(self.table1_level_rows(row, k, p_cell)),
            }
            if row.missing > 0 {
                let f = &self.f;
                let mut r = vec![
                    Cell::indented("Unknown", 1),
                    Cell::from(f.count(row.missing)),
                ];
                for b in 0..k {
                    r.push(Cell::from(
                        f.count(row.missing_by.get(b).copied().unwrap_or(0)),
                    ));
                }
                r.push(Cell::default());
                body.push(r);
            }
        }
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Center, k + 1));
        align.push(Align::Right);
        Section {
            heading: "Baseline characteristics".to_string(),
            blocks: vec![Block::Table(Table {
                caption: format!("Patient characteristics overall and by {}.", t.by_label),
                header: self.table1_header(t),
                body,
                footnote: Some(self.table1_footnote(t, tests)),
                align,
            })],
        }
    }

    /// The two header rows: the grouping spanner, then the columns with N.
    fn table1_header(&self, t: &Table1) -> Vec<Vec<Cell>> {
        let f = &self.f;
        let mut header0 = vec![Cell::from(""), Cell::from("")];
        header0.push(Cell::spanning(t.by_label.clone(), t.by_levels.len() as u32));
        header0.push(Cell::from(""));
        let mut header1 = vec![
            Cell::from("Characteristic"),
            Cell::from(format!("Overall, N = {}", f.count(t.n))),
        ];
        for (i, l) in t.by_levels.iter().enumerate() {
            header1.push(Cell::from(format!(
                "{l}, N = {}",
                f.count(t.n_by.get(i).copied().unwrap_or(0))
            )));
        }
        header1.push(Cell::from("p-value"));
        vec![header0, header1]
    }

    /// The p-value of a row with the mark of its test (a dash without a
    /// test); records the test and its note in `tests`.
    fn table1_p_cell(
        &self,
        row: &crate::analysis::table1::Table1Row,
        tests: &mut Table1Tests,
    ) -> String {
        let Some(test) = &row.test else {
            return "\u{2014}".to_string();
        };
        let idx = match tests.methods.iter().position(|m| m == &test.method) {
            Some(i) => i,
            None => {
                tests.methods.push(test.method.clone());
                tests.methods.len() - 1
            }
        };
        if let Some(n) = &test.note {
            tests.notes.push(format!("{}: {n}", row.label));
        }
        let mark = TEST_MARKS
            .get(idx)
            .map(|c| c.to_string())
            .unwrap_or_default();
        format!("{}{mark}", self.f.p(test.p))
    }

    /// A continuous row: median (IQR) with the p-value, then the range.
    fn table1_numeric_rows(
        &self,
        row: &crate::analysis::table1::Table1Row,
        s: &NumSummary,
        k: usize,
        p_cell: String,
    ) -> [Vec<Cell>; 2] {
        let st = stat_fn(std::iter::once(s).chain(&row.summary_by));
        let mut r1 = vec![
            Cell::bold(format!("{}, median (IQR)", row.label)),
            Cell::from(iqr(s, st)),
        ];
        for b in 0..k {
            r1.push(Cell::from(
                row.summary_by
                    .get(b)
                    .map(|x| iqr(x, st))
                    .unwrap_or_default(),
            ));
        }
        r1.push(Cell::from(p_cell));
        let mut r2 = vec![Cell::indented("Range", 1), Cell::from(range(s, st))];
        for b in 0..k {
            r2.push(Cell::from(
                row.summary_by
                    .get(b)
                    .map(|x| range(x, st))
                    .unwrap_or_default(),
            ));
        }
        r2.push(Cell::default());
        [r1, r2]
    }

    /// A categorical row: the variable with the p-value, then n (%) per level.
    fn table1_level_rows(
        &self,
        row: &crate::analysis::table1::Table1Row,
        k: usize,
        p_cell: String,
    ) -> Vec<Vec<Cell>> {
        let f = &self.f;
        let mut r = vec![Cell::bold(format!("{}, n (%)", row.label))];
        r.extend((0..k + 1).map(|_| Cell::default()));
        r.push(Cell::from(p_cell));
        let mut rows = vec![r];
        for l in &row.levels {
            let mut r = vec![
                Cell::indented(l.level.clone(), 1),
                Cell::from(f.n_pct(l.n, l.pct)),
            ];
            for b in 0..k {
                let crate::analysis::table1::GroupCount { n, pct: p } =
                    l.by.get(b).copied().unwrap_or_default();
                r.push(Cell::from(f.n_pct(n, p)));
            }
            r.push(Cell::default());
            rows.push(r);
        }
        rows
    }

    /// The footnote: the statistics, the tests by letter, patients with an
    /// unknown group, the tests' notes and small-cell suppression.
    fn table1_footnote(&self, t: &Table1, tests: Table1Tests) -> String {
        let f = &self.f;
        let mut foot = vec![
            "n (%): percentages of patients with a known value. Median (IQR): interquartile range from R's type-7 quantiles."
                .to_string(),
        ];
        for (i, m) in tests.methods.iter().enumerate() {
            foot.push(format!(
                "{}: {m}",
                TEST_LETTERS.get(i).copied().unwrap_or('?')
            ));
        }
        if t.n_by_missing > 0 {
            foot.push(format!(
                "{} patients with unknown {} are counted in the Overall column only.",
                f.count(t.n_by_missing),
                t.by_label
            ));
        }
        foot.extend(tests.notes);
        if let Some(b) = self.opts.suppress_below {
            foot.push(format!(
                "Counts from 1 to {} are shown as <{b}.",
                b.saturating_sub(1)
            ));
        }
        foot.join("\n")
    }
}

/// Formatter of one Table-1 row: whole numbers when every statistic of
/// the row (overall and by group) is a whole number (counts, scores),
/// otherwise two significant figures, so that a row never mixes styles.
pub(crate) fn stat_fn<'a>(all: impl IntoIterator<Item = &'a NumSummary>) -> fn(f64) -> String {
    let all_int = all.into_iter().all(|s| {
        [s.median, s.q1, s.q3, s.min, s.max]
            .iter()
            .flatten()
            .all(|x| x.fract() == 0.0 && x.abs() < 1e15)
    });
    if all_int {
        |x| format!("{x:.0}")
    } else {
        stat
    }
}

pub(crate) fn iqr(s: &NumSummary, stat: fn(f64) -> String) -> String {
    match (s.median, s.q1, s.q3) {
        (Some(m), Some(a), Some(b)) => format!("{} ({}\u{2013}{})", stat(m), stat(a), stat(b)),
        _ => "\u{2014}".to_string(),
    }
}

pub(crate) fn range(s: &NumSummary, stat: fn(f64) -> String) -> String {
    match (s.min, s.max) {
        (Some(a), Some(b)) => format!("{}\u{2013}{}", stat(a), stat(b)),
        _ => "\u{2014}".to_string(),
    }
}

/// Rows of `tables/table1.csv` for a continuous variable, formatted as in
/// the HTML Table 1: `("median (IQR)", overall, by group…)` and
/// `("range", …)`.
pub(crate) fn csv_continuous(
    s: &NumSummary,
    by: &[NumSummary],
) -> Vec<(String, String, Vec<String>)> {
    let st = stat_fn(std::iter::once(s).chain(by));
    vec![
        (
            "median (IQR)".to_string(),
            iqr(s, st),
            by.iter().map(|x| iqr(x, st)).collect(),
        ),
        (
            "range".to_string(),
            range(s, st),
            by.iter().map(|x| range(x, st)).collect(),
        ),
    ]
}

/// `n (%)` of `tables/table1.csv`, rounded as in the HTML Table 1.
pub(crate) fn csv_n_pct(n: usize, pct: Option<f64>) -> String {
    match pct {
        Some(p) if p.is_finite() => format!("{n} ({})", pct_text(p)),
        _ => n.to_string(),
    }
}
