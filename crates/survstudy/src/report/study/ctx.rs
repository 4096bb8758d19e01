//! The state shared by the section builders: the results, the options, the
//! formatters, the labels and the figures collected so far.

#[allow(unused_imports)]
use super::*;

pub(crate) struct Builder<'a> {
    pub(crate) r: &'a Results,
    pub(crate) opts: &'a ReportOptions,
    pub(crate) f: Fmt<'a>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) figures: Vec<ReportFigure>,
    pub(crate) unit: String,
    /// What the current endpoint's times run from when it is a duration
    /// export (`None`: the time-zero column).
    pub(crate) origin: Option<String>,
}

impl Builder<'_> {
    pub(crate) fn figure(&mut self, name: &str, caption: String, svg: String) -> Block {
        let mut name = slug(name);
        if self.figures.iter().any(|f| f.name == name) {
            let mut k = 2;
            while self.figures.iter().any(|f| f.name == format!("{name}_{k}")) {
                k += 1;
            }
            name = format!("{name}_{k}");
        }
        self.figures.push(ReportFigure {
            name,
            caption: caption.clone(),
            svg: svg.clone(),
        });
        Block::Figure(Figure { svg, caption })
    }

    pub(crate) fn style(&self) -> PlotStyle {
        PlotStyle {
            suppress_below: self.opts.suppress_below,
            ..PlotStyle::default()
        }
    }

    /// Uses the unit and origin of `ep` while `f` builds its blocks.
    pub(crate) fn with_endpoint<T>(&mut self, code: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let ep = self.r.endpoints.iter().find(|e| e.endpoint == code);
        let unit = ep.and_then(|e| e.time_unit).map(|u| u.name().to_string());
        let origin = ep.and_then(|e| e.duration.as_ref()).map(|d| d.from.clone());
        let saved_unit = unit.map(|u| std::mem::replace(&mut self.unit, u));
        let saved_origin = std::mem::replace(&mut self.origin, origin);
        let out = f(self);
        if let Some(u) = saved_unit {
            self.unit = u;
        }
        self.origin = saved_origin;
        out
    }

    /// The study's confidence level as a percentage ("95%").
    pub(crate) fn conf_pct(&self) -> String {
        format!("{}%", num_text(self.r.conventions.conf_level * 100.0))
    }

    pub(crate) fn x_label(&self) -> String {
        if let Some(o) = &self.origin {
            return format!(
                "{} from {}",
                capitalise(&self.unit),
                date_phrase(o, Some(o))
            );
        }
        format!(
            "{} from {}",
            capitalise(&self.unit),
            date_phrase(
                &self.r.conventions.time_zero,
                self.r.conventions.time_zero_label.as_deref()
            )
        )
    }

    pub(crate) fn unit_short(&self) -> String {
        match self.unit.as_str() {
            "months" => "mo",
            "years" => "yr",
            "weeks" => "wk",
            "days" => "d",
            u => u,
        }
        .to_string()
    }

    /// `landmark at 3 months; time from the landmark`.
    pub(crate) fn landmark_phrase(&self, l: f64) -> String {
        format!(
            "landmark at {} {}; time from the landmark",
            num_text(l),
            self.unit
        )
    }

    /// A figure title with `(landmark at 3 months)` appended unless the
    /// title already mentions the landmark.
    pub(crate) fn landmark_title(&self, title: &str, landmark: Option<f64>) -> String {
        match landmark {
            Some(l) if !title.to_lowercase().contains("landmark") => {
                format!("{title} (landmark at {} {})", num_text(l), self.unit)
            }
            _ => title.to_string(),
        }
    }

    /// `Months from the 3-month landmark` for landmark analyses.
    pub(crate) fn x_label_for(&self, landmark: Option<f64>) -> String {
        match landmark {
            Some(l) => format!(
                "{} from the {}-{} landmark",
                capitalise(&self.unit),
                num_text(l),
                self.unit.trim_end_matches('s')
            ),
            None => self.x_label(),
        }
    }
}

/// A date column in a sentence: its label with a lower-case first letter
/// (`Randomisation` → `randomisation`; an acronym such as `CAR-T` keeps
/// its case), or the humanised name when the plan gives no label.
pub(crate) fn date_phrase(name: &str, label: Option<&str>) -> String {
    match label.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => {
            let mut ch = l.chars();
            match (ch.next(), ch.next()) {
                (Some(_), Some(b)) if b.is_uppercase() => l.to_string(),
                (Some(a), _) => a.to_lowercase().chain(l.chars().skip(1)).collect(),
                _ => l.to_string(),
            }
        }
        None => humanise(name),
    }
}
