//! Patient flow: the flow diagram and the list of excluded rows.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn flow_section(&mut self) -> Section {
        let flow = &self.r.flow;
        let mut blocks = vec![self.flow_figure()];
        // the filters of the analysed population, in order, with counts
        for fs in &flow.filters {
            blocks.push(Block::Paragraph(format!(
                "Filter \u{201c}{}\u{201d} (column {}): {} patient(s) left out, {} remaining.",
                fs.description,
                fs.column,
                self.f.count(fs.excluded),
                self.f.count(fs.remaining)
            )));
        }
        // what the run noted about the input: columns absent by the plan's
        // choice and what was skipped because of them, endpoints without events
        for n in &flow.notes {
            blocks.push(Block::Notice(n.clone()));
        }
        if flow.excluded.is_empty() {
            blocks.push(Block::Paragraph(format!(
                "All {} rows read were valid; no patient was excluded.",
                self.f.count(flow.rows_read)
            )));
        } else {
            blocks.push(Block::Table(self.excluded_rows_table()));
        }
        Section {
            heading: "Patient flow".to_string(),
            blocks,
        }
    }

    /// The flow diagram: rows read with the exclusions by reason (at most
    /// eight boxes, the rest summed), patients analysed, and each endpoint's
    /// population when it is smaller.
    fn flow_figure(&mut self) -> Block {
        let flow = &self.r.flow;
        // one reason per row, so that the reasons add up to the rows
        let reasons = flow.reason_counts();
        let mut excl: Vec<FlowExclusion> = Vec::new();
        let max_reasons = 8;
        for (k, r) in reasons.iter().enumerate() {
            if k + 1 == max_reasons && reasons.len() > max_reasons {
                let rest: u64 = reasons[k..].iter().map(|x| x.n as u64).sum();
                excl.push(FlowExclusion {
                    reason: format!("{} other reasons", reasons.len() - k),
                    n: rest,
                });
                break;
            }
            excl.push(FlowExclusion {
                reason: r.reason.clone(),
                n: r.n as u64,
            });
        }
        let mut stages = vec![
            FlowStage {
                label: "Rows read from the input".to_string(),
                n: flow.rows_read as u64,
                excluded: excl,
            },
            FlowStage {
                label: "Patients analysed".to_string(),
                n: flow.analysed as u64,
                excluded: vec![],
            },
        ];
        // endpoint populations, when smaller than the analysed cohort
        for ep in &self.r.endpoints {
            if ep.overall.n != flow.analysed {
                stages.push(FlowStage {
                    label: format!("In the {} analysis", ep.endpoint),
                    n: ep.overall.n as u64,
                    excluded: vec![],
                });
            }
        }
        let diagram = FlowDiagram {
            stages,
            suppress_below: self.opts.suppress_below,
            ..FlowDiagram::default()
        };
        let svg = render_flow_svg(&diagram);
        self.figure(
            "flow",
            "Patient flow: rows read, rows excluded by reason, patients analysed.".to_string(),
            svg,
        )
    }

    /// The excluded rows by line (the first [`crate::flow::EXCLUDED_LISTED`]):
    /// identifiers and raw reasons only when identifiers are shown.
    fn excluded_rows_table(&self) -> Table {
        let flow = &self.r.flow;
        let shown = self.opts.show_identifiers == Identifiers::Shown;
        let mut header = vec![Cell::from("Line")];
        if shown {
            header.push(Cell::from("Patient ID"));
        }
        header.push(Cell::from("Reason"));
        let listed = flow.excluded.len().min(crate::flow::EXCLUDED_LISTED);
        let body = flow.excluded[..listed]
            .iter()
            .map(|e| {
                let mut row = vec![Cell::from(e.line.to_string())];
                if shown {
                    row.push(Cell::from(e.patient_id.clone().unwrap_or_default()));
                    row.push(Cell::from(e.reason.clone()));
                } else {
                    row.push(Cell::from(e.summaries().join("; ")));
                }
                row
            })
            .collect();
        let mut align = vec![Align::Right];
        if shown {
            align.push(Align::Left);
        }
        align.push(Align::Left);
        Table {
            caption: if listed < flow.excluded.len() {
                format!(
                    "Excluded rows ({}; the first {} listed, every row is counted by reason in the flow diagram and listed in tables/flow.csv), by line of the input file (header = line 1).",
                    self.f.count(flow.excluded.len()),
                    self.f.count(listed)
                )
            } else {
                format!(
                    "Excluded rows ({}), by line of the input file (header = line 1).",
                    self.f.count(flow.excluded.len())
                )
            },
            header: vec![header],
            body,
            footnote: Some(if shown {
                "Patient identifiers and cell values are shown because the report was \
                 built with identifiers shown; do not share this page outside the study team."
                    .to_string()
            } else {
                "Patient identifiers and cell values are not shown; the reasons are \
                 generic (column and problem)."
                    .to_string()
            }),
            align,
        }
    }
}
