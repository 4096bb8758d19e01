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

    pub(crate) fn x_label(&self) -> String {
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
