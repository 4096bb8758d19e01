//! Table 1: baseline characteristics overall and by a grouping.
//!
//! Categorical variables: n (%) per level, percentages of the non-missing.
//! Test: Fisher's exact test (any r × c, R `fisher.test`) when any expected
//! count is below 5, otherwise Pearson's chi-square (R `chisq.test`, with
//! Yates' continuity correction for 2 × 2 tables as R does by default) — the
//! rule gtsummary and most journals follow. Continuous variables: median
//! (range) and IQR; Wilcoxon rank-sum test for two groups (R `wilcox.test`
//! defaults: exact when both n < 50 and no ties, otherwise normal
//! approximation with continuity correction), Kruskal–Wallis for more.
//!
//! Large tables: Fisher's exact test is attempted only on tables of at most
//! [`MAX_FISHER_CELLS`] cells (after dropping empty rows and columns); a
//! larger table gets the chi-square test with a note saying so (R's
//! `fisher.test` also fails on such tables, and the exact network grows
//! about cubically with the number of levels). A categorical variable with
//! more than [`MAX_LEVELS`] levels, or as many levels as patients, is
//! flagged as probably an identifier or free text.

use serde::Serialize;
use survkit::hypothesis::chisq::{chisq_test, ChisqOptions};
use survkit::hypothesis::fisher::fisher_test;
use survkit::hypothesis::kruskal::kruskal_test;
use survkit::hypothesis::wilcoxon::{wilcoxon_test, WilcoxonOptions};

use crate::derive::{VariableData, VariableValues};

/// The test used for a row of Table 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TestSummary {
    /// e.g. "Fisher's exact test", "Pearson's chi-square test with Yates' continuity correction".
    pub method: String,
    /// Test statistic (`None` for an exact test without one).
    pub statistic: Option<f64>,
    /// Degrees of freedom (`None` when the test has none).
    pub df: Option<f64>,
    /// p-value (`None` when the test cannot be computed).
    pub p: Option<f64>,
    /// Why the test was chosen or not computed.
    pub note: Option<String>,
}

/// n (%) of one level.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelCount {
    /// The level.
    pub level: String,
    /// Patients with the level.
    pub n: usize,
    /// Percent of the non-missing values.
    pub pct: Option<f64>,
    /// Per group, in group-level order.
    pub by: Vec<GroupCount>,
}

/// n (%) within one group of a breakdown; serialised as the pair
/// `[n, pct]` (results.json's shape).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupCount {
    /// Patients in the group with the level.
    pub n: usize,
    /// Percent of the group's non-missing values (null when it has none).
    pub pct: Option<f64>,
}

impl Serialize for GroupCount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.n, self.pct).serialize(s)
    }
}

/// Median, quartiles and range.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NumSummary {
    /// Patients with a value.
    pub n: usize,
    /// Median (`None` without values).
    pub median: Option<f64>,
    /// First quartile (R type-7).
    pub q1: Option<f64>,
    /// Third quartile (R type-7).
    pub q3: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// One variable of Table 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table1Row {
    /// Variable name (plan key).
    pub variable: String,
    /// Label as displayed.
    pub label: String,
    /// `categorical` or `continuous`.
    pub kind: &'static str,
    /// Patients with the variable missing.
    pub missing: usize,
    /// Missing per `by` level.
    pub missing_by: Vec<usize>,
    /// Counts per level (categorical rows).
    pub levels: Vec<LevelCount>,
    /// Overall summary (continuous rows).
    pub summary: Option<NumSummary>,
    /// Summary per `by` level (continuous rows).
    pub summary_by: Vec<NumSummary>,
    /// Test of the difference between the `by` levels.
    pub test: Option<TestSummary>,
}

/// Table 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table1 {
    /// Grouping of the columns (plan name).
    pub by: String,
    /// Label of the grouping as displayed.
    pub by_label: String,
    /// Levels of the grouping, in level order.
    pub by_levels: Vec<String>,
    /// Patients in the table.
    pub n: usize,
    /// Patients per `by` level.
    pub n_by: Vec<usize>,
    /// Patients with a missing `by` label (in the overall column only).
    pub n_by_missing: usize,
    /// One row per variable, in plan order.
    pub rows: Vec<Table1Row>,
}

