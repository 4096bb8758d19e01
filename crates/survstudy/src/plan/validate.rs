//! Plan validation: small checks, each pushing every problem it finds into
//! one list, so that a user sees all of them at once.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{
    ColumnSpec, ColumnType, DateRelation, GroupingKind, GroupingSpec, Plan, Presence, VariableKind,
    VariableRef,
};
use crate::ingest::DateFormat;

/// One problem of a plan: where (`groupings[x]`) and what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanProblem {
    /// Where in the plan, e.g. `groupings[emd_at_infusion]`.
    pub section: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plan {}: {}", self.section, self.message)
    }
}

struct Ctx<'a> {
    plan: &'a Plan,
    problems: Vec<PlanProblem>,
}

const DATE: &[ColumnType] = &[ColumnType::Date];

impl<'a> Ctx<'a> {
    fn push(&mut self, section: &str, message: String) {
        self.problems.push(PlanProblem {
            section: section.to_string(),
            message,
        });
    }

    /// The column, when it exists and has one of `types`.
    fn col(&mut self, section: &str, name: &str, types: &[ColumnType]) -> Option<&'a ColumnSpec> {
        let plan = self.plan;
        match plan.column(name) {
            None => {
                self.push(section, format!("unknown column '{name}'"));
                None
            }
            Some(c) if !types.is_empty() && !types.contains(&c.kind) => {
                self.push(
                    section,
                    format!(
                        "column '{name}' has type {:?}, expected one of {:?}",
                        c.kind, types
                    ),
                );
                None
            }
            Some(c) => Some(c),
        }
    }

    /// A column that defines endpoints or the cohort: it may not be
    /// `may_be_absent` (an absent event column would silently mean "no
    /// events").
    fn must_exist(&mut self, section: &str, name: &str, types: &[ColumnType], role: &str) {
        if let Some(c) = self.col(section, name, types) {
            if c.presence == Presence::MayBeAbsent {
                self.push(
                    section,
                    format!(
                        "column '{}' is {role} and cannot be presence = \"may_be_absent\" (an absent column would silently change the results); use \"optional\" (cells may be blank) or \"required\"",
                        c.name
                    ),
                );
            }
        }
    }
}

/// Every problem of the plan, in plan order.
pub(super) fn problems(plan: &Plan) -> Vec<PlanProblem> {
    let mut cx = Ctx {
        plan,
        problems: Vec::new(),
    };
    columns(&mut cx);
    study(&mut cx);
    checks(&mut cx);
    filters(&mut cx);
    endpoints(&mut cx);
    competing_risks(&mut cx);
    groupings(&mut cx);
    intervals(&mut cx);
    table1(&mut cx);
    analysis(&mut cx);
    adjustment(&mut cx);
    time_dependent(&mut cx);
    subgroups(&mut cx);
    strata(&mut cx);
    cx.problems.extend(super::summaries::problems(plan));
    cx.problems
}

fn columns(cx: &mut Ctx) {
    let mut seen = BTreeSet::new();
    for c in &cx.plan.columns {
        let s = format!("columns[{}]", c.name);
        if c.name.trim().is_empty() {
            cx.push("columns", "a column has an empty name".into());
        }
        for n in std::iter::once(&c.name).chain(&c.aliases) {
            if !seen.insert(n.trim().to_lowercase()) {
                cx.push(&s, format!("name or alias '{n}' is used twice"));
            }
        }
        if c.partial_dates.is_some() && c.kind != ColumnType::Date {
            cx.push(&s, "partial_dates is only allowed for date columns".into());
        }
        if !c.levels.is_empty() && c.kind != ColumnType::Category {
            cx.push(&s, "levels are only allowed for category columns".into());
        }
        let mut lv = BTreeSet::new();
        let missing: BTreeSet<String> = cx.plan.missing_values_of(c).into_iter().collect();
        for l in &c.levels {
            let key = l.trim().to_lowercase();
            if !lv.insert(key.clone()) {
                cx.push(&s, format!("level '{l}' is listed twice"));
            }
            if key.is_empty() || missing.contains(&key) {
                cx.push(
                    &s,
                    format!("level '{l}' is also a missing value (missing_values); remove it from one of the lists"),
                );
            }
        }
    }
}

