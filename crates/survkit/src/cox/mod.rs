//! Cox proportional hazards regression (Cox 1972), R: `coxph(Surv(time, status) ~ x, ties = "efron")`.
//!
//! * Partial likelihood with Efron (1977, R's default), Breslow (1974) or
//!   exact (Kalbfleisch & Prentice 1973; R `ties = "exact"`) ties, optional
//!   strata (separate baseline hazards, common β) — see `likelihood.rs`.
//! * Newton–Raphson from β = 0 with step halving, R's convergence rule
//!   (`|1 − ℓ_old/ℓ_new| ≤ 1e-9`, 20 iterations) — see the `newton` module.
//! * Model-based variance `I(β̂)⁻¹`; z = β/se, p = `pchisq(z², 1, lower = FALSE)`;
//!   HR = exp(β) with CI `exp(β ± z_{α/2} se)`.
//! * Robust (sandwich) variance `DᵀD` from dfbeta residuals (Lin & Wei 1989),
//!   optionally summed within clusters — R `coxph(..., robust = TRUE)` and
//!   `coxph(... + cluster(id))`; see [`Variance`], [`cox_fit_with`] and
//!   `robust.rs`. With it, z, p, CI and the Wald test use the robust
//!   variance, the score test stays model-based and the robust score test is
//!   added (R `fit$rscore`).
//! * Global tests: likelihood ratio `2(ℓ − ℓ₀)`, Wald `β̂ᵀ V⁻¹ β̂`, score
//!   `U(0)ᵀ I(0)⁻¹ U(0)`, each with df = number of estimated coefficients.
//! * Harrell's concordance of the linear predictor with R's infinitesimal
//!   jackknife SE ([`crate::concordance`]).
//! * Monotone likelihood: like R, a coefficient whose one-step change
//!   `|Uᵀ V|` is still above `eps` and above `toler_inf·|β|` at convergence is
//!   flagged as possibly infinite (R: "Loglik converged before variable …;
//!   coefficient may be infinite"); running out of iterations is reported as
//!   `converged = false`. Both appear in `warnings`.
//!
//! References: Therneau & Grambsch (2000), *Modeling Survival Data*, ch. 3
//! (fit, tests), §7.2 (robust variance); Kalbfleisch & Prentice (2002),
//! *The Statistical Analysis of Failure Time Data*, §4.2 (tied times, exact
//! partial likelihood); Lin & Wei (1989), JASA 84:1074–1078 (sandwich
//! variance). Golden tests: `tests/cox_golden.rs` (Efron/Breslow) and
//! `tests/cox_extras_golden.rs` (exact ties, robust) against R survival 3.5-3.

pub mod baseline;
pub(crate) mod cells;
pub mod design;
mod likelihood;
mod newton;
mod robust;

pub use design::Design;

use serde::Serialize;

use crate::dist::{chisq_sf, two_sided_p, z_for_level};
use crate::error::{check_len, check_times, Result, SurvError};
use crate::linalg::{quad_form_inv, TOLER_CHOL};
use likelihood::CoxData;

/// Handling of tied event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron's approximation (R's default).
    #[default]
    Efron,
    /// Breslow's approximation (SAS PHREG's default).
    Breslow,
    /// Exact discrete partial likelihood (Kalbfleisch–Prentice; R `ties = "exact"`,
    /// SAS `ties=discrete`). Cost grows with (tied deaths) × (risk set); see
    /// [`CoxOptions::exact_max_work`].
    Exact,
}

impl Ties {
    /// Parse `efron` / `breslow` / `exact`.
    pub fn parse(s: &str) -> Option<Ties> {
        match s.trim().to_ascii_lowercase().as_str() {
            "efron" => Some(Ties::Efron),
            "breslow" => Some(Ties::Breslow),
            "exact" => Some(Ties::Exact),
            _ => None,
        }
    }
    /// The R spelling: `efron` / `breslow` / `exact`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ties::Efron => "efron",
            Ties::Breslow => "breslow",
            Ties::Exact => "exact",
        }
    }
}

/// Variance used for inference on β (z, p, CIs, Wald test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variance {
    /// Inverse information `I(β̂)⁻¹` (R's default).
    #[default]
    ModelBased,
    /// Robust sandwich `DᵀD` from dfbeta residuals, one row per subject
    /// (R `robust = TRUE`); with clusters (see [`cox_fit_with`]) rows are
    /// summed within cluster first.
    Robust,
}

