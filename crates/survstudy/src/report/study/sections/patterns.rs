//! Progression patterns, their cross-table, intervals and next-line therapy.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn patterns_section(&mut self) -> Option<Section> {
        let p = &self.r.patterns;
        if p.rows.is_empty() && p.cross_table.is_none() && p.intervals.is_empty() {
            return None;
        }
        let f = &self.f;
        let mut blocks = vec![];
        if !p.rows.is_empty() {
            let denom = p
                .rows
                .iter()
                .map(|r| r.denominator)
                .max()
                .unwrap_or(self.r.n);
            let body = p
                .rows
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
            blocks.push(Block::Table(Table {
                caption: p.title.clone(),
                header: vec![vec![
                    Cell::from("Pattern at progression"),
                    Cell::from("n"),
                    Cell::from(format!("% of patients (N = {})", f.count(denom))),
                ]],
                body,
                footnote: Some(
                    "The patterns are not mutually exclusive: a patient can have more than one \
                     (e.g. biochemical and extramedullary progression), so the percentages do not \
                     add up to 100%."
                        .to_string(),
                ),
                align: vec![Align::Left, Align::Right, Align::Right],
            }));
        }
        if let Some(ct) = &p.cross_table {
            let rl = label_of(&self.labels, &ct.rows);
            let cl = label_of(&self.labels, &ct.cols);
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
            blocks.push(Block::Table(Table {
                caption: format!("{rl} by {cl} (number of patients)."),
                header: vec![h0, h1],
                body,
                footnote: None,
                align,
            }));
        }
        if !p.intervals.is_empty() {
            let body = p
                .intervals
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
            let unit = p
                .intervals
                .first()
                .map(|i| i.unit.clone())
                .unwrap_or_else(|| self.unit.clone());
            blocks.push(Block::Table(Table {
                caption: p.intervals_title.clone(),
                header: vec![vec![
                    Cell::from("Interval"),
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
            }));
        }
        Some(Section {
            heading: "Progression patterns".to_string(),
            blocks,
        })
    }

    pub(crate) fn next_line_section(&mut self) -> Option<Section> {
        let nl = self.r.next_line.as_ref()?;
        let f = &self.f;
        let k = nl.by_levels.len();
        let by_label = nl
            .by
            .as_deref()
            .map(|b| label_of(&self.labels, b))
            .unwrap_or_default();
        let mut header = vec![];
        if k > 0 {
            let mut h0 = vec![Cell::from(""), Cell::from("")];
            h0.push(Cell::spanning(by_label.clone(), k as u32));
            header.push(h0);
        }
        let mut h1 = vec![
            Cell::from("Next-line therapy"),
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
                    let (n, p) = r.by.get(b).copied().unwrap_or((0, None));
                    row.push(Cell::from(f.n_pct(n, p)));
                }
                row
            })
            .collect();
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Center, k + 1));
        let caption = if k > 0 {
            format!("{}, overall and by {by_label}.", nl.title)
        } else {
            format!("{}.", nl.title)
        };
        Some(Section {
            heading: "Next-line therapy".to_string(),
            blocks: vec![Block::Table(Table {
                caption,
                header,
                body,
                footnote: Some("n (%) of the patients in each column.".to_string()),
                align,
            })],
        })
    }
}