fn study(cx: &mut Ctx) {
    let st = &cx.plan.study;
    if let Some(id) = cx.col("study.id_column", &st.id_column, &[ColumnType::Text]) {
        if id.presence != Presence::Required {
            cx.push(
                "study.id_column",
                format!("id column '{}' must be required", id.name),
            );
        }
    }
    if !st.time_zero.trim().is_empty() {
        cx.must_exist("study.time_zero", &st.time_zero, DATE, "time zero");
    } else {
        let plan = cx.plan;
        let users: Vec<String> = plan
            .competing_risks
            .iter()
            .filter(|c| c.start.is_none())
            .map(|c| format!("competing_risks[{}]", c.code))
            .collect();
        if !users.is_empty() {
            cx.push(
                "study.time_zero",
                format!(
                    "time zero is not set but {} measure time from it (set study.time_zero or their start)",
                    users.join(", ")
                ),
            );
        }
    }
    if let Err(m) = DateFormat::new(&st.date_format) {
        cx.push("study.date_format", m);
    }
    for (what, v) in [
        ("days_per_month", st.days_per_month),
        ("days_per_year", st.days_per_year),
    ] {
        if !(v.is_finite() && v > 0.0) {
            cx.push(
                &format!("study.{what}"),
                format!("must be a positive number, got {v}"),
            );
        }
    }
}

fn checks(cx: &mut Ctx) {
    for c in &cx.plan.checks {
        let s = format!("checks[{}]", c.description);
        match c.relation {
            DateRelation::NotBefore | DateRelation::NotAfter => {
                cx.col(&s, &c.column, DATE);
                cx.col(&s, &c.other, DATE);
                if !c.values.is_empty() {
                    cx.push(
                        &s,
                        "values are only for relation = \"present_when\" or \"blank_unless\""
                            .into(),
                    );
                }
            }
            DateRelation::PresentWhen | DateRelation::BlankUnless => {
                cx.col(&s, &c.column, &[]);
                cx.col(&s, &c.other, &[]);
            }
        }
    }
}

fn filters(cx: &mut Ctx) {
    for f in &cx.plan.filters {
        let s = format!("filters[{}]", f.description);
        cx.must_exist(&s, &f.column, &[], "a filter of the analysed population");
        let range = f.min.is_some() || f.max.is_some();
        if range != f.values.is_empty() {
            cx.push(&s, "give either values = [...] or min / max".into());
        }
        if range {
            if let Some(c) = cx.plan.column(&f.column) {
                if c.kind != ColumnType::Number {
                    cx.push(
                        &s,
                        format!(
                            "min / max need a number column; '{}' is {:?}",
                            c.name, c.kind
                        ),
                    );
                }
            }
            if f.min.zip(f.max).is_some_and(|(a, b)| a > b) {
                cx.push(&s, "min must not exceed max".into());
            }
        }
    }
}

