//! The `--json` documents of km, logrank, cox, zph, rmst and cif byte for
//! byte, as they were printed before the documents became `Serialize`
//! structs (`adhoc::json`): field names, key order and number formatting
//! are part of the contract. The files were written by the binary of the
//! commit before each conversion, on R's `lung` data (cif: `cr.csv`).

use std::path::PathBuf;
use std::process::Command;

fn bytes_of(cmd: &str, extra: &[&str]) -> Vec<u8> {
    let lung =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../survkit/tests/data/lung/lung.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .arg(cmd)
        .arg("--data")
        .arg(&lung)
        .args(["--time", "time", "--event", "status=2"])
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/json_bytes")
            .join(name),
    )
    .unwrap()
}

#[test]
fn json_documents_are_byte_identical() {
    let cases: [(&str, &[&str], &str); 9] = [
        ("km", &["--group", "sex", "--at", "100,200"], "km.json"),
        ("logrank", &["--group", "sex"], "logrank.json"),
        (
            "cox",
            &["--covariates", "age", "--factor", "ph.ecog"],
            "cox.json",
        ),
        // robust_se is present only in robust fits
        (
            "cox",
            &["--covariates", "age,sex", "--robust"],
            "cox_robust.json",
        ),
        (
            "cox",
            &["--covariates", "age,sex", "--cluster", "inst"],
            "cox_cluster.json",
        ),
        (
            "cox",
            &[
                "--covariates",
                "age,ph.ecog",
                "--factor",
                "ph.ecog",
                "--strata",
                "sex",
            ],
            "cox_strata.json",
        ),
        (
            "cox",
            &[
                "--covariates",
                "age",
                "--weights",
                "sex",
                "--conventions",
                "sas",
            ],
            "cox_sas_weights.json",
        ),
        ("rmst", &["--group", "sex", "--tau", "365"], "rmst.json"),
        ("zph", &["--covariates", "age,sex"], "zph.json"),
    ];
    for (cmd, extra, file) in cases {
        assert!(bytes_of(cmd, extra) == golden(file), "{cmd} --json changed");
    }
}

/// `cif` on `cr.csv` (the first 300 rows of R's `mgus2` as competing risks:
/// 1 = progression, 2 = death before progression, 0 = censored).
#[test]
fn cif_documents_are_byte_identical() {
    let cr = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/json_bytes/cr.csv");
    let cases: [(&[&str], &str); 2] = [
        (
            &[
                "--event-code",
                "1",
                "--group",
                "sex",
                "--at",
                "100,200,10000",
            ],
            "cif_group.json",
        ),
        (&["--event-code", "2"], "cif_all.json"),
    ];
    for (extra, file) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
            .arg("cif")
            .arg("--data")
            .arg(&cr)
            .args(["--time", "etime", "--status", "event"])
            .args(extra)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == golden(file), "cif {extra:?} --json changed");
    }
}
