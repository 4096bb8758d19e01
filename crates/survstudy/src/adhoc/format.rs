//! Readable terminal output in the spirit of R's print methods
//! (`print.survfit`, `summary.survfit`, `print.survdiff`, `print.coxph`).

use super::{CoxReport, KmReport, LogrankReport};

/// Format a number with `digits` significant digits, R-style (NA for NaN).
pub fn sig(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NA".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-5..15).contains(&mag) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{:.*}", decimals, x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// p-value as R prints it (`format.pval`, 3 significant digits, `< 2e-16` floor).
pub fn pval(p: f64) -> String {
    if p.is_nan() {
        "NA".into()
    } else if p < 2.2e-16 {
        "<2e-16".into()
    } else {
        sig(p, 3)
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let ncol = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncol)
        .map(|j| {
            rows.iter()
                .map(|r| r.get(j).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if j == 0 {
                    format!("{:<w$}", c, w = widths[j])
                } else {
                    format!("{:>w$}", c, w = widths[j])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn opt(x: Option<f64>) -> String {
    x.map_or("NA".into(), |v| sig(v, 4))
}

impl std::fmt::Display for KmReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ct, cl) = self.groups.first().map_or(("log", 0.95), |g| {
            (g.fit.conf_type.as_str(), g.fit.conf_level)
        });
        writeln!(f, "Kaplan-Meier estimate ({} CI, level {})", ct, cl)?;
        if self.n_dropped > 0 {
            writeln!(
                f,
                "   ({} observations deleted due to missingness)",
                self.n_dropped
            )?;
        }
        let lcl = format!("{}LCL", cl);
        let ucl = format!("{}UCL", cl);
        let mut rows = vec![vec![
            String::new(),
            "n".into(),
            "events".into(),
            "*rmean".into(),
            "*se(rmean)".into(),
            "median".into(),
            lcl,
            ucl,
        ]];
        for g in &self.groups {
            let m = g.fit.median();
            let r = g.fit.rmean(self.rmean_end);
            rows.push(vec![
                g.strata.clone(),
                g.fit.n.to_string(),
                g.fit.n_event_total.to_string(),
                sig(r.rmean, 4),
                sig(r.se, 4),
                opt(m.estimate),
                opt(m.lower),
                opt(m.upper),
            ]);
        }
        write!(f, "{}", table(&rows))?;
        writeln!(
            f,
            "    * restricted mean with upper limit = {}",
            sig(self.rmean_end, 6)
        )?;
        if !self.at.is_empty() {
            for g in &self.groups {
                writeln!(f, "\n{}", g.strata)?;
                let mut rows = vec![vec![
                    "time".to_string(),
                    "n.risk".into(),
                    "n.event".into(),
                    "survival".into(),
                    "std.err".into(),
                    "lower".into(),
                    "upper".into(),
                ]];
                for a in g.fit.surv_at(&self.at) {
                    rows.push(vec![
                        sig(a.time, 6),
                        a.n_risk.to_string(),
                        a.n_event.to_string(),
                        sig(a.surv, 4),
                        sig(a.std_err, 4),
                        sig(a.lower, 4),
                        sig(a.upper, 4),
                    ]);
                }
                write!(f, "{}", table(&rows))?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for LogrankReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.result;
        let name = if r.rho == 0.0 {
            "Log-rank test".to_string()
        } else {
            format!("Fleming-Harrington G(rho = {}) test", r.rho)
        };
        write!(f, "{name}")?;
        if let Some(s) = &self.strata_labels {
            write!(f, ", stratified ({} strata)", s.len())?;
        }
        writeln!(f)?;
        if self.n_dropped > 0 {
            writeln!(
                f,
                "   ({} observations deleted due to missingness)",
                self.n_dropped
            )?;
        }
        let mut rows = vec![vec![
            String::new(),
            "N".into(),
            "Observed".into(),
            "Expected".into(),
            "(O-E)^2/E".into(),
            "(O-E)^2/V".into(),
        ]];
        for (g, l) in self.labels.iter().enumerate() {
            let oe = r.observed[g] - r.expected[g];
            rows.push(vec![
                format!("{}={}", self.group, l),
                r.n[g].to_string(),
                sig(r.observed[g], 4),
                sig(r.expected[g], 4),
                sig(oe * oe / r.expected[g], 3),
                sig(oe * oe / r.var[g][g], 3),
            ]);
        }
        write!(f, "{}", table(&rows))?;
        writeln!(
            f,
            "\n Chisq= {}  on {} degrees of freedom, p= {}",
            sig(r.chisq, 4),
            r.df,
            pval(r.p)
        )
    }
}

impl std::fmt::Display for CoxReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = &self.fit;
        writeln!(
            f,
            "Cox proportional hazards model ({} ties{})",
            x.ties.as_str(),
            self.strata
                .as_ref()
                .map_or(String::new(), |s| format!(", stratified by {s}"))
        )?;
        let mut rows = vec![vec![
            String::new(),
            "coef".into(),
            "exp(coef)".into(),
            "se(coef)".into(),
            "z".into(),
            "p".into(),
            "lower .95".into(),
            "upper .95".into(),
        ]];
        for t in &x.terms {
            rows.push(vec![
                t.term.clone() + if t.possibly_infinite { " (!)" } else { "" },
                sig(t.coef, 4),
                sig(t.hr, 4),
                sig(t.se, 4),
                sig(t.z, 3),
                pval(t.p),
                sig(t.hr_lower, 4),
                sig(t.hr_upper, 4),
            ]);
        }
        write!(f, "{}", table(&rows))?;
        for (v, r) in &self.references {
            writeln!(f, "  reference level of {v}: {r}")?;
        }
        writeln!(f)?;
        for (name, t) in [
            ("Likelihood ratio", &x.lr_test),
            ("Wald", &x.wald_test),
            ("Score (logrank)", &x.score_test),
        ] {
            writeln!(
                f,
                "{name} test={}  on {} df, p={}",
                sig(t.stat, 4),
                t.df,
                pval(t.p)
            )?;
        }
        if let (Some(c), Some(se)) = (x.concordance, x.concordance_se) {
            writeln!(f, "Concordance= {}  (se = {})", sig(c, 3), sig(se, 3))?;
        }
        write!(f, "n= {}, number of events= {}", x.n, x.nevent)?;
        if self.n_dropped > 0 {
            write!(
                f,
                "\n   ({} observations deleted due to missingness)",
                self.n_dropped
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "Log-likelihood: null {}, final {}; {} iterations, {}",
            sig(x.loglik_null, 8),
            sig(x.loglik, 8),
            x.iterations,
            if x.converged {
                "converged"
            } else {
                "NOT converged"
            }
        )?;
        for w in &x.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.000862, 2), "0.00086");
        assert_eq!(sig(310.0, 4), "310");
        assert_eq!(sig(1.23456, 3), "1.23");
        assert_eq!(pval(1e-20), "<2e-16");
        assert_eq!(sig(f64::NAN, 3), "NA");
    }
}