fn endpoints(cx: &mut Ctx) {
    let plan = cx.plan;
    let mut codes = BTreeSet::new();
    for e in &plan.endpoints {
        let s = format!("endpoints[{}]", e.code);
        if e.code.trim().is_empty() || !codes.insert(e.code.clone()) {
            cx.push(&s, "endpoint code is empty or used twice".into());
        }
        if let Some(d) = &e.duration {
            duration_endpoint(cx, &s, e, d);
        } else {
            if e.events.is_empty() {
                cx.push(&s, "an endpoint needs at least one event column (or, for a duration export, duration = { column = ..., unit = ... } with event_status)".into());
            }
            if e.start.is_none() && plan.study.time_zero.trim().is_empty() {
                cx.push(
                    &s,
                    "a date endpoint needs a start: set study.time_zero or the endpoint's start"
                        .into(),
                );
            } else {
                cx.must_exist(&s, plan.endpoint_start(e), DATE, "the start of an endpoint");
            }
            if e.censor.trim().is_empty() {
                cx.push(
                    &s,
                    "a date endpoint needs censor = <last follow-up date column>".into(),
                );
            } else {
                cx.must_exist(&s, &e.censor, DATE, "the censoring date of an endpoint");
            }
        }
        for c in &e.events {
            cx.must_exist(&s, c, DATE, "an event date of an endpoint");
        }
        for c in &e.censor_if_present {
            cx.must_exist(&s, c, DATE, "a censoring date of an endpoint");
        }
        for c in &e.require_present {
            cx.must_exist(&s, c, &[], "in the require_present list of an endpoint");
        }
        if let Some(st) = &e.event_status {
            cx.must_exist(
                &s,
                &st.column,
                &[
                    ColumnType::YesNo,
                    ColumnType::Category,
                    ColumnType::Text,
                    ColumnType::Number,
                ],
                "the event status of an endpoint",
            );
            if st.values.is_empty() {
                cx.push(
                    &s,
                    "event_status needs the values that mean an event".into(),
                );
            }
        }
    }
}

/// A duration endpoint: a number column for the time, a status for the
/// event, and none of the date fields.
fn duration_endpoint(cx: &mut Ctx, s: &str, e: &super::EndpointSpec, d: &super::DurationSpec) {
    cx.must_exist(
        s,
        &d.column,
        &[ColumnType::Number],
        "the duration of an endpoint",
    );
    if e.event_status.is_none() {
        cx.push(
            s,
            "a duration endpoint needs event_status = { column = ..., values = [...] } (e.g. values = [\"1\"] for a 0/1 column)".into(),
        );
    }
    let mut unused = Vec::new();
    if e.start.is_some() {
        unused.push("start");
    }
    if !e.events.is_empty() {
        unused.push("events");
    }
    if !e.censor.trim().is_empty() {
        unused.push("censor");
    }
    if !e.censor_if_present.is_empty() {
        unused.push("censor_if_present");
    }
    if !unused.is_empty() {
        cx.push(
            s,
            format!(
                "{} {} for date endpoints; a duration endpoint takes its time from '{}' and its event from event_status (remove {})",
                unused.join(", "),
                if unused.len() == 1 { "is" } else { "are" },
                d.column,
                if unused.len() == 1 { "it" } else { "them" }
            ),
        );
    }
}

fn competing_risks(cx: &mut Ctx) {
    let plan = cx.plan;
    for c in &plan.competing_risks {
        let s = format!("competing_risks[{}]", c.code);
        if c.causes.len() < 2 {
            cx.push(&s, "needs at least two causes".into());
        }
        if let Some(st) = &c.start {
            cx.must_exist(&s, st, DATE, "the start of a competing-risks analysis");
        }
        cx.must_exist(
            &s,
            &c.censor,
            DATE,
            "the censoring date of a competing-risks analysis",
        );
        for cause in &c.causes {
            if cause.columns.is_empty() {
                cx.push(&s, format!("cause '{}' lists no date column", cause.label));
            }
            for col in &cause.columns {
                cx.must_exist(&s, col, DATE, "a cause date of a competing-risks analysis");
            }
        }
        if let Some(by) = &c.by {
            if plan.grouping(by).is_none() {
                cx.push(&s, format!("unknown grouping '{by}'"));
            }
        }
    }
    if let Some(t) = plan.analysis.rmst_tau {
        if !(t.is_finite() && t > 0.0) {
            cx.push("analysis.rmst_tau", format!("{t} must be a positive time"));
        }
    }
}