/// Options of the Cox fit (R `coxph.control` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxOptions {
    /// Handling of tied event times (R `ties`, default Efron).
    pub ties: Ties,
    /// Convergence tolerance on the relative change of the log-likelihood (1e-9).
    pub eps: f64,
    /// Maximum number of Newton–Raphson iterations (20).
    pub max_iter: usize,
    /// Pivot tolerance for redundant covariates (`eps^0.75`).
    pub toler_chol: f64,
    /// Relative tolerance for flagging infinite coefficients (`sqrt(eps)`).
    pub toler_inf: f64,
    /// Confidence level of the hazard-ratio intervals (0.95).
    pub conf_level: f64,
    /// Compute Harrell's concordance and its standard error.
    pub concordance: ConcordanceChoice,
    /// Model-based or robust variance for inference (model-based).
    pub variance: Variance,
    /// Whether nearly equal times are tied first (R `coxph.control(timefix
    /// =)`: [`TimeFix::R`], the default, or [`TimeFix::Exact`]); the
    /// concordance sees the same times.
    ///
    /// [`TimeFix::R`]: crate::timefix::TimeFix::R
    /// [`TimeFix::Exact`]: crate::timefix::TimeFix::Exact
    pub timefix: crate::timefix::TimeFix,
    /// Upper bound on the work of one exact-ties likelihood evaluation
    /// (Σ over tied event times of d·|risk set|·(p(p+1)/2 + p + 1)); larger
    /// problems return [`SurvError::TooLarge`] instead of running for hours
    /// (R instead fails when the memory would overflow). Default 2·10⁸.
    pub exact_max_work: u64,
}

/// Whether to compute the concordance statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConcordanceChoice {
    /// Compute the concordance (R's default).
    #[default]
    Compute,
    /// Do not compute it (`concordance` fields are `None`).
    Skip,
}

impl Default for CoxOptions {
    fn default() -> Self {
        CoxOptions {
            ties: Ties::Efron,
            eps: 1e-9,
            max_iter: 20,
            toler_chol: TOLER_CHOL,
            toler_inf: 1e-9f64.sqrt(),
            conf_level: 0.95,
            concordance: ConcordanceChoice::Compute,
            variance: Variance::ModelBased,
            exact_max_work: 200_000_000,
            timefix: crate::timefix::TimeFix::R,
        }
    }
}

/// One model term.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CoxTerm {
    /// Term (design column) name.
    pub term: String,
    /// Estimated coefficient β (log hazard ratio).
    pub coef: f64,
    /// Model-based standard error of `coef` (R `se(coef)`).
    pub se: f64,
    /// Wald statistic `coef / SE` (the robust SE when `robust_se` is set).
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p: f64,
    /// Hazard ratio `exp(coef)`.
    pub hr: f64,
    /// Lower confidence limit of `hr` (level [`CoxOptions::conf_level`]).
    pub hr_lower: f64,
    /// Upper confidence limit of `hr`.
    pub hr_upper: f64,
    /// Flagged by R's monotone-likelihood check: the estimate may be infinite.
    pub possibly_infinite: bool,
    /// Robust SE (robust/cluster fits only); `z`, `p` and the HR CI then use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust_se: Option<f64>,
}

/// A global test statistic.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct TestStat {
    /// Test statistic (chi-square).
    pub stat: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CoxFit {
    /// Number of observations (rows) used.
    pub n: usize,
    /// Number of events.
    pub nevent: usize,
    /// Tie method used.
    pub ties: Ties,
    /// Whether nearly equal times were tied first (`CoxOptions::timefix`);
    /// [`crate::zph::cox_zph`] ties the times as the fit did. Not
    /// serialised: the outputs state their conventions themselves.
    #[serde(skip)]
    pub timefix: crate::timefix::TimeFix,
    /// One entry per design column, in design order.
    pub terms: Vec<CoxTerm>,
    /// Model-based variance matrix of β̂ (R `fit$naive.var` for robust fits).
    pub var: Vec<Vec<f64>>,
    /// Which variance `z`, `p`, the CIs and the Wald test use.
    pub variance: Variance,
    /// Robust sandwich variance (R `fit$var` of a robust fit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust_var: Option<Vec<Vec<f64>>>,
    /// Number of clusters of a clustered robust fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_clusters: Option<usize>,
    /// Column means used for centring (R `fit$means`).
    pub means: Vec<f64>,
    /// Log partial likelihood at β = 0 (R `fit$loglik[1]`).
    pub loglik_null: f64,
    /// Log partial likelihood at β̂ (R `fit$loglik[2]`).
    pub loglik: f64,
    /// Likelihood-ratio test of β = 0.
    pub lr_test: TestStat,
    /// Wald test of β = 0 (uses the variance chosen in `variance`).
    pub wald_test: TestStat,
    /// Model-based score test at β = 0 (also for robust fits, as R).
    pub score_test: TestStat,
    /// Robust score test (robust fits; R `fit$rscore`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust_score_test: Option<TestStat>,
    /// Harrell's C (R `fit$concordance["concordance"]`); `None` when skipped.
    pub concordance: Option<f64>,
    /// Standard error of `concordance` (infinitesimal jackknife).
    pub concordance_se: Option<f64>,
    /// Full concordance counts, when computed.
    pub concordance_detail: Option<crate::concordance::Concordance>,
    /// Newton–Raphson iterations used (R `fit$iter`).
    pub iterations: usize,
    /// Whether the iteration converged within `max_iter`.
    pub converged: bool,
    /// Warnings as R would print them (non-convergence, infinite coefficients).
    pub warnings: Vec<String>,
}

