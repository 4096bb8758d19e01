//! Matching the plan's columns to the file's header, and what to say when
//! a column is not there: where the plan uses it, the closest headers in
//! the file (edit distance and shared words), and how to map it.

use crate::ingest::Input;
use crate::plan::{ColumnSpec, Plan};

/// Levenshtein distance between two strings (by chars).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Dissimilarity of a wanted name and a header: normalised edit distance
/// (ignoring separators and case), reduced by the share of common words.
fn dissimilarity(want: &str, header: &str) -> f64 {
    let (ww, hw) = (words(want), words(header));
    let (a, b) = (ww.concat(), hw.concat());
    if b.is_empty() {
        return f64::INFINITY;
    }
    let d = edit_distance(&a, &b) as f64 / a.chars().count().max(b.chars().count()) as f64;
    let shared = ww.iter().filter(|w| w.len() > 1 && hw.contains(w)).count();
    d - 0.5 * shared as f64 / ww.len().max(hw.len()).max(1) as f64
}

/// Up to three headers of the file closest to the column's name or aliases
/// (only reasonably close ones).
pub(crate) fn closest_headers(spec: &ColumnSpec, headers: &[String]) -> Vec<String> {
    let mut scored: Vec<(f64, &String)> = headers
        .iter()
        .map(|h| {
            let s = std::iter::once(&spec.name)
                .chain(&spec.aliases)
                .map(|n| dissimilarity(n, h))
                .fold(f64::INFINITY, f64::min);
            (s, h)
        })
        .filter(|(s, _)| *s < 0.6)
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, h)| h.trim().to_string())
        .collect()
}

/// Whether the plan could let this column be absent (no endpoint, cohort
/// or always-in-model use).
fn may_be_made_absent(uses: &[String]) -> bool {
    !uses.iter().any(|u| {
        u.starts_with("study.")
            || u.starts_with("endpoints[")
            || u.starts_with("competing_risks[")
            || u.starts_with("filters[")
            || u == "analysis.cox_covariates"
    })
}

/// The message for a plan column that is not in the header.
pub(crate) fn missing_column_message(plan: &Plan, spec: &ColumnSpec, table: &Input) -> String {
    let uses = plan.column_uses(&spec.name);
    let mut m = format!("column '{}' is not in the header", spec.name);
    if let Some(sheet) = table.sheet() {
        m.push_str(&format!(" of sheet '{sheet}'"));
        let others: Vec<String> = table
            .sheets()
            .iter()
            .filter(|s| *s != sheet)
            .map(|s| format!("'{s}'"))
            .collect();
        if !others.is_empty() {
            m.push_str(&format!(
                " (the workbook's other sheets: {}; choose one with --sheet)",
                others.join(", ")
            ));
        }
    }
    if uses.is_empty() {
        m.push_str("; the plan declares it in [[columns]]");
    } else {
        m.push_str(&format!("; the plan uses it in {}", uses.join(", ")));
    }
    let close = closest_headers(spec, table.headers());
    let example = close.first().cloned().unwrap_or_else(|| "HEADER".into());
    if close.is_empty() {
        m.push_str("; no header of the file is similar");
    } else {
        let q: Vec<String> = close.iter().map(|h| format!("'{h}'")).collect();
        m.push_str(&format!("; closest headers in the file: {}", q.join(", ")));
    }
    m.push_str(&format!(
        ". Map it with aliases = [\"{example}\"] in the plan's [[columns]] entry for '{}' (survstudy plan --print shows the built-in plan to copy and edit), or rename the header",
        spec.name
    ));
    if may_be_made_absent(&uses) {
        m.push_str(", or, if files may lack this column, set presence = \"may_be_absent\"");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ColumnType, Presence};

    fn spec(name: &str) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            kind: ColumnType::Date,
            presence: Presence::Optional,
            label: None,
            levels: vec![],
            aliases: vec![],
            missing_values: None,
            partial_dates: None,
        }
    }

    #[test]
    fn edit_distance_hand_cases() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("flaw", "lawn"), 2);
    }

    #[test]
    fn closest_headers_find_renamed_columns() {
        let headers: Vec<String> = ["MRN", "rand_dt", "dt_death", "Death_Dt", "sex", "age"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let c = closest_headers(&spec("death_date"), &headers);
        assert_eq!(c, vec!["Death_Dt", "dt_death"]);
        assert!(closest_headers(&spec("progression_date"), &["sex".to_string()]).is_empty());
    }
}
