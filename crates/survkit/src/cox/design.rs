//! Model matrix for Cox regression: numeric columns and treatment-coded factors.
//!
//! A factor with levels `l₁ < l₂ < … < l_k` (first level = reference) becomes
//! k − 1 indicator columns named `<column><level>`, as R's default
//! `contr.treatment` names them (`celltypeadeno`, `factor(ph.ecog)2` in R when
//! written as `factor(ph.ecog)`). Levels are sorted numerically when every
//! label is a number, otherwise by byte order (R's C-locale `sort`), unless an
//! explicit order is given.

use serde::Serialize;

/// Named numeric columns of the model matrix.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Design {
    /// Column names (R `colnames(model.matrix)`), aligned with `columns`.
    pub names: Vec<String>,
    /// Column values, one vector per name, each with one value per observation.
    pub columns: Vec<Vec<f64>>,
}

/// Sort factor levels as R's `factor()` would by default.
pub fn sorted_levels<'a, I: IntoIterator<Item = &'a str>>(labels: I) -> Vec<String> {
    let mut lv: Vec<&str> = labels.into_iter().collect();
    lv.sort_unstable();
    lv.dedup();
    sorted_order(&lv)
        .into_iter()
        .map(|k| lv[k].to_string())
        .collect()
}

/// The order [`sorted_levels`] puts distinct `labels` in, as a permutation:
/// `labels[out[0]]` is the first level. Byte order, then — when every label
/// is a number — a stable numeric sort; each label is parsed once
/// (O(n log n) comparisons of numbers, not of re-parsed strings).
pub fn sorted_order(labels: &[&str]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    idx.sort_by(|&a, &b| labels[a].cmp(labels[b]));
    let nums: Option<Vec<f64>> = labels
        .iter()
        .map(|s| s.trim().parse::<f64>().ok())
        .collect();
    if let Some(v) = nums {
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    }
    idx
}

impl Design {
    /// Design from numeric columns.
    pub fn from_numeric(cols: Vec<(String, Vec<f64>)>) -> Design {
        let mut d = Design::default();
        for (n, c) in cols {
            d.add_numeric(&n, c);
        }
        d
    }

    /// Add a numeric covariate.
    pub fn add_numeric(&mut self, name: &str, values: Vec<f64>) {
        self.names.push(name.to_string());
        self.columns.push(values);
    }

    /// Add a factor with treatment contrasts. `levels` fixes the order (first =
    /// reference); `None` sorts the observed labels as R does. Returns the levels used.
    pub fn add_factor(
        &mut self,
        name: &str,
        labels: &[&str],
        levels: Option<&[String]>,
    ) -> Vec<String> {
        let lv: Vec<String> = match levels {
            Some(l) => l.to_vec(),
            None => sorted_levels(labels.iter().copied()),
        };
        for level in lv.iter().skip(1) {
            self.names.push(format!("{name}{level}"));
            self.columns.push(
                labels
                    .iter()
                    .map(|l| if l == level { 1.0 } else { 0.0 })
                    .collect(),
            );
        }
        lv
    }

    /// [`Design::add_factor`] of the labels `labels[index[i]]` with the
    /// given `levels` (the first is the reference), without a label per
    /// row: row i is 1 in the column of every non-reference level equal to
    /// its label, as `add_factor` codes it. `index` values must be below
    /// `labels.len()`.
    pub fn add_factor_indexed(
        &mut self,
        name: &str,
        index: &[usize],
        labels: &[String],
        levels: &[String],
    ) {
        for level in levels.iter().skip(1) {
            let is: Vec<f64> = labels
                .iter()
                .map(|l| if l == level { 1.0 } else { 0.0 })
                .collect();
            self.names.push(format!("{name}{level}"));
            self.columns.push(index.iter().map(|&k| is[k]).collect());
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when the design has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_order_numeric_then_bytes() {
        // numbers: numeric order; equal numbers keep byte order ("1" < "1.0")
        assert_eq!(
            sorted_levels(["10", "2", "1.0", "1", "2", " 3"]),
            vec!["1", "1.0", "2", " 3", "10"]
        );
        // any non-number: byte order
        assert_eq!(
            sorted_levels(["b", "B", "10", "2"]),
            vec!["10", "2", "B", "b"]
        );
        let labels = ["10", "2", "1"];
        assert_eq!(sorted_order(&labels), vec![2, 1, 0]);
    }

    #[test]
    fn indexed_factor_is_the_factor_of_its_labels() {
        let labels: Vec<String> = ["b", "a", "c", "a2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let index = [0, 1, 1, 2, 0, 3, 2];
        let levels: Vec<String> = ["c", "a", "b"].iter().map(|s| s.to_string()).collect();
        let text: Vec<&str> = index.iter().map(|&k| labels[k].as_str()).collect();
        let mut d = Design::default();
        d.add_factor("g", &text, Some(&levels));
        let mut e = Design::default();
        e.add_factor_indexed("g", &index, &labels, &levels);
        assert_eq!(d, e);
        assert_eq!(e.names, vec!["ga", "gb"]);
        assert_eq!(e.columns[0], vec![0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn factor_coding_matches_r_names() {
        let mut d = Design::default();
        let lv = d.add_factor("celltype", &["squamous", "adeno", "large", "adeno"], None);
        assert_eq!(lv, vec!["adeno", "large", "squamous"]);
        assert_eq!(d.names, vec!["celltypelarge", "celltypesquamous"]);
        assert_eq!(d.columns[0], vec![0.0, 0.0, 1.0, 0.0]);
        let mut e = Design::default();
        e.add_factor("ecog", &["10", "2", "1"], None);
        assert_eq!(e.names, vec!["ecog2", "ecog10"]);
    }
}
