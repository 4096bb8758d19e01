//! # survkit — survival statistics that agree with R's `survival` package
//!
//! Pure numerics: no I/O, never prints. Every estimator documents its formula,
//! the paper it comes from and the R call it reproduces (R survival 3.5-3 is
//! the reference; see `tests/` for the golden comparisons).
//!
//! | module | estimator | R |
//! |---|---|---|
//! | [`km`] | Kaplan–Meier, Greenwood variance, CIs, quantiles, restricted mean | `survfit` |
//! | [`logrank`] | log-rank / Fleming–Harrington G(ρ) k-sample tests | `survdiff` |
//! | [`cox`] | Cox proportional hazards (Efron, Breslow, exact ties), robust/cluster variance | `coxph` |
//! | [`concordance`] | Harrell's C with infinitesimal-jackknife SE, O(n log n) | `coxph()$concordance` |
//! | [`zph`] | proportional-hazards test and scaled Schoenfeld residuals | `cox.zph` |
//! | [`smooth`] | natural-spline smooth of the PH residual plot, ±2 SE band | `plot.cox.zph` |
//! | [`cif`] | Aalen–Johansen cumulative incidence, Gray's test | `cmprsk::cuminc` |
//! | [`rmst`] | restricted mean survival time, difference and ratio | `survRM2::rmst2` |
//! | [`hypothesis`] | Fisher, chi-square, Wilcoxon rank-sum, Kruskal–Wallis | `fisher.test`, `chisq.test`, `wilcox.test` |
//! | [`dist`] | distribution helpers (upper tails computed directly) | `pnorm`, `pchisq`, `qnorm` |
//! | [`linalg`] | LDLᵀ with R's pivot rule for p×p information matrices | `cholesky2` |
//! | [`wkm`] | Kaplan–Meier with case weights, (start, stop] rows, infinitesimal-jackknife SE | `survfit(Surv(start, stop, e), weights, id, robust)` |
//! | [`timefix`] | nearly equal times tied before every fit | `aeqSurv` (`timefix = TRUE`) |
//! | [`tabulated`] | KM per group, log-rank, RMST from one (time × group) count table | `survfit`, `survdiff`, `survRM2::rmst2` |

// Index loops mirror the matrix formulas in the docs; iterator rewrites obscure them.
#![allow(clippy::needless_range_loop)]
#![deny(missing_docs)]

pub mod cif;
pub mod concordance;
pub mod concordance_general;
pub mod cox;
pub mod dist;
pub mod error;
pub mod finegray;
pub mod gformula;
pub mod hypothesis;
pub mod km;
pub mod linalg;
pub mod logistic;
pub mod logrank;
pub mod par;
pub mod rmst;
pub mod smooth;
pub mod sort;
pub mod tabulated;
pub mod timefix;
pub mod wkm;
pub mod zph;

pub use error::{Result, SurvError};
