//! Where a plan uses a column, for messages about absent columns.

use super::{Plan, VariableRef};

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Every place the plan uses column `name` (canonical or alias spelling).
pub(super) fn column_uses(plan: &Plan, name: &str) -> Vec<String> {
    let canon = plan
        .column(name)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| name.to_string());
    let is = |c: &str| {
        same(
            &plan.column(c).map(|s| s.name.clone()).unwrap_or_default(),
            &canon,
        )
    };
    let mut uses = Vec::new();
    let st = &plan.study;
    if is(&st.id_column) {
        uses.push("study.id_column".to_string());
    }
    if is(&st.time_zero) {
        uses.push("study.time_zero".to_string());
    }
    for c in &plan.checks {
        if is(&c.column) || is(&c.other) {
            uses.push(format!("checks[{}]", c.description));
        }
    }
    for f in &plan.filters {
        if is(&f.column) {
            uses.push(format!("filters[{}]", f.description));
        }
    }
    for e in &plan.endpoints {
        let s = format!("endpoints[{}]", e.code);
        if is(plan.endpoint_start(e)) {
            uses.push(format!("{s}.start"));
        }
        if e.events.iter().any(|c| is(c)) {
            uses.push(format!("{s}.events"));
        }
        if is(&e.censor) {
            uses.push(format!("{s}.censor"));
        }
        if e.censor_if_present.iter().any(|c| is(c)) {
            uses.push(format!("{s}.censor_if_present"));
        }
        if e.require_present.iter().any(|c| is(c)) {
            uses.push(format!("{s}.require_present"));
        }
        if e.event_status.as_ref().is_some_and(|st| is(&st.column)) {
            uses.push(format!("{s}.event_status"));
        }
        if e.duration.as_ref().is_some_and(|d| is(&d.column)) {
            uses.push(format!("{s}.duration"));
        }
    }
    for c in &plan.competing_risks {
        let used = c.start.as_deref().is_some_and(is)
            || is(&c.censor)
            || c.causes.iter().any(|k| k.columns.iter().any(|x| is(x)));
        if used {
            uses.push(format!("competing_risks[{}]", c.code));
        }
    }
    for g in &plan.groupings {
        if g.columns.iter().any(|c| is(c)) {
            uses.push(format!("groupings[{}]", g.name));
        }
        if g.cox_strata.iter().any(|c| is(c)) {
            uses.push(format!("groupings[{}].cox_strata", g.name));
        }
    }
    for i in &plan.intervals {
        if is(&i.from) || is(&i.to) {
            uses.push(format!("intervals[{}]", i.name));
        }
    }
    for (k, su) in plan.summaries.iter().enumerate() {
        if su.flags.iter().any(|c| is(c)) || su.column.as_deref().is_some_and(is) {
            uses.push(format!("summaries[{}]", k + 1));
        }
    }
    for t in &plan.table1 {
        if let Some(VariableRef::Column(c)) = plan.variable(&t.variable) {
            if same(&c.name, &canon) {
                uses.push(format!("table1[{}]", t.variable));
            }
        }
    }
    for (sec, list) in [
        ("analysis.cox_covariates", &plan.analysis.cox_covariates),
        (
            "analysis.cox_optional_covariates",
            &plan.analysis.cox_optional_covariates,
        ),
    ] {
        if list.iter().any(
            |v| matches!(plan.variable(v), Some(VariableRef::Column(c)) if same(&c.name, &canon)),
        ) {
            uses.push(sec.to_string());
        }
    }
    uses
}