fn groupings(cx: &mut Ctx) {
    let mut names = BTreeSet::new();
    for g in &cx.plan.groupings {
        let s = format!("groupings[{}]", g.name);
        if g.name.trim().is_empty() || !names.insert(g.name.clone()) {
            cx.push(&s, "grouping name is empty or used twice".into());
        }
        let mut lv = BTreeSet::new();
        // a category grouping may leave levels out: the observed values, sorted
        let may_omit = g.kind == GroupingKind::Category && g.levels.is_empty();
        if (!may_omit && g.levels.is_empty()) || !g.levels.iter().all(|l| lv.insert(l.clone())) {
            cx.push(&s, "levels must be listed, each once".into());
        }
        if let Some(r) = &g.reference {
            if !g.levels.is_empty() && !g.levels.contains(r) {
                cx.push(&s, format!("reference '{r}' is not one of the levels"));
            }
        }
        if let Some(l) = g.landmark {
            if !(l.is_finite() && l > 0.0) {
                cx.push(&s, format!("landmark {l} must be a positive time"));
            }
        }
        grouping_kind(cx, g, &s);
        if g.kind != GroupingKind::Cross && !g.combinations.is_empty() {
            cx.push(&s, "combinations are only for cross groupings".into());
        }
    }
}

fn yes_no_levels(cx: &mut Ctx, g: &GroupingSpec, s: &str) {
    let mut l = g.levels.clone();
    l.sort();
    if l != ["no", "yes"] {
        cx.push(
            s,
            "levels of a yes/no grouping must be \"no\" and \"yes\"".into(),
        );
    }
}

fn grouping_kind(cx: &mut Ctx, g: &GroupingSpec, s: &str) {
    match g.kind {
        GroupingKind::YesNo | GroupingKind::Category if g.columns.len() != 1 => {
            cx.push(s, "needs exactly one column".into());
        }
        GroupingKind::YesNo => {
            cx.col(s, &g.columns[0], &[ColumnType::YesNo]);
            yes_no_levels(cx, g, s);
        }
        GroupingKind::Category => {
            let c = cx.col(s, &g.columns[0], &[ColumnType::Category, ColumnType::Text]);
            if let Some(c) = c {
                if !c.levels.is_empty() && !g.levels.is_empty() {
                    let cl: BTreeSet<String> =
                        c.levels.iter().map(|l| l.trim().to_lowercase()).collect();
                    let gl: BTreeSet<String> =
                        g.levels.iter().map(|l| l.trim().to_lowercase()).collect();
                    if cl != gl {
                        cx.push(
                            s,
                            format!(
                                "levels must be the levels of column '{}': {:?}",
                                c.name, c.levels
                            ),
                        );
                    }
                }
            }
        }
        GroupingKind::AnyYes => {
            if g.columns.is_empty() {
                cx.push(s, "needs at least one column".into());
            }
            for c in &g.columns {
                cx.col(s, c, &[ColumnType::YesNo]);
            }
            yes_no_levels(cx, g, s);
        }
        GroupingKind::Cross => cross(cx, g, s),
        GroupingKind::Cut | GroupingKind::Quantiles => number_groups(cx, g, s),
    }
    if g.kind != GroupingKind::Cut && !g.cuts.is_empty() {
        cx.push(s, "cuts are only for kind = \"cut\"".into());
    }
    if g.kind != GroupingKind::Quantiles && g.quantiles.is_some() {
        cx.push(s, "quantiles is only for kind = \"quantiles\"".into());
    }
}

