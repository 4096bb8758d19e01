#!/usr/bin/env python3
"""Generate the pipeline test fixtures (run once; outputs are committed).

    python3 make_fixtures.py      # needs openpyxl (pip install openpyxl)

valid_bom_crlf.csv : UTF-8 with BOM, CRLF line ends, mixed-case headers with
                     spaces, extra columns, a blank row (line 5).
valid.xlsx         : the same patients; sheet "Cohort" (first) holds real
                     Excel date cells and text dates, numeric 1/0 and
                     boolean yes/no cells; a second sheet "Notes".
"""
import datetime as dt
import os

HERE = os.path.dirname(os.path.abspath(__file__))

HEADERS = [
    " Patient_ID ", "CART_Product", "cart_infusion_date", "EMD_at_Infusion",
    "pmd_at_infusion", " Progression_Date", "prog_biochemical", "prog_emd",
    "prog_pmd", "Last_Followup_Date ", "death_date", "next_line_start_date",
    "next_line_progression_date", "next_line_category", "age_at_infusion",
    "sex", "MRN", "Notes",
]

# One row per patient; None = blank row.
ROWS = [
    ["P01", "ide-cel", "2021-01-10", "yes", "no", "2021-06-01", "no", "yes", "no",
     "2022-01-01", "2022-03-01", "2021-06-15", "2021-10-01", "bispecific", "61.5",
     "F", "MRN-001", "death after last visit"],
    ["P02", "Cilta-Cel", "2021-02-01", "No", "YES", "2021-05-01", "y", "n", "yes",
     "2022-05-01", "", "", "", "", "70", "M", "MRN-002", ""],
    None,
    ["P03", "IDE-CEL", "2020-11-20", " Y ", "n", "2021-03-01", "TRUE", "0", "0",
     "2021-09-01", "2021-09-01", "2021-03-10", "", "salvage chemotherapy", "", "F",
     "MRN-003", "died on last visit"],
    ["P04", "cilta-cel", "2021-01-05", "false", "0", "2021-07-15", "1", "1", "false",
     "2021-07-15", "", "", "", "", "55", "M", "MRN-004", "same-day follow-up"],
    ["P05", " ide-cel ", "2021-03-01", "1", "no", "2021-04-01", "no", "Yes", "no",
     "2021-12-31", "", "2021-04-10", "2021-08-01", "clinical trial", "48", "F",
     "MRN-005", ""],
]


def write_csv():
    path = os.path.join(HERE, "valid_bom_crlf.csv")
    lines = [",".join(HEADERS)]
    for r in ROWS:
        lines.append("," * (len(HEADERS) - 1) if r is None else ",".join(r))
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8"))


def write_xlsx():
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cohort"
    ws.append([h for h in HEADERS])
    date_cols = {2, 5, 9, 10, 11, 12}
    for i, r in enumerate(ROWS):
        if r is None:
            ws.append([None] * len(HEADERS))
            continue
        out = []
        for j, v in enumerate(r):
            if v == "":
                out.append(None)
            elif j in date_cols and i % 2 == 0:
                # real date cells on every other row, text dates on the rest
                out.append(dt.datetime.strptime(v, "%Y-%m-%d"))
            elif j in (3, 4, 6, 7, 8) and v.strip().lower() in ("1", "0"):
                out.append(int(v))
            elif j in (3, 4, 6, 7, 8) and v.strip().lower() in ("true", "false"):
                out.append(v.strip().lower() == "true")
            elif j == 14:
                out.append(float(v))
            else:
                out.append(v)
        ws.append(out)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, dt.datetime):
                c.number_format = "yyyy-mm-dd"
    notes = wb.create_sheet("Notes")
    notes.append(["this sheet is not the data"])
    wb.save(os.path.join(HERE, "valid.xlsx"))


if __name__ == "__main__":
    write_csv()
    write_xlsx()
