//! The `--json` documents of the ad-hoc commands byte for
//! byte, as they were printed before the documents became `Serialize`
//! structs (`adhoc::json`): field names, key order and number formatting
//! are part of the contract. The files were written by the binary of the
//! commit before each conversion, on R's `lung` data (cif: `cr.csv`; the
//! observational commands: the oracle files in `../survkit/tests/data/obs`),
//! and re-blessed (`BLESS=1`) only when an engine change moves numbers in
//! their last digits (field names and order stay as they were).

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

/// Rewrite an expected document (`BLESS=1`, for an intended change).
fn bless(name: &str, bytes: &[u8]) {
    std::fs::write(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/json_bytes")
            .join(name),
        bytes,
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
        let got = bytes_of(cmd, extra);
        if std::env::var_os("BLESS").is_some() {
            bless(file, &got);
            continue;
        }
        assert!(
            got == golden(file),
            "{cmd} --json changed ({file}; BLESS=1 rewrites the expected files)"
        );
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

/// The documents of the observational paths (weighted, robust and counting
/// `km`, `cox` and `zph`), `iptw`, `finegray` and `adjusted`, on the
/// oracle's public files in `../survkit/tests/data/obs` (the cases of
/// `lung_weighted.json`, `heart_counting.json`, `colon_iptw.json`,
/// `mgus2_finegray.json` and `*_adjusted.json`), captured before these
/// documents became `Serialize` structs. This pins bytes, not numbers:
/// the fields added afterwards (re-blessed: `adjusted`'s se/lower/upper/p,
/// the robust curves' `rmean_se`) are compared with R in `cli_adjusted`
/// (riskRegression `ate`) and `cli_rmst_rows` (`survmean`).
#[test]
fn observational_documents_are_byte_identical() {
    const LUNG: &[&str] = &["--time", "time", "--event", "status=2"];
    const HEART: &[&str] = &["--time", "stop", "--event", "event", "--start", "start"];
    const COLON: &[&str] = &[
        "--time",
        "time",
        "--event",
        "status",
        "--treatment",
        "treat",
        "--covariates",
        "age,sex,obstruct,nodes,extent",
        "--factor",
        "extent",
    ];
    const MGUS: &[&str] = &[
        "--time",
        "etime",
        "--status",
        "estatus",
        "--covariates",
        "age,sex,hgb",
        "--factor",
        "sex",
    ];
    const LUNG_COX: &str = "age,sex,ph.ecog,ph.karno,wt.loss";
    const HEART_COX: &str = "age,year,surgery,transplant";
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "km",
            "lung_weighted.csv",
            LUNG,
            vec!["--group", "sex", "--weights", "fw", "--at", "100,200"],
            "km_weighted_group.json",
        ),
        (
            "km",
            "lung_weighted.csv",
            LUNG,
            vec![
                "--group",
                "sex",
                "--weights",
                "w",
                "--robust",
                "--at",
                "100,200",
            ],
            "km_weighted_robust.json",
        ),
        (
            "km",
            "heart.csv",
            HEART,
            vec!["--at", "100"],
            "km_counting.json",
        ),
        (
            "km",
            "heart.csv",
            HEART,
            vec![
                "--group", "surgery", "--id", "id", "--robust", "--at", "100,300",
            ],
            "km_counting_id_robust.json",
        ),
        (
            "cox",
            "lung_weighted.csv",
            LUNG,
            vec![
                "--covariates",
                LUNG_COX,
                "--weights",
                "w",
                "--robust",
                "--ties",
                "efron",
            ],
            "cox_weighted_robust.json",
        ),
        (
            "cox",
            "heart.csv",
            HEART,
            vec!["--covariates", HEART_COX, "--ties", "breslow"],
            "cox_counting.json",
        ),
        (
            "cox",
            "heart.csv",
            HEART,
            vec![
                "--covariates",
                HEART_COX,
                "--id",
                "id",
                "--robust",
                "--ties",
                "efron",
            ],
            "cox_counting_id_robust.json",
        ),
        (
            "zph",
            "heart.csv",
            HEART,
            vec![
                "--covariates",
                HEART_COX,
                "--id",
                "id",
                "--robust",
                "--ties",
                "efron",
                "--transform",
                "km",
            ],
            "zph_counting_id.json",
        ),
        (
            "iptw",
            "colon_iptw.csv",
            COLON,
            vec!["--estimand", "ate", "--stabilized", "--trim", "0.35"],
            "iptw_ate_stabilized_trim.json",
        ),
        (
            "iptw",
            "colon_iptw.csv",
            COLON,
            vec!["--estimand", "att"],
            "iptw_att.json",
        ),
        (
            "finegray",
            "mgus2_cr.csv",
            MGUS,
            vec!["--event-code", "1"],
            "finegray_1.json",
        ),
        (
            "finegray",
            "mgus2_cr.csv",
            MGUS,
            vec!["--event-code", "2"],
            "finegray_2.json",
        ),
        (
            "adjusted",
            "colon_iptw.csv",
            COLON,
            vec!["--at", "365,730,1826"],
            "adjusted_colon.json",
        ),
        (
            "adjusted",
            "lung_weighted.csv",
            LUNG,
            vec![
                "--treatment",
                "sex",
                "--covariates",
                "age,ph.ecog",
                "--at",
                "180,365,730",
            ],
            "adjusted_lung.json",
        ),
    ];
    let obs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../survkit/tests/data/obs");
    for (cmd, data, base, extra, file) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
            .arg(cmd)
            .arg("--data")
            .arg(obs.join(data))
            .args(base)
            .args(&extra)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd} {extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if std::env::var_os("BLESS").is_some() {
            bless(file, &out.stdout);
            continue;
        }
        assert!(
            out.stdout == golden(file),
            "{cmd} {extra:?} --json changed ({file}; BLESS=1 rewrites the expected files)"
        );
    }
}
