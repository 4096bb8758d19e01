//! The stylesheet embedded in every report.

/// The stylesheet embedded in every report.
pub const REPORT_CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem 1.5rem 3rem;
  font-family: "DejaVu Sans", Verdana, "Segoe UI", Arial, Helvetica, sans-serif;
  font-size: 15px; line-height: 1.45; color: #111; background: #fff; }
h1 { font-size: 1.7rem; margin: 0.4rem 0 0.2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.8rem; padding-bottom: 0.25rem;
  border-bottom: 1px solid #bbb; }
.subtitle { color: #444; margin: 0 0 1rem; font-size: 1.05rem; }
.synthetic-banner { border: 3px solid #b00020; background: #fde8eb; color: #7a0014;
  padding: 0.7rem 1rem; margin: 0.5rem 0 1rem; font-size: 1.05rem;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.synthetic-banner strong { letter-spacing: 0.06em; }
.synthetic-mark { display: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  margin: 0.8rem 0 1.2rem; font-size: 0.9rem; }
dl.facts dt { font-weight: bold; color: #333; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
nav.toc { font-size: 0.95rem; border: 1px solid #ddd; padding: 0.4rem 1rem; margin: 1rem 0; }
nav.toc ol { margin: 0.3rem 0; }
nav.toc a { color: #0b4f8a; text-decoration: none; }
figure { margin: 1.2rem 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption, caption { font-size: 0.92rem; color: #222; text-align: left; }
figcaption { margin-top: 0.4rem; }
caption { caption-side: top; padding-bottom: 0.4rem; }
.fig-no, .tab-no { font-weight: bold; }
table { border-collapse: collapse; margin: 1rem 0 0.3rem; font-size: 0.9rem;
  border-top: 2px solid #000; border-bottom: 2px solid #000; }
thead tr:last-child th { border-bottom: 1px solid #000; }
th, td { padding: 0.22rem 0.7rem; vertical-align: top; }
th { font-weight: bold; }
td.l, th.l { text-align: left; } td.c, th.c { text-align: center; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r, td.c { white-space: nowrap; }
tbody tr:nth-child(even) { background: #f6f6f6; }
.footnote { font-size: 0.82rem; color: #333; margin: 0.2rem 0 1rem; }
.notice { border-left: 4px solid #d55e00; background: #fff4ec; padding: 0.5rem 0.8rem; margin: 0.8rem 0; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.82rem; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #555; border-top: 1px solid #ccc; padding-top: 0.5rem; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav.toc { display: none; }
  section { break-before: page; page-break-before: always; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, .notice { break-inside: avoid; page-break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .synthetic-mark { display: block; position: fixed; top: 0; right: 0; font-size: 8pt;
    font-weight: bold; color: #b00020; border: 1px solid #b00020; padding: 1px 4px; }
}
"#;