/// R's default quantile (type 7).
fn quantile7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Median, quartiles and range of the values.
///
/// `values` are the non-missing values (any order); quartiles use R's
/// default quantile (type 7). Empty input gives n = 0 and `None` statistics.
/// Never panics.
pub fn num_summary(values: &[f64]) -> NumSummary {
    let mut v: Vec<f64> = values.to_vec();
    // equal under total_cmp is equal in bits: the unstable sort gives the
    // same sequence
    v.sort_unstable_by(f64::total_cmp);
    if v.is_empty() {
        return NumSummary {
            n: 0,
            median: None,
            q1: None,
            q3: None,
            min: None,
            max: None,
        };
    }
    NumSummary {
        n: v.len(),
        median: Some(quantile7(&v, 0.5)),
        q1: Some(quantile7(&v, 0.25)),
        q3: Some(quantile7(&v, 0.75)),
        min: v.first().copied(),
        max: v.last().copied(),
    }
}

/// Largest table (cells, after dropping empty rows and columns) on which
/// Fisher's exact test is attempted; larger tables get the chi-square test.
pub const MAX_FISHER_CELLS: usize = 100;

/// Most levels a categorical variable or grouping is analysed with before it
/// is treated as probably an identifier or free text.
pub const MAX_LEVELS: usize = 50;

/// A warning when a categorical variable has implausibly many levels: more
/// than [`MAX_LEVELS`], or one per patient (at least 10 patients).
///
/// `None` when the variable looks like a category. Never panics.
pub fn free_text_warning(name: &str, n_levels: usize, n_patients: usize) -> Option<String> {
    let per_patient = n_patients >= 10 && n_levels >= n_patients;
    (n_levels > MAX_LEVELS || per_patient).then(|| {
        format!(
            "'{}' has {n_levels} distinct values among {n_patients} patients{}: probably an identifier or free text, not a category",
            crate::ingest::clip(name),
            if per_patient { " (one per patient)" } else { "" }
        )
    })
}

/// Choose and run the test of an r × c table (rows = variable levels, cols = groups).
///
/// Contract: every row has one count per group (same length; a ragged table
/// panics). Empty rows and columns are dropped first. Output: Fisher's exact
/// test when an expected count is below 5 and the table has at most
/// [`MAX_FISHER_CELLS`] cells, otherwise Pearson's chi-square (with a `note`
/// when it stands in for Fisher). `None` when fewer than two non-empty rows
/// or columns remain, or the test cannot be computed.
pub fn categorical_test(table: &[Vec<u64>]) -> Option<TestSummary> {
    // drop empty rows and columns (R would fail on them)
    let rows: Vec<Vec<u64>> = table
        .iter()
        .filter(|r| r.iter().sum::<u64>() > 0)
        .cloned()
        .collect();
    if rows.len() < 2 {
        return None;
    }
    let ncol = rows[0].len();
    let keep_cols: Vec<usize> = (0..ncol)
        .filter(|&j| rows.iter().map(|r| r[j]).sum::<u64>() > 0)
        .collect();
    if keep_cols.len() < 2 {
        return None;
    }
    let t: Vec<Vec<u64>> = rows
        .iter()
        .map(|r| keep_cols.iter().map(|&j| r[j]).collect())
        .collect();
    let total: u64 = t.iter().flatten().sum();
    let rs: Vec<u64> = t.iter().map(|r| r.iter().sum()).collect();
    let cs: Vec<u64> = (0..keep_cols.len())
        .map(|j| t.iter().map(|r| r[j]).sum())
        .collect();
    let small = rs
        .iter()
        .any(|&r| cs.iter().any(|&c| (r * c) as f64 / (total as f64) < 5.0));
    if small && t.len() * keep_cols.len() > MAX_FISHER_CELLS {
        let mut c = chisq_summary(&t)?;
        let why = format!(
            "expected counts below 5, but Fisher's exact test is not attempted on a {} × {} table (more than {MAX_FISHER_CELLS} cells); chi-square shown, approximate",
            t.len(),
            keep_cols.len()
        );
        c.note = Some(match c.note {
            Some(n) => format!("{why}; {n}"),
            None => why,
        });
        return Some(c);
    }
    if small {
        match fisher_test(&t) {
            Ok(f) => {
                return Some(TestSummary {
                    method: "Fisher's exact test".into(),
                    statistic: None,
                    df: None,
                    p: Some(f.p_value),
                    note: None,
                })
            }
            Err(e) => {
                let mut c = chisq_summary(&t)?;
                c.note = Some(format!(
                    "expected counts below 5, but Fisher's exact test was not feasible ({e}); chi-square shown"
                ));
                return Some(c);
            }
        }
    }
    chisq_summary(&t)
}

