//! Labels of variables and groupings, and safe figure names.

#[allow(unused_imports)]
use super::*;

/// `progression_date` → `progression date`.
pub(crate) fn humanise(name: &str) -> String {
    name.replace('_', " ").trim().to_string()
}

pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// File stem from plan names: lowercase ASCII alphanumerics, other runs
/// become one `_`.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let t = out.trim_matches('_').to_string();
    if t.is_empty() {
        "x".to_string()
    } else {
        t
    }
}

pub(crate) fn valid_figure_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !name.starts_with('-')
}

/// Human-readable names of variables and groupings, from the results.
pub(crate) fn label_map(r: &Results) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(t) = &r.table1 {
        for row in &t.rows {
            m.insert(row.variable.clone(), row.label.clone());
        }
        m.insert(t.by.clone(), t.by_label.clone());
    }
    for p in &r.patterns.rows {
        m.insert(p.name.clone(), p.label.clone());
    }
    for s in &r.survival {
        m.insert(s.grouping.clone(), s.grouping_label.clone());
    }
    m
}

pub(crate) fn label_of(labels: &BTreeMap<String, String>, name: &str) -> String {
    labels.get(name).cloned().unwrap_or_else(|| humanise(name))
}

/// "Overall survival from post-CAR-T progression" → "overall survival".
pub(crate) fn short_label(label: &str) -> String {
    let l = label.trim();
    let cut = [" from ", " (", ","]
        .iter()
        .filter_map(|s| l.find(s))
        .min()
        .unwrap_or(l.len());
    let s = l[..cut].trim();
    if s.is_empty() {
        l.to_string()
    } else {
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    }
}