fn number_groups(cx: &mut Ctx, g: &GroupingSpec, s: &str) {
    if g.columns.len() != 1 {
        cx.push(s, "needs exactly one column".into());
        return;
    }
    cx.col(s, &g.columns[0], &[ColumnType::Number]);
    let groups = if g.kind == GroupingKind::Cut {
        if g.cuts.is_empty() {
            cx.push(s, "a cut grouping needs cuts = [...]".into());
        }
        if !g.cuts.iter().all(|c| c.is_finite()) || g.cuts.windows(2).any(|w| w[0] >= w[1]) {
            cx.push(s, "cuts must be finite numbers in increasing order".into());
        }
        g.cuts.len() + 1
    } else {
        match g.quantiles {
            Some(q) if q >= 2 => q,
            _ => {
                cx.push(s, "a quantiles grouping needs quantiles = 2 or more".into());
                return;
            }
        }
    };
    if g.levels.len() != groups {
        cx.push(
            s,
            format!(
                "needs {groups} levels (labels of the groups, lowest first), got {}",
                g.levels.len()
            ),
        );
    }
}

fn cross(cx: &mut Ctx, g: &GroupingSpec, s: &str) {
    if g.columns.is_empty() || g.combinations.is_empty() {
        cx.push(s, "needs columns and combinations".into());
    }
    for c in &g.columns {
        cx.col(
            s,
            c,
            &[ColumnType::YesNo, ColumnType::Category, ColumnType::Text],
        );
    }
    let mut keys = BTreeSet::new();
    for comb in &g.combinations {
        if !g.levels.contains(&comb.level) {
            cx.push(
                s,
                format!("combination level '{}' is not in levels", comb.level),
            );
        }
        if comb.values.len() != g.columns.len() {
            cx.push(
                s,
                format!(
                    "combination for '{}' has {} values for {} columns",
                    comb.level,
                    comb.values.len(),
                    g.columns.len()
                ),
            );
        }
        let key: Vec<String> = comb
            .values
            .iter()
            .map(|v| v.trim().to_lowercase())
            .collect();
        if !keys.insert(key) {
            cx.push(s, format!("combination {:?} is listed twice", comb.values));
        }
    }
    for l in &g.levels {
        if !g.combinations.iter().any(|c| &c.level == l) {
            cx.push(s, format!("level '{l}' has no combination"));
        }
    }
}

fn intervals(cx: &mut Ctx) {
    for i in &cx.plan.intervals {
        let s = format!("intervals[{}]", i.name);
        cx.col(&s, &i.from, DATE);
        cx.col(&s, &i.to, DATE);
    }
}

fn table1(cx: &mut Ctx) {
    let plan = cx.plan;
    for t in &plan.table1 {
        let s = format!("table1[{}]", t.variable);
        match plan.variable(&t.variable) {
            None => cx.push(&s, "unknown column or grouping".into()),
            Some(VariableRef::Column(c)) => {
                if t.kind == VariableKind::Continuous && c.kind != ColumnType::Number {
                    cx.push(&s, "continuous variables need a number column".into());
                }
                if c.kind == ColumnType::Date {
                    cx.push(&s, "date columns cannot be Table-1 variables".into());
                }
            }
            Some(VariableRef::Grouping(_)) => {
                if t.kind == VariableKind::Continuous {
                    cx.push(&s, "a grouping is categorical".into());
                }
            }
        }
    }
}

/// Columns behind a variable (a column, or a grouping's columns).
fn variable_columns<'a>(plan: &'a Plan, v: &VariableRef<'a>) -> Vec<&'a ColumnSpec> {
    match v {
        VariableRef::Column(c) => vec![*c],
        VariableRef::Grouping(g) => g.columns.iter().filter_map(|c| plan.column(c)).collect(),
    }
}