/// Fit a Cox model. `design` holds named numeric columns (see [`Design`]);
/// `strata[i]` in `0..s` gives separate baseline hazards. R:
/// `coxph(Surv(time, event) ~ x1 + x2 + strata(s), ties = opts.ties,
/// robust = (opts.variance == Robust))`.
pub fn cox_fit(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    opts: &CoxOptions,
) -> Result<CoxFit> {
    cox_fit_with(time, event, design, strata, None, opts)
}

/// [`cox_fit`] with an optional cluster id per observation (any `usize`
/// labels). R: `coxph(Surv(time, event) ~ x + cluster(id))`: a cluster
/// implies the robust variance with dfbeta rows summed within cluster
/// (whatever `opts.variance` says, as R's default `robust = TRUE` when
/// `cluster()` is present). Robust variances need score residuals, which R
/// (and this function) do not provide for `Ties::Exact`.
pub fn cox_fit_with(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    cluster: Option<&[usize]>,
    opts: &CoxOptions,
) -> Result<CoxFit> {
    cox_fit_rows(
        time,
        event,
        design,
        strata,
        cluster,
        &CoxRows::default(),
        opts,
    )
}

/// Case weights and entry times of a Cox model's rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoxRows<'a> {
    /// Entry time of each row: the row covers (start, time] (R `Surv(start, stop, event)`).
    pub start: Option<&'a [f64]>,
    /// Case weights ≥ 0 (R `weights =`). A zero weight means the row is absent
    /// (R refuses zero weights; such rows are dropped before the fit, so a
    /// zero-weight death does not count in the Efron tie size).
    pub weight: Option<&'a [f64]>,
}

/// [`cox_fit_with`] on weighted and/or (start, stop] rows, R
/// `coxph(Surv(start, stop, event) ~ x, weights = w, cluster = id)` (the
/// `agreg` path for counting data). Weighted Breslow and Efron follow R
/// exactly (see `likelihood.rs`); means are weighted, as R's; the robust
/// variance uses weighted dfbeta residuals summed within cluster. With no
/// start and no weights this is [`cox_fit_with`], the same fast kernel.
pub fn cox_fit_rows(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    cluster: Option<&[usize]>,
    rows: &CoxRows,
    opts: &CoxOptions,
) -> Result<CoxFit> {
    cox_fit_rows_cells(time, event, design, strata, cluster, rows, opts, None)
}

/// What a fit of unweighted right-censored rows hands to the cox.zph of
/// the same rows ([`crate::zph::cox_fit_and_zph`]), which would otherwise
/// redo it.
#[derive(Default)]
pub(crate) struct FitHandoff {
    /// The collapse into cells: `None` when the fit did not try it,
    /// `Some(None)` when the data do not collapse, `Some(Some(cells))`
    /// when they do.
    pub cells: Option<Option<cells::Cells>>,
    /// The times after the time fix (R's `fit$y`).
    pub time: Option<FitTimes>,
}

/// The times a fit used ([`FitHandoff::time`]).
pub(crate) enum FitTimes {
    /// The times as given (the fix changed none, or was not asked for).
    AsGiven,
    /// The times the fix changed.
    Fixed(Vec<f64>),
}

