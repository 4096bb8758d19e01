//! Helpers shared by the hostile-input tests: running the binary with a
//! timeout, temporary files, and a minimal xlsx writer (stored zip, inline
//! strings) so that workbooks are built in the test, not checked in.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
}

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data")
        .join(rel)
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn tmpfile(name: &str, content: &str) -> PathBuf {
    let p = tmpdir("files").join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code; `None` when killed by a signal (a panic exits 101).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Bytes written to stderr (all of them, even past what is kept).
    pub stderr_len: usize,
    pub elapsed: Duration,
    pub timed_out: bool,
}

/// Most bytes of stdout/stderr kept for assertions.
const KEEP: usize = 1 << 20;

/// Run with a time limit; a hung process is killed (`timed_out`).
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Outcome {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn survstudy");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut total = 0usize;
            let mut buf = [0u8; 1 << 16];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                total += n;
                if kept.len() < KEEP {
                    kept.extend_from_slice(&buf[..n.min(KEEP - kept.len())]);
                }
            }
            (kept, total)
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (o, _) = out.join().unwrap();
    let (e, elen) = err.join().unwrap();
    Outcome {
        code: status.code(),
        stdout: String::from_utf8_lossy(&o).into_owned(),
        stderr: String::from_utf8_lossy(&e).into_owned(),
        stderr_len: elen,
        elapsed: start.elapsed(),
        timed_out,
    }
}

/// Run with a 60 s limit and fail on a hang, a signal or a panic.
pub fn run_bounded(cmd: &mut Command) -> Outcome {
    let o = run_with_timeout(cmd, Duration::from_secs(60));
    assert!(!o.timed_out, "{cmd:?} hung (killed after 60 s)");
    assert!(o.code.is_some(), "{cmd:?} killed by a signal: {}", o.stderr);
    assert!(
        !o.stderr.contains("panicked"),
        "{cmd:?} panicked: {}",
        o.stderr
    );
    o
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A zip archive of stored (uncompressed) files.
pub fn stored_zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, body) in files {
        let offset = out.len() as u32;
        let crc = crc32(body);
        le32(&mut out, 0x0403_4b50);
        for x in [20u16, 0, 0, 0, 0] {
            le16(&mut out, x);
        }
        le32(&mut out, crc);
        le32(&mut out, body.len() as u32);
        le32(&mut out, body.len() as u32);
        le16(&mut out, name.len() as u16);
        le16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(body);
        le32(&mut central, 0x0201_4b50);
        for x in [20u16, 20, 0, 0, 0, 0] {
            le16(&mut central, x);
        }
        le32(&mut central, crc);
        le32(&mut central, body.len() as u32);
        le32(&mut central, body.len() as u32);
        le16(&mut central, name.len() as u16);
        for x in [0u16, 0, 0, 0] {
            le16(&mut central, x);
        }
        le32(&mut central, 0);
        le32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    for x in [0u16, 0, files.len() as u16, files.len() as u16] {
        le16(&mut out, x);
    }
    le32(&mut out, cd_len);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

fn col_name(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut s = Vec::new();
    while n > 0 {
        s.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The body of `xl/worksheets/sheet1.xml`: `rows[r]` holds (column, text)
/// cells of sheet row r (0-based), plus `extra` (row, column, text) cells.
pub fn sheet_xml(rows: &[Vec<(u32, String)>], extra: &[(u32, u32, &str)]) -> String {
    let mut all: Vec<(u32, u32, String)> = rows
        .iter()
        .enumerate()
        .flat_map(|(r, cells)| cells.iter().map(move |(c, t)| (r as u32, *c, t.clone())))
        .collect();
    all.extend(extra.iter().map(|&(r, c, t)| (r, c, t.to_string())));
    all.sort_by_key(|c| (c.0, c.1));
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    let mut i = 0;
    while i < all.len() {
        let r = all[i].0;
        s.push_str(&format!("<row r=\"{}\">", r + 1));
        while i < all.len() && all[i].0 == r {
            let (_, c, t) = &all[i];
            if !t.is_empty() {
                s.push_str(&format!(
                    "<c r=\"{}{}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    col_name(*c),
                    r + 1,
                    xml_escape(t)
                ));
            }
            i += 1;
        }
        s.push_str("</row>");
    }
    s.push_str("</sheetData></worksheet>");
    s
}

/// A one-sheet workbook ("Sheet1") with the given sheet XML.
pub fn xlsx_with_sheet(sheet: &str) -> Vec<u8> {
    let ns = "http://schemas.openxmlformats.org";
    stored_zip(&[
        (
            "[Content_Types].xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"{ns}/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>").into_bytes(),
        ),
        (
            "_rels/.rels",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{ns}/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>").into_bytes(),
        ),
        (
            "xl/workbook.xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{ns}/spreadsheetml/2006/main\" xmlns:r=\"{ns}/officeDocument/2006/relationships\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>").into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{ns}/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>").into_bytes(),
        ),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes().to_vec()),
    ])
}

/// A one-sheet workbook of text cells (see [`sheet_xml`]).
pub fn xlsx(rows: &[Vec<(u32, String)>], extra: &[(u32, u32, &str)]) -> Vec<u8> {
    xlsx_with_sheet(&sheet_xml(rows, extra))
}
