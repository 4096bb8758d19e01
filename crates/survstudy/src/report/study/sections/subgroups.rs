//! Subgroup analyses: a forest plot of the exposure's hazard ratio within
//! each subgroup level, with the interaction p-value, and the same numbers
//! as a table.

#[allow(unused_imports)]
use crate::report::study::*;

use crate::analysis::subgroups::{SubgroupLevel, SubgroupResult};

/// The forest-plot rows and table rows of one subgroup analysis, filled
/// level by level.
#[derive(Default)]
struct SubgroupRows {
    forest: Vec<ForestRow>,
    table: Vec<Vec<Cell>>,
}

impl Builder<'_> {
    pub(crate) fn subgroups_section(&mut self) -> Option<Section> {
        if self.r.subgroups.is_empty() {
            return None;
        }
        let mut blocks = vec![];
        let all: Vec<SubgroupResult> = self.r.subgroups.clone();
        for sg in &all {
            blocks.extend(self.subgroup_blocks(sg));
        }
        Some(Section {
            heading: "Subgroup analyses".to_string(),
            blocks,
        })
    }

    /// The forest plot, the table and the notices of one subgroup analysis.
    fn subgroup_blocks(&mut self, sg: &SubgroupResult) -> Vec<Block> {
        let lc = format!(
            "{}_{}",
            sg.endpoint.to_ascii_lowercase(),
            slug(&sg.exposure)
        );
        let contrasts: Vec<String> = sg
            .overall
            .iter()
            .flat_map(|o| o.terms.iter())
            .filter_map(|t| t.level.clone())
            .collect();
        let multi = contrasts.len() > 1;
        let mut rows = SubgroupRows::default();
        if let Some(o) = &sg.overall {
            self.subgroup_level_rows(&mut rows, "All patients", o, 0, multi);
        }
        for b in &sg.by {
            let p = b
                .interaction
                .as_ref()
                .map(|t| format!("interaction {}", self.f.p_eq(t.p)))
                .unwrap_or_else(|| "no interaction test".into());
            rows.forest
                .push(ForestRow::header(&format!("{} ({p})", b.grouping_label)));
            for l in &b.levels {
                self.subgroup_level_rows(&mut rows, &b.grouping_label, l, 1, multi);
            }
        }
        let plot = ForestPlot {
            rows: rows.forest,
            label_header: "Subgroup".to_string(),
            ..ForestPlot::default()
        };
        let svg = render_forest_svg(&plot);
        let vs = if contrasts.is_empty() {
            String::new()
        } else {
            format!(" ({} vs {})", contrasts.join(", "), sg.reference)
        };
        let mut blocks = vec![self.figure(
            &format!("forest_subgroups_{lc}"),
            format!(
                "{}: hazard ratio of {}{vs} within each subgroup (Cox model of {} alone in the subgroup's patients; 95% CI, log scale; p: Wald test). Interaction p: likelihood-ratio test of the model with the {} \u{d7} subgroup terms against the model with both main effects.",
                sg.endpoint, sg.exposure_label, sg.exposure_label, sg.exposure_label
            ),
            svg,
        )];
        blocks.push(Block::Table(self.subgroup_table(sg, &vs, rows.table)));
        for b in &sg.by {
            if b.n_missing > 0 {
                blocks.push(Block::Notice(format!(
                    "{} by {}: {} patient(s) with an unknown {} are left out of this subgroup analysis.",
                    sg.endpoint,
                    b.grouping_label,
                    self.f.count(b.n_missing),
                    b.grouping_label
                )));
            }
        }
        blocks
    }

    /// The rows of one level `l` of subgroup `group`: a header and one
    /// estimate per exposure contrast when there are several (`multi`), else
    /// one estimate labelled with the level; the reason when none was fitted.
    fn subgroup_level_rows(
        &self,
        rows: &mut SubgroupRows,
        group: &str,
        l: &SubgroupLevel,
        indent: u8,
        multi: bool,
    ) {
        let head = format!(
            "{} (n = {}, {} events)",
            l.level,
            self.f.count(l.n),
            self.f.count(l.events)
        );
        if l.terms.is_empty() {
            let why = l.note.clone().unwrap_or_else(|| "not estimated".into());
            rows.forest
                .push(ForestRow::header(&format!("{head}: {why}")));
            rows.table.push(vec![
                Cell::from(group.to_string()),
                Cell::from(l.level.clone()),
                Cell::from(self.f.count(l.n)),
                Cell::from(self.f.count(l.events)),
                Cell::from(why),
                Cell::default(),
            ]);
            return;
        }
        if multi {
            let mut h = ForestRow::header(&head);
            h.indent = indent;
            rows.forest.push(h);
        }
        for t in &l.terms {
            let label = if multi {
                t.level.clone().unwrap_or_default()
            } else {
                head.clone()
            };
            rows.forest
                .push(self.forest_estimate(t, &label, indent + u8::from(multi)));
            rows.table.push(vec![
                Cell::from(group.to_string()),
                Cell::from(if multi {
                    format!("{}: {}", l.level, t.level.clone().unwrap_or_default())
                } else {
                    l.level.clone()
                }),
                Cell::from(self.f.count(l.n)),
                Cell::from(self.f.count(l.events)),
                Cell::from(hr_text(t)),
                Cell::from(self.f.p(t.p)),
            ]);
        }
    }

    /// The table of the same estimates, the interaction tests in its footnote.
    fn subgroup_table(&self, sg: &SubgroupResult, vs: &str, body: Vec<Vec<Cell>>) -> Table {
        let inter_rows: Vec<String> = sg
            .by
            .iter()
            .map(|b| match &b.interaction {
                Some(t) => format!(
                    "{}: interaction chi-square {:.2} on {} df, {}",
                    b.grouping_label,
                    t.chisq,
                    t.df,
                    self.f.p_eq(t.p)
                ),
                None => format!("{}: {}", b.grouping_label, b.notes.join("; ")),
            })
            .collect();
        Table {
            caption: format!(
                "{}: hazard ratio of {}{vs} by subgroup.",
                sg.endpoint, sg.exposure_label
            ),
            header: vec![vec![
                Cell::from("Subgroup"),
                Cell::from("Level"),
                Cell::from("n"),
                Cell::from("Events"),
                Cell::from("HR (95% CI)"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(inter_rows.join("\n")),
            align: vec![
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
            ],
        }
    }
}