fn chisq_summary(t: &[Vec<u64>]) -> Option<TestSummary> {
    let r = chisq_test(t, &ChisqOptions::default()).ok()?;
    Some(TestSummary {
        method: if r.correction {
            "Pearson's chi-square test with Yates' continuity correction".into()
        } else {
            "Pearson's chi-square test".into()
        },
        statistic: Some(r.statistic),
        df: Some(r.df),
        p: Some(r.p_value),
        note: r.warning,
    })
}

/// Wilcoxon rank-sum (2 groups) or Kruskal–Wallis (more) on continuous values.
///
/// `groups[g]` holds the non-missing values of group g; empty groups are
/// ignored. `None` when fewer than two groups have values, or the test
/// cannot be computed. Never panics.
pub fn continuous_test(groups: &[Vec<f64>]) -> Option<TestSummary> {
    let nonempty: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    if nonempty.len() < 2 {
        return None;
    }
    if nonempty.len() == 2 {
        let r = wilcoxon_test(nonempty[0], nonempty[1], &WilcoxonOptions::default()).ok()?;
        return Some(TestSummary {
            method: format!("Wilcoxon rank-sum test ({})", r.method),
            statistic: Some(r.w),
            df: None,
            p: Some(r.p_value),
            note: r.warning,
        });
    }
    let refs: Vec<&[f64]> = nonempty.iter().map(|g| g.as_slice()).collect();
    let r = kruskal_test(&refs).ok()?;
    Some(TestSummary {
        method: "Kruskal-Wallis rank-sum test".into(),
        statistic: Some(r.statistic),
        df: Some(r.df),
        p: Some(r.p_value),
        note: None,
    })
}