/// [`cox_fit_rows`], also filling `handoff` (unweighted right-censored
/// rows only).
#[allow(clippy::too_many_arguments)]
pub(crate) fn cox_fit_rows_cells(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    cluster: Option<&[usize]>,
    rows: &CoxRows,
    opts: &CoxOptions,
    handoff: Option<&mut FitHandoff>,
) -> Result<CoxFit> {
    let n = time.len();
    if let Some(w) = rows.weight {
        check_len("weights", w.len(), n)?;
        if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(SurvError::InvalidValue {
                what: "weight (weights must be finite and >= 0)".into(),
                index,
                value: w[index],
            });
        }
        if w.contains(&0.0) {
            // drop the zero-weight rows and fit the rest
            let keep: Vec<usize> = (0..n).filter(|&i| w[i] > 0.0).collect();
            if keep.is_empty() {
                return Err(SurvError::Empty);
            }
            let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let pick_u = |v: &[usize]| keep.iter().map(|&i| v[i]).collect::<Vec<usize>>();
            if event.len() != n {
                check_len("event", event.len(), n)?;
            }
            let ev: Vec<bool> = keep.iter().map(|&i| event[i]).collect();
            let mut d2 = Design::default();
            for (nm, c) in design.names.iter().zip(&design.columns) {
                check_len("covariate", c.len(), n)?;
                d2.add_numeric(nm, pick(c));
            }
            let st = strata.map(&pick_u);
            let cl = cluster.map(&pick_u);
            let sa = rows.start.map(&pick);
            let ww = pick(w);
            return cox_fit_rows(
                &pick(time),
                &ev,
                &d2,
                st.as_deref(),
                cl.as_deref(),
                &CoxRows {
                    start: sa.as_deref(),
                    weight: Some(&ww),
                },
                opts,
            );
        }
    }
    if let Some(s) = rows.start {
        check_len("start", s.len(), n)?;
        for i in 0..n.min(time.len()) {
            if !s[i].is_finite() || s[i] >= time[i] {
                return Err(SurvError::InvalidValue {
                    what: format!("start (must be finite and < stop = {})", time[i]),
                    index: i,
                    value: s[i],
                });
            }
        }
    }
    let general = rows.start.is_some() || rows.weight.is_some();
    if general && opts.ties == Ties::Exact {
        return Err(SurvError::InvalidOption {
            name: "ties",
            message: "the exact ties method is not available with case weights or \
                      (start, stop] data (R refuses it too); use efron or breslow"
                .into(),
        });
    }
    check_len("event", event.len(), n)?;
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    if let Some(c) = cluster {
        check_len("cluster", c.len(), n)?;
    }
    let variance = if cluster.is_some() {
        Variance::Robust
    } else {
        opts.variance
    };
    if variance == Variance::Robust && opts.ties == Ties::Exact {
        return Err(SurvError::InvalidOption {
            name: "variance",
            message: "robust variance needs score residuals, which are not available for \
                      the exact ties method (as in R); use efron or breslow"
                .into(),
        });
    }
    if let Some(col) = design.columns.iter().find(|c| c.len() != n) {
        return Err(SurvError::LengthMismatch {
            what: "covariate",
            got: col.len(),
            expected: n,
        });
    }
    // one look at each column, half of the columns on each core: its first
    // non-finite value, and the mean R centres it at (survival >= 3.0
    // leaves 0/1 columns uncentred)
    let scan = |cols: &[Vec<f64>]| -> Vec<(Option<(usize, f64)>, f64)> {
        cols.iter()
            .map(|c| {
                let bad = if crate::sort::all_of(c, f64::is_finite) {
                    None
                } else {
                    c.iter().position(|v| !v.is_finite()).map(|i| (i, c[i]))
                };
                let mean = if bad.is_some() || cells::is_zero_one(c) {
                    0.0
                } else if let Some(w) = rows.weight {
                    c.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / w.iter().sum::<f64>()
                } else {
                    c.iter().sum::<f64>() / n as f64
                };
                (bad, mean)
            })
            .collect()
    };
    let (lo, hi) = design.columns.split_at(design.columns.len() / 2);
    let (mut scanned, rest) = crate::par::join(n >= crate::par::MIN_PAR, || scan(lo), || scan(hi));
    scanned.extend(rest);
    for (name, (bad, _)) in design.names.iter().zip(&scanned) {
        if let Some((index, value)) = *bad {
            return Err(SurvError::InvalidValue {
                what: name.clone(),
                index,
                value,
            });
        }
    }
    let means: Vec<f64> = scanned.iter().map(|(_, m)| *m).collect();
    if rows.start.is_none() {
        check_times(time)?;
    } else if let Some((index, &value)) = time.iter().enumerate().find(|(_, t)| !t.is_finite()) {
        return Err(SurvError::InvalidTime { index, value });
    }
    // nearly equal times tie, as R's coxph(control = coxph.control(timefix = TRUE));
    // the concordance below sees the same times, as R's does; counting data
    // tie start and stop together
    let (fixed_start, fixed_time) = if rows.start.is_some() {
        crate::wkm::timefix_rows(rows.start, time, opts.timefix)
    } else {
        (None, opts.timefix.apply(time))
    };
    let time: &[f64] = &fixed_time;
    if let Some(s) = &fixed_start {
        if let Some(i) = (0..n).find(|&i| s[i] >= time[i]) {
            return Err(SurvError::InvalidValue {
                what: format!("start (ties with stop = {} after timefix)", time[i]),
                index: i,
                value: s[i],
            });
        }
    }
    if n > u32::MAX as usize {
        return Err(SurvError::TooLarge {
            what: "Cox model rows",
            limit: u32::MAX as u64,
        });
    }
    if n == 0 {
        return Err(SurvError::Empty);
    }
    if !event.iter().any(|&e| e) {
        return Err(SurvError::Degenerate {
            what: "Cox model",
            message: "there are no events, so no coefficient can be estimated".into(),
        });
    }
    let p = design.columns.len();
    if p == 0 {
        return Err(SurvError::InvalidOption {
            name: "design",
            message: "a Cox model needs at least one covariate".into(),
        });
    }
    // large data with few covariate patterns: one row per (stratum, start,
    // time, status, pattern) cell (see `cells.rs`)
    // Weighted rows collapse too (no clusters): a cell's
    // weight is the sum of its rows' weights, its count their number (the
    // Efron tie size), and for the robust variance the sum of their squared
    // weights, since rows of one cell have the same per-unit score residual
    // (see `cells.rs`).
    let unweighted_cells = rows.weight.is_none() && variance == Variance::ModelBased;
    let weighted_cells = rows.weight.is_some() && cluster.is_none();
    // (start, stop] rows collapse by (stratum, start, stop, status,
    // pattern): rows of one cell enter and leave every risk set together
    let tried = ((unweighted_cells || weighted_cells) && opts.ties != Ties::Exact).then(|| {
        cells::collapse(
            Some(time),
            fixed_start.as_deref(),
            event,
            &design.columns,
            strata,
            cells::max_cells(n),
        )
    });
    let collapsed = tried.as_ref().and_then(|c| c.as_ref());
    // (Σw, Σw²) of each cell of weighted rows
    let cell_weights: Option<(Vec<f64>, Vec<f64>)> = match (&collapsed, rows.weight) {
        (Some(c), Some(w)) => Some(c.weight_sums(Some(w))),
        _ => None,
    };
    let (data, order) = match &collapsed {
        Some(c) => {
            let cols: Vec<Vec<f64>> = design.columns.iter().map(|v| c.pick(v)).collect();
            let cols: Vec<&[f64]> = cols.iter().map(|v| v.as_slice()).collect();
            let st = strata.map(|s| c.pick(s));
            let sa = fixed_start.as_deref().map(|s| c.pick(s));
            sorted_data(
                &c.pick(time),
                &c.pick(event),
                &cols,
                &means,
                st.as_deref(),
                cell_weights.as_ref().map(|(w, _)| w.as_slice()),
                sa.as_deref(),
                Some(&c.count),
            )
        }
        None => {
            let cols: Vec<&[f64]> = design.columns.iter().map(|v| v.as_slice()).collect();
            sorted_data(
                time,
                event,
                &cols,
                &means,
                strata,
                rows.weight,
                fixed_start.as_deref(),
                None,
            )
        }
    };
    if opts.ties == Ties::Exact {
        let work = data.exact_work();
        if work > opts.exact_max_work {
            return Err(SurvError::TooLarge {
                what: "Cox exact partial likelihood",
                limit: opts.exact_max_work,
            });
        }
    }
    // cluster index of every sorted row (robust variance only); the sort
    // order itself is not needed after this
    let cluster_rows: Option<(Vec<usize>, usize)> =
        (variance == Variance::Robust).then(|| match cluster {
            Some(c) => {
                let mut ids: Vec<usize> = c.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let rows: Vec<usize> = order
                    .iter()
                    .map(|&i| ids.binary_search(&c[i]).unwrap_or(0))
                    .collect();
                (rows, ids.len())
            }
            None => ((0..data.n()).collect(), data.n()),
        });
    // Σw² of each sorted cell (weighted cells only)
    let sorted_w2: Option<Vec<f64>> = cell_weights
        .as_ref()
        .map(|(_, w2)| order.iter().map(|&i| w2[i]).collect());
    drop(order);

    let nr = newton::fit(&data, opts.ties, opts.eps, opts.max_iter, opts.toler_chol);

    // robust (sandwich) variance and robust score test
    let robust = if let Some((cl, k)) = cluster_rows {
        let beta0: Vec<f64> = nr
            .beta
            .iter()
            .map(|b| if b.is_finite() { *b } else { 0.0 })
            .collect();
        let mut res = robust::score_residuals(&data, &beta0, opts.ties);
        let mut res0 = robust::score_residuals(&data, &vec![0.0; p], opts.ties);
        // weighted cells: U(0) = Σ W · (per-unit residual), and the
        // sandwich's Σ (w · residual)² over a cell's rows is Σw² ·
        // residual², so the per-unit rows are scaled by sqrt(Σw²)
        let u0_cells = sorted_w2
            .as_ref()
            .map(|_| robust::column_sums(&res0, p, Some(&data.weight)));
        match &sorted_w2 {
            Some(w2) => {
                robust::scale_rows(&mut res, p, w2);
                robust::scale_rows(&mut res0, p, w2);
            }
            None => {
                robust::weight_rows(&mut res, &data);
                robust::weight_rows(&mut res0, &data);
            }
        }
        let dfbeta = robust::times_matrix(&robust::collapse(&res, p, &cl, k), p, &nr.var);
        let rvar = robust::crossprod(&dfbeta, p);
        let l0 = robust::collapse(&res0, p, &cl, k);
        let u0 = u0_cells.unwrap_or_else(|| robust::column_sums(&l0, p, None));
        let rscore = quad_form_inv(&robust::crossprod(&l0, p), &u0);
        Some((rvar, rscore, cluster.map(|_| k)))
    } else {
        None
    };
    // the sorted copy of the data is no longer needed: free it before the
    // concordance allocates its own work arrays (peak memory)
    drop(data);
    let var_used: &Vec<Vec<f64>> = match &robust {
        Some((rv, _, _)) => rv,
        None => &nr.var,
    };

    let mut warnings = vec![];
    if !nr.converged {
        warnings.push(format!(
            "Ran out of iterations ({}) and did not converge",
            opts.max_iter
        ));
        // R: max(lp) > 500 or a non-finite |U V|
        let lp_max = (0..n)
            .map(|i| {
                design
                    .columns
                    .iter()
                    .zip(&means)
                    .zip(&nr.beta)
                    .map(|((c, m), b)| (c[i] - m) * b)
                    .sum::<f64>()
            })
            .fold(f64::NEG_INFINITY, f64::max);
        let infs_bad = (0..p).any(|k| {
            !(0..p)
                .map(|j| nr.score[j] * nr.var[j][k])
                .sum::<f64>()
                .is_finite()
        });
        if lp_max > 500.0 || infs_bad {
            warnings.push("one or more coefficients may be infinite".into());
        }
    }
    // monotone likelihood check (R coxph.fit)
    let infs: Vec<bool> = (0..p)
        .map(|k| {
            let v: f64 = (0..p)
                .map(|j| nr.score[j] * nr.var[j][k])
                .sum::<f64>()
                .abs();
            nr.converged && v > opts.eps && v > opts.toler_inf * nr.beta[k].abs()
        })
        .collect();
    let flagged: Vec<String> = design
        .names
        .iter()
        .zip(&infs)
        .filter(|(_, f)| **f)
        .map(|(n, _)| n.clone())
        .collect();
    if !flagged.is_empty() {
        warnings.push(format!(
            "Loglik converged before variable {}; coefficient may be infinite.",
            flagged.join(", ")
        ));
    }
    let zc = z_for_level(opts.conf_level);
    // R marks redundant columns (NA coefficients) only when the fit
    // converged (coxfit6's rank flag); after running out of iterations every
    // coefficient is reported, even with a zero variance (e.g. every stratum
    // a single subject: β = 0, SE 0)
    let dropped: Vec<bool> = (0..p)
        .map(|k| nr.converged && nr.var[k][k] == 0.0)
        .collect();
    let terms: Vec<CoxTerm> = (0..p)
        .map(|k| {
            if dropped[k] {
                return CoxTerm {
                    term: design.names[k].clone(),
                    coef: f64::NAN,
                    se: f64::NAN,
                    z: f64::NAN,
                    p: f64::NAN,
                    hr: f64::NAN,
                    hr_lower: f64::NAN,
                    hr_upper: f64::NAN,
                    possibly_infinite: false,
                    robust_se: robust.as_ref().map(|_| f64::NAN),
                };
            }
            let b = nr.beta[k];
            let se = nr.var[k][k].sqrt();
            let robust_se = robust.as_ref().map(|(rv, _, _)| rv[k][k].sqrt());
            let se_used = robust_se.unwrap_or(se);
            let z = b / se_used;
            CoxTerm {
                term: design.names[k].clone(),
                coef: b,
                se,
                z,
                p: two_sided_p(z),
                hr: b.exp(),
                hr_lower: (b - zc * se_used).exp(),
                hr_upper: (b + zc * se_used).exp(),
                possibly_infinite: infs[k],
                robust_se,
            }
        })
        .collect();
    if dropped.iter().any(|&d| d) {
        warnings.push(format!(
            "X matrix deemed to be singular; variable {} not estimable",
            design
                .names
                .iter()
                .zip(&dropped)
                .filter(|(_, d)| **d)
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let keep: Vec<usize> = (0..p).filter(|&k| !dropped[k]).collect();
    let df = keep.len();
    let vsub: Vec<Vec<f64>> = keep
        .iter()
        .map(|&a| keep.iter().map(|&b| var_used[a][b]).collect())
        .collect();
    let bsub: Vec<f64> = keep.iter().map(|&k| nr.beta[k]).collect();
    // R's coxph.wtest: b²/v for a single coefficient (NaN for 0/0), else a
    // generalised-inverse quadratic form
    let wald = if bsub.len() == 1 {
        bsub[0] * bsub[0] / vsub[0][0]
    } else {
        quad_form_inv(&vsub, &bsub)
    };
    let lr = 2.0 * (nr.loglik - nr.loglik_null);
    let test = |stat: f64| TestStat {
        stat,
        df,
        p: chisq_sf(stat, df as f64),
    };
    let (concordance_detail, concordance, concordance_se) = match opts.concordance {
        ConcordanceChoice::Skip => (None, None, None),
        ConcordanceChoice::Compute => {
            let beta0: Vec<f64> = nr
                .beta
                .iter()
                .map(|b| if b.is_finite() { *b } else { 0.0 })
                .collect();
            let lp = |i: usize| -> f64 {
                design
                    .columns
                    .iter()
                    .zip(&beta0)
                    .map(|(c, b)| c[i] * b)
                    .sum()
            };
            // R passes the weights, the (start, stop] rows and the cluster to
            // concordancefit: the clustered IJ SE sums dfbeta within cluster
            let conc = if let Some(c) =
                collapsed.filter(|_| rows.weight.is_none() && rows.start.is_none())
            {
                // the rows' concordance from their right-censored cells
                // (copies counted)
                let eta: Vec<f64> = c.rep.iter().map(|&i| lp(i)).collect();
                let count: Vec<f64> = c.count.iter().map(|&k| f64::from(k)).collect();
                let st = strata.map(|s| c.pick(s));
                crate::concordance_general::concordance_counts(
                    &c.pick(time),
                    &c.pick(event),
                    &count,
                    &eta,
                    st.as_deref(),
                )
            } else if general || cluster.is_some() {
                let mut eta = vec![0.0; n];
                crate::par::fill(&mut eta, lp);
                crate::concordance_general::concordance_general(
                    fixed_start.as_deref(),
                    time,
                    event,
                    rows.weight,
                    &eta,
                    strata,
                    cluster,
                )
            } else {
                let mut eta = vec![0.0; n];
                crate::par::fill(&mut eta, lp);
                crate::concordance::concordance(time, event, &eta, strata)
            };
            match conc.ok() {
                Some(c) => (Some(c.clone()), Some(c.c), Some(c.se)),
                None => (None, None, None),
            }
        }
    };
    let (robust_var, robust_score_test, n_clusters) = match robust {
        Some((rv, rs, nc)) => (Some(rv), Some(test(rs)), nc),
        None => (None, None, None),
    };
    // (cox.zph collapses weighted rows by itself, when it does; it takes
    // no (start, stop] rows)
    if let Some(out) = handoff.filter(|_| rows.weight.is_none() && rows.start.is_none()) {
        out.time = Some(match fixed_time {
            std::borrow::Cow::Borrowed(_) => FitTimes::AsGiven,
            std::borrow::Cow::Owned(t) => FitTimes::Fixed(t),
        });
        out.cells = tried;
    }
    Ok(CoxFit {
        n,
        nevent: event.iter().filter(|&&e| e).count(),
        ties: opts.ties,
        timefix: opts.timefix,
        terms,
        var: nr.var,
        variance,
        robust_var,
        n_clusters,
        means,
        loglik_null: nr.loglik_null,
        loglik: nr.loglik,
        lr_test: test(lr),
        wald_test: test(wald),
        score_test: test(nr.score_test),
        robust_score_test,
        concordance,
        concordance_se,
        concordance_detail,
        iterations: nr.iterations,
        converged: nr.converged,
        warnings,
    })
}

/// Rows sorted by stratum ascending, time descending, covariates centred at
/// `means` (row-major), with their weights, entry times and Efron tie
/// counts; and the sort order (sorted position → input row).
#[allow(clippy::too_many_arguments)]
fn sorted_data(
    time: &[f64],
    event: &[bool],
    cols: &[&[f64]],
    means: &[f64],
    strata: Option<&[usize]>,
    weight: Option<&[f64]>,
    start: Option<&[f64]>,
    count: Option<&[u32]>,
) -> (CoxData, Vec<usize>) {
    let n = time.len();
    let p = cols.len();
    // sort by stratum ascending, time descending
    // (stable radix sort: by descending time, then by stratum)
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .map(|i| (!crate::km::time_key(time[i]), i as u32))
        .collect();
    crate::sort::radix_sort_pairs(&mut keyed);
    // without strata the sorted times are the keys themselves (no gather)
    let sorted_time: Option<Vec<f64>> = strata
        .is_none()
        .then(|| keyed.iter().map(|p| f64::from_bits(!p.0)).collect());
    if let Some(s) = strata {
        for p in keyed.iter_mut() {
            p.0 = s[p.1 as usize] as u64;
        }
        crate::sort::radix_sort_pairs(&mut keyed);
    }
    let order: Vec<usize> = keyed.iter().map(|p| p.1 as usize).collect();
    drop(keyed);
    // gather one column at a time: its random reads stay within one
    // column's memory, which caches far better than all columns at once;
    // the two halves of the rows go to the two cores (pure data movement)
    let mut x = vec![0.0; n * p];
    let mut sorted_event = vec![false; n];
    {
        let h = n / 2;
        let (xa, xb) = x.split_at_mut(h * p);
        let (ea, eb) = sorted_event.split_at_mut(h);
        let (oa, ob) = order.split_at(h);
        let gather = |xs: &mut [f64], es: &mut [bool], os: &[usize]| {
            for (j, (c, m)) in cols.iter().zip(means).enumerate() {
                for (row, &i) in xs.chunks_exact_mut(p).zip(os) {
                    row[j] = c[i] - m;
                }
            }
            for (e, &i) in es.iter_mut().zip(os) {
                *e = event[i];
            }
        };
        crate::par::join(
            n >= crate::par::MIN_PAR,
            || gather(xa, ea, oa),
            || gather(xb, eb, ob),
        );
    }
    let data = CoxData {
        x,
        p,
        time: sorted_time.unwrap_or_else(|| order.iter().map(|&i| time[i]).collect()),
        event: sorted_event,
        strata: match strata {
            Some(s) => order.iter().map(|&i| s[i]).collect(),
            None => Vec::new(),
        },
        weight: match weight {
            Some(w) => order.iter().map(|&i| w[i]).collect(),
            None => Vec::new(),
        },
        start: match start {
            Some(s) => order.iter().map(|&i| s[i]).collect(),
            None => Vec::new(),
        },
        start_order: Vec::new(),
        count: match count {
            Some(c) => order.iter().map(|&i| c[i]).collect(),
            None => Vec::new(),
        },
    };
    let mut data = data;
    if !data.start.is_empty() {
        // stable radix sorts: by start descending, then by stratum
        let mut keyed: Vec<(u64, u32)> = (0..n)
            .map(|i| (!crate::sort::f64_key(data.start[i]), i as u32))
            .collect();
        crate::sort::radix_sort_pairs(&mut keyed);
        if !data.strata.is_empty() {
            for p in keyed.iter_mut() {
                p.0 = data.strata[p.1 as usize] as u64;
            }
            crate::sort::radix_sort_pairs(&mut keyed);
        }
        data.start_order = keyed.iter().map(|p| p.1 as usize).collect();
    }
    (data, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_binary_covariate_breslow_score_equals_hand_value() {
        // two groups, no ties: score test at 0 = log-rank statistic
        let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let event = [true, true, false, true, true, true];
        let x = vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let d = Design::from_numeric(vec![("g".into(), x.clone())]);
        let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
        let g: Vec<usize> = x.iter().map(|&v| v as usize).collect();
        let lr = crate::logrank::logrank(&time, &event, &g, None, &Default::default()).unwrap();
        assert!((fit.score_test.stat - lr.chisq).abs() < 1e-12);
        assert!(fit.converged);
        assert!(fit.lr_test.stat >= 0.0);
    }

    #[test]
    fn no_events_is_a_clear_error() {
        let d = Design::from_numeric(vec![("x".into(), vec![1.0, 2.0, 3.0])]);
        let e = cox_fit(
            &[1.0, 2.0, 3.0],
            &[false; 3],
            &d,
            None,
            &CoxOptions::default(),
        );
        assert!(matches!(e, Err(SurvError::Degenerate { .. })));
    }

    #[test]
    fn monotone_likelihood_is_flagged() {
        // all events in group 1 happen before any in group 0 -> beta diverges
        let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let event = [true, true, true, false, false, false];
        let x = vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let d = Design::from_numeric(vec![("g".into(), x)]);
        let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
        assert!(fit.terms[0].possibly_infinite || !fit.converged);
        assert!(!fit.warnings.is_empty());
    }
}
