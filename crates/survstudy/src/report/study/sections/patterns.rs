//! The plan's `[[summaries]]`: yes/no flags, cross-tables, intervals and
//! breakdowns of a category, in plan order. A summary with a heading
//! starts a section; one without joins the section before it.

#[allow(unused_imports)]
use crate::report::study::*;

use crate::analysis::{
    CrossTable, ExtraSummary, IntervalSummary, NextLine, PatternRow, SummaryLayout, SummaryPlace,
};

/// `title` ending with a full stop.
fn sentence(title: &str) -> String {
    if title.ends_with(['.', '?', '!']) {
        title.to_string()
    } else {
        format!("{title}.")
    }
}

impl Builder<'_> {
    /// One section per heading of the plan's summaries.
    pub(crate) fn summary_sections(&mut self) -> Vec<Section> {
        let mut sections: Vec<Section> = vec![];
        let r = self.r;
        for item in &r.summary_layout {
            let block = match item.place {
                SummaryPlace::PatternRows => self.flags_block(item, &r.patterns.rows),
                SummaryPlace::PatternCrossTable => r
                    .patterns
                    .cross_table
                    .as_ref()
                    .map(|t| self.cross_table_block(item, t)),
                SummaryPlace::PatternIntervals => self.intervals_block(item, &r.patterns.intervals),
                SummaryPlace::NextLine => {
                    r.next_line.as_ref().map(|t| self.breakdown_block(item, t))
                }
                SummaryPlace::Extra(i) => match r.summaries.get(i) {
                    Some(ExtraSummary::Flags { rows, .. }) => self.flags_block(item, rows),
                    Some(ExtraSummary::CrossTable { table, .. }) => {
                        Some(self.cross_table_block(item, table))
                    }
                    Some(ExtraSummary::Intervals { intervals, .. }) => {
                        self.intervals_block(item, intervals)
                    }
                    Some(ExtraSummary::Breakdown { table, .. }) => {
                        Some(self.breakdown_block(item, table))
                    }
                    None => None,
                },
            };
            let heading = item.heading.as_ref();
            if heading.is_some() || sections.is_empty() {
                sections.push(Section {
                    heading: heading.cloned().unwrap_or_else(|| item.title.clone()),
                    blocks: vec![],
                });
            }
            if let (Some(b), Some(s)) = (block, sections.last_mut()) {
                s.blocks.push(b);
            }
        }
        sections.retain(|s| !s.blocks.is_empty());
        sections
    }

    fn flags_block(&self, item: &SummaryLayout, rows: &[PatternRow]) -> Option<Block> {
        let f = &self.f;
        {
            if rows.is_empty() {
                return None;
            }
            let denom = rows.iter().map(|r| r.denominator).max().unwrap_or(self.r.n);
            let body = rows
                .iter()
                .map(|r| {
                    let pct = if f.is_suppressed(r.n) {
                        "\u{2014}".to_string()
                    } else {
                        r.pct
                            .map(|x| format!("{x:.1}%"))
                            .unwrap_or_else(|| "\u{2014}".into())
                    };
                    vec![
                        Cell::from(r.label.clone()),
                        Cell::from(f.count(r.n)),
                        Cell::from(pct),
                    ]
                })
                .collect();
            Some(Block::Table(Table {
                caption: sentence(&item.title),
                header: vec![vec![
                    Cell::from(item.row_header.clone()),
                    Cell::from("n"),
                    Cell::from(format!("% of patients (N = {})", f.count(denom))),
                ]],
                body,
                footnote: item.footnote.clone(),
                align: vec![Align::Left, Align::Right, Align::Right],
            }))
        }
    }

    fn cross_table_block(&self, item: &SummaryLayout, ct: &CrossTable) -> Block {
        let f = &self.f;
        {
            let cl = ct.cols_label.clone();
            let rl = ct.rows_label.clone();
            let nc = ct.col_levels.len();
            let mut h0 = vec![Cell::from("")];
            h0.push(Cell::spanning(cl.clone(), nc as u32));
            h0.push(Cell::from(""));
            let mut h1 = vec![Cell::from(rl.clone())];
            h1.extend(ct.col_levels.iter().map(|l| Cell::from(l.clone())));
            h1.push(Cell::from("Total"));
            let mut body: Vec<Vec<Cell>> = Vec::new();
            let mut col_tot = vec![0usize; nc];
            for (i, l) in ct.row_levels.iter().enumerate() {
                let row = ct.counts.get(i).cloned().unwrap_or_default();
                let mut r = vec![Cell::from(l.clone())];
                for (j, tot) in col_tot.iter_mut().enumerate() {
                    let c = row.get(j).copied().unwrap_or(0);
                    *tot += c;
                    r.push(Cell::from(f.count(c)));
                }
                r.push(Cell::from(f.count(row.iter().sum())));
                body.push(r);
            }
            let mut r = vec![Cell::bold("Total")];
            r.extend(col_tot.iter().map(|&c| Cell::from(f.count(c))));
            r.push(Cell::from(f.count(col_tot.iter().sum())));
            body.push(r);
            let mut align = vec![Align::Left];
            align.extend(std::iter::repeat_n(Align::Right, nc + 1));
            Block::Table(Table {
                caption: sentence(&item.title),
                header: vec![h0, h1],
                body,
                footnote: None,
                align,
            })
        }
    }

    fn intervals_block(&self, item: &SummaryLayout, ivs: &[IntervalSummary]) -> Option<Block> {
        let f = &self.f;
        {
            if ivs.is_empty() {
                return None;
            }
            let body = ivs
                .iter()
                .map(|iv| {
                    let unit_txt = match (iv.median, iv.min, iv.max) {
                        (Some(m), Some(a), Some(b)) => {
                            format!("{} ({}\u{2013}{})", t1(m), t1(a), t1(b))
                        }
                        _ => "\u{2014}".to_string(),
                    };
                    let day_txt = match (iv.median_days, iv.min_days, iv.max_days) {
                        (Some(m), Some(a), Some(b)) => format!("{m:.0} ({a:.0}\u{2013}{b:.0})"),
                        _ => "\u{2014}".to_string(),
                    };
                    vec![
                        Cell::from(iv.time_label.as_str()),
                        Cell::from(f.count(iv.n)),
                        Cell::from(unit_txt),
                        Cell::from(day_txt),
                    ]
                })
                .collect();
            let unit = ivs
                .first()
                .map(|i| i.unit.clone())
                .unwrap_or_else(|| self.unit.clone());
            Some(Block::Table(Table {
                caption: sentence(&item.title),
                header: vec![vec![
                    Cell::from(item.row_header.clone()),
                    Cell::from("n"),
                    Cell::from(format!("Median (range), {unit}")),
                    Cell::from("Median (range), days"),
                ]],
                body,
                footnote: Some(format!(
                    "{} = days / {}.",
                    capitalise(&unit),
                    self.r.conventions.days_per_unit
                )),
                align: vec![Align::Left, Align::Right, Align::Right, Align::Right],
            }))
        }
    }

    fn breakdown_block(&self, item: &SummaryLayout, nl: &NextLine) -> Block {
        let f = &self.f;
        let k = nl.by_levels.len();
        let by_label = nl.by_label.clone();
        let mut header = vec![];
        if k > 0 {
            let mut h0 = vec![Cell::from(""), Cell::from("")];
            h0.push(Cell::spanning(by_label.clone(), k as u32));
            header.push(h0);
        }
        let mut h1 = vec![
            Cell::from(item.row_header.clone()),
            Cell::from(format!("Overall, N = {}", f.count(nl.n))),
        ];
        for (i, l) in nl.by_levels.iter().enumerate() {
            h1.push(Cell::from(format!(
                "{l}, N = {}",
                f.count(nl.n_by.get(i).copied().unwrap_or(0))
            )));
        }
        header.push(h1);
        let body = nl
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::from(r.category.clone()),
                    Cell::from(f.n_pct(r.n, r.pct)),
                ];
                for b in 0..k {
                    let crate::analysis::table1::GroupCount { n, pct: p } =
                        r.by.get(b).copied().unwrap_or_default();
                    row.push(Cell::from(f.n_pct(n, p)));
                }
                row
            })
            .collect();
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Center, k + 1));
        let title = item.title.trim_end_matches('.');
        let caption = if k > 0 {
            format!("{title}, overall and by {by_label}.")
        } else {
            format!("{title}.")
        };
        Block::Table(Table {
            caption,
            header,
            body,
            footnote: Some("n (%) of the patients in each column.".to_string()),
            align,
        })
    }
}