fn analysis(cx: &mut Ctx) {
    let plan = cx.plan;
    let a = &plan.analysis;
    for e in &a.endpoints {
        if plan.endpoint(e).is_none() {
            cx.push("analysis.endpoints", format!("unknown endpoint '{e}'"));
        }
    }
    for (section, list) in [
        ("analysis.km_by", &a.km_by),
        ("analysis.cox_univariable", &a.cox_univariable),
    ] {
        for g in list {
            if plan.grouping(g).is_none() {
                cx.push(section, format!("unknown grouping '{g}'"));
            }
        }
    }
    if let Some(g) = &a.table1_by {
        if plan.grouping(g).is_none() {
            cx.push("analysis.table1_by", format!("unknown grouping '{g}'"));
        }
    }
    for (section, list, always) in [
        ("analysis.cox_covariates", &a.cox_covariates, true),
        (
            "analysis.cox_optional_covariates",
            &a.cox_optional_covariates,
            false,
        ),
    ] {
        for v in list {
            match plan.variable(v) {
                None => cx.push(section, format!("unknown column or grouping '{v}'")),
                Some(VariableRef::Column(c))
                    if matches!(c.kind, ColumnType::Date | ColumnType::Text) =>
                {
                    cx.push(
                        section,
                        format!(
                            "'{v}' is a {:?} column; covariates are yes/no, category or number",
                            c.kind
                        ),
                    )
                }
                Some(r) => {
                    if always {
                        for c in variable_columns(plan, &r) {
                            if c.presence == Presence::MayBeAbsent {
                                cx.push(
                                    section,
                                    format!(
                                        "'{v}' uses column '{}', which may be absent; a covariate that is always in the model needs its column (list it in cox_optional_covariates instead)",
                                        c.name
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    let mut pairs = BTreeSet::new();
    for pair in &a.cox_interactions {
        let s = "analysis.cox_interactions";
        let shown = pair.join(", ");
        if pair.len() != 2 {
            cx.push(
                s,
                format!(
                    "[{shown}]: an interaction is a pair of covariates, e.g. [\"rx\", \"sex\"]"
                ),
            );
            continue;
        }
        if pair[0].trim() == pair[1].trim() {
            cx.push(
                s,
                format!("[{shown}]: a covariate cannot interact with itself"),
            );
        }
        for v in pair {
            if !a.cox_covariates.contains(v) && !a.cox_optional_covariates.contains(v) {
                cx.push(
                    s,
                    format!("[{shown}]: '{v}' is not in cox_covariates (an interaction needs both main effects in the model)"),
                );
            }
        }
        let mut key = [pair[0].trim(), pair[1].trim()];
        key.sort();
        if !pairs.insert(key) {
            cx.push(s, format!("[{shown}] is listed twice"));
        }
    }
    if !(a.confidence_level > 0.0 && a.confidence_level < 1.0) {
        cx.push(
            "analysis.confidence_level",
            format!("must be between 0 and 1, got {}", a.confidence_level),
        );
    }
    if a.landmarks.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
        cx.push(
            "analysis.landmarks",
            "landmark times must be non-negative numbers".into(),
        );
    }
}

// ---- observational-study sections (issue 16) ----

fn known_endpoints(cx: &mut Ctx, s: &str, codes: &[String]) {
    let plan = cx.plan;
    for e in codes {
        if !plan.endpoints.iter().any(|x| &x.code == e) {
            cx.push(s, format!("unknown endpoint '{e}'"));
        }
    }
}

fn adjustment(cx: &mut Ctx) {
    let plan = cx.plan;
    let Some(a) = &plan.adjustment else { return };
    let s = "adjustment";
    match plan.groupings.iter().find(|g| g.name == a.exposure) {
        None => cx.push(s, format!("unknown grouping '{}' as exposure", a.exposure)),
        Some(g) if !g.levels.is_empty() && g.levels.len() != 2 => cx.push(
            s,
            format!(
                "exposure '{}' has {} levels ({}); weighting compares exactly two",
                g.name,
                g.levels.len(),
                g.levels.join(", ")
            ),
        ),
        Some(_) => {}
    }
    if a.covariates.is_empty() {
        cx.push(s, "covariates: at least one column is needed".into());
    }
    let mut seen = BTreeSet::new();
    for c in &a.covariates {
        if !seen.insert(c.to_lowercase()) {
            cx.push(s, format!("covariate '{c}' is listed twice"));
        }
        cx.col(
            s,
            c,
            &[ColumnType::Number, ColumnType::Category, ColumnType::YesNo],
        );
    }
    if let Some(q) = a.trim {
        if !(q > 0.0 && q < 0.5) {
            cx.push(
                s,
                format!("trim = {q}: must be in (0, 0.5) (patients with ps outside [trim, 1 - trim] are dropped)"),
            );
        }
    }
    known_endpoints(cx, s, &a.endpoints);
    if a.times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
        cx.push(s, "times must be finite and >= 0".into());
    }
}

fn time_dependent(cx: &mut Ctx) {
    let plan = cx.plan;
    for t in &plan.time_dependent {
        let s = format!("time_dependent[{}]", t.name);
        cx.col(&s, &t.date, DATE);
        known_endpoints(cx, &s, &t.endpoints);
        let codes: Vec<&String> = if t.endpoints.is_empty() {
            plan.analysis.endpoints.iter().collect()
        } else {
            t.endpoints.iter().collect()
        };
        for code in codes {
            if plan.endpoint(code).is_some_and(|e| e.duration.is_some()) {
                cx.push(
                    &s,
                    format!("endpoint '{code}' is a duration export (no start date), so a switch date cannot be placed on its time scale; list date endpoints in endpoints"),
                );
            }
        }
    }
}

fn subgroups(cx: &mut Ctx) {
    let plan = cx.plan;
    for sg in &plan.subgroups {
        let s = format!("subgroups[{}:{}]", sg.endpoint, sg.exposure);
        if plan.endpoint(&sg.endpoint).is_none() {
            cx.push(&s, format!("unknown endpoint '{}'", sg.endpoint));
        }
        if sg.by.is_empty() {
            cx.push(&s, "by lists no subgroup grouping".into());
        }
        for g in std::iter::once(&sg.exposure).chain(&sg.by) {
            match plan.grouping(g) {
                None => cx.push(&s, format!("unknown grouping '{g}'")),
                Some(x) if x.landmark.is_some() => cx.push(
                    &s,
                    format!("grouping '{g}' is a landmark grouping; subgroup analyses run from time zero"),
                ),
                Some(_) => {}
            }
        }
        if sg.by.contains(&sg.exposure) {
            cx.push(&s, "the exposure cannot be one of its own subgroups".into());
        }
    }
}
fn strata(cx: &mut Ctx) {
    let plan = cx.plan;
    for g in &plan.groupings {
        let s = format!("groupings[{}].cox_strata", g.name);
        for x in &g.cox_strata {
            if x == &g.name {
                cx.push(&s, "a grouping cannot be its own stratum".into());
                continue;
            }
            if plan.grouping(x).is_some() {
                continue;
            }
            match plan.column(x) {
                Some(c) if matches!(c.kind, ColumnType::YesNo | ColumnType::Category) => {
                    if g.columns.iter().any(|gc| plan.column(gc).is_some_and(|k| k.name == c.name)) {
                        cx.push(&s, format!("'{x}' is the grouping's own column"));
                    }
                }
                Some(c) => cx.push(
                    &s,
                    format!("column '{x}' has type {:?}; a stratum is a grouping or a yes/no or category column", c.kind),
                ),
                None => cx.push(&s, format!("unknown grouping or column '{x}'")),
            }
        }
    }
    for e in &plan.endpoints {
        let s = format!("endpoints[{}].strata", e.code);
        for g in &e.strata {
            match plan.grouping(g) {
                None => cx.push(&s, format!("unknown grouping '{g}'")),
                Some(x) if x.landmark.is_some() => cx.push(
                    &s,
                    format!("grouping '{g}' is a landmark grouping; the models run from time zero"),
                ),
                Some(_) => {}
            }
            if plan.analysis.cox_covariates.contains(g)
                || plan.analysis.cox_optional_covariates.contains(g)
            {
                cx.push(
                    &s,
                    format!("'{g}' is both a stratum and a covariate of the model; keep one"),
                );
            }
        }
    }
}