/// Build Table 1 for `vars` by the per-patient group index `by` (None = missing).
///
/// Contract: each variable's values are aligned with `by` (value i and
/// `by[i]` are the same patient; `by` must be at least as long) and every
/// `by` index is below `by_levels.len()`. The variable named `by_name` is
/// left out. Output: per variable, counts (categorical) or
/// median/quartiles/range (continuous) overall and per group, missing counts,
/// and the group comparison test (`None` when not computable). Never fails.
pub fn table1(
    vars: &[VariableData],
    by_name: &str,
    by_label: &str,
    by_levels: &[String],
    by: &[Option<usize>],
) -> Table1 {
    let k = by_levels.len();
    let n = by.len();
    let n_by: Vec<usize> = (0..k)
        .map(|l| by.iter().filter(|&&b| b == Some(l)).count())
        .collect();
    let rows = vars
        .iter()
        .filter(|v| v.name != by_name)
        .map(|v| match &v.values {
            VariableValues::Categorical { levels, values } => {
                let mut table = vec![vec![0u64; k]; levels.len()];
                let mut counts = vec![0usize; levels.len()];
                let mut missing = 0;
                let mut missing_by = vec![0usize; k];
                // each label-table entry's level, then the rows by code
                let of_code = values.table_index(levels);
                for (i, c) in values.codes().iter().enumerate() {
                    match of_code[c as usize] {
                        Some(li) => {
                            counts[li] += 1;
                            if let Some(b) = by[i] {
                                table[li][b] += 1;
                            }
                        }
                        None => {
                            missing += 1;
                            if let Some(b) = by[i] {
                                missing_by[b] += 1;
                            }
                        }
                    }
                }
                let nonmiss = n - missing;
                let col_tot: Vec<u64> = (0..k).map(|b| table.iter().map(|r| r[b]).sum()).collect();
                let pct = |a: usize, tot: u64| {
                    if tot > 0 {
                        Some(100.0 * a as f64 / tot as f64)
                    } else {
                        None
                    }
                };
                let mut test = categorical_test(&table);
                let used = counts.iter().filter(|&&c| c > 0).count();
                if let Some(w) = free_text_warning(&v.name, used, nonmiss) {
                    if let Some(t) = &mut test {
                        t.note = Some(match t.note.take() {
                            Some(n) => format!("{w}; {n}"),
                            None => w,
                        });
                    }
                }
                Table1Row {
                    variable: v.name.clone(),
                    label: v.label.clone(),
                    kind: "categorical",
                    missing,
                    missing_by,
                    levels: levels
                        .iter()
                        .enumerate()
                        .map(|(li, l)| LevelCount {
                            level: l.clone(),
                            n: counts[li],
                            pct: pct(counts[li], nonmiss as u64),
                            by: (0..k)
                                .map(|b| GroupCount {
                                    n: table[li][b] as usize,
                                    pct: pct(table[li][b] as usize, col_tot[b]),
                                })
                                .collect(),
                        })
                        .collect(),
                    summary: None,
                    summary_by: vec![],
                    test,
                }
            }
            VariableValues::Continuous { values } => {
                // the overall summary first, its copy of the values freed
                // before the groups' copies are made (one copy held at a
                // time: 8 bytes a patient less at the test's peak)
                let summary = {
                    let all: Vec<f64> = values.iter().flatten().collect();
                    Some(num_summary(&all))
                };
                // each group's values, allocated at their number
                let mut size = vec![0usize; k];
                for (val, b) in values.iter().zip(by) {
                    if let (Some(_), Some(b)) = (val, b) {
                        size[*b] += 1;
                    }
                }
                let mut groups: Vec<Vec<f64>> =
                    size.iter().map(|&m| Vec::with_capacity(m)).collect();
                let mut missing_by = vec![0usize; k];
                for (i, val) in values.iter().enumerate() {
                    if let Some(b) = by[i] {
                        match val {
                            Some(x) => groups[b].push(x),
                            None => missing_by[b] += 1,
                        }
                    }
                }
                Table1Row {
                    variable: v.name.clone(),
                    label: v.label.clone(),
                    kind: "continuous",
                    missing: values.iter().filter(|x| x.is_none()).count(),
                    missing_by,
                    levels: vec![],
                    summary,
                    summary_by: groups.iter().map(|g| num_summary(g)).collect(),
                    test: continuous_test(&groups),
                }
            }
        })
        .collect();
    Table1 {
        by: by_name.to_string(),
        by_label: by_label.to_string(),
        by_levels: by_levels.to_vec(),
        n,
        n_by,
        n_by_missing: by.iter().filter(|b| b.is_none()).count(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_r_type7() {
        // quantile(c(1,2,3,4,10), c(.25,.5,.75)) = 2, 3, 4
        let s = num_summary(&[10.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.q1, s.median, s.q3), (Some(2.0), Some(3.0), Some(4.0)));
        // quantile(1:4, .5) = 2.5
        assert_eq!(num_summary(&[1.0, 2.0, 3.0, 4.0]).median, Some(2.5));
    }

    #[test]
    fn small_expected_counts_choose_fisher() {
        let t = categorical_test(&[vec![3, 1], vec![1, 3]]).unwrap();
        assert_eq!(t.method, "Fisher's exact test");
        // fisher.test(matrix(c(3,1,1,3),2)) p = 0.4857143
        assert!((t.p.unwrap() - 0.4857142857142857).abs() < 1e-9);
        let big = categorical_test(&[vec![30, 10], vec![10, 30]]).unwrap();
        assert!(big.method.starts_with("Pearson"));
    }

    #[test]
    fn large_sparse_tables_use_chi_square_and_say_so() {
        // one patient per level (free text): 2000 x 2, all expected counts < 5
        let t: Vec<Vec<u64>> = (0..2000)
            .map(|i| if i % 2 == 0 { vec![1, 0] } else { vec![0, 1] })
            .collect();
        let start = std::time::Instant::now();
        let r = categorical_test(&t).unwrap();
        assert!(start.elapsed().as_secs_f64() < 1.0);
        assert!(r.method.starts_with("Pearson"), "{}", r.method);
        assert!(r
            .note
            .as_deref()
            .unwrap()
            .contains("not attempted on a 2000 × 2 table"));
        // R: chisq.test(cbind(rep(c(1,0),1000), rep(c(0,1),1000))) X-squared = 2000, df = 1999
        assert_eq!(r.df, Some(1999.0));
        assert!((r.statistic.unwrap() - 2000.0).abs() < 1e-9);
        // a table at the limit still gets Fisher, as before
        let small: Vec<Vec<u64>> = (0..50)
            .map(|i| if i % 2 == 0 { vec![1, 0] } else { vec![0, 1] })
            .collect();
        assert_eq!(
            categorical_test(&small).unwrap().method,
            "Fisher's exact test"
        );
        assert!(free_text_warning("x", 300, 300)
            .unwrap()
            .contains("one per patient"));
        assert!(free_text_warning("x", 51, 1000).is_some());
        assert!(free_text_warning("x", 5, 300).is_none());
        assert!(free_text_warning("x", 3, 3).is_none());
    }
}
