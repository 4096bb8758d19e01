//! `survstudy` — command-line front end. Argument parsing and exit codes only:
//! 0 = ok, 1 = analysis problem, 2 = bad input or usage.

mod alloc;
mod progress;

#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use survkit::cox::{CoxOptions, Ties};
use survkit::km::{ConfType, KmOptions};
use survstudy::adhoc::{self, AdhocError, EventSpec, SurvSpec};
use survstudy::analysis::Conventions;

/// `--conventions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ConventionsArg {
    /// R survival defaults: log CI, Efron ties
    R,
    /// SAS PROC LIFETEST / PHREG defaults: log-log CI, Breslow ties
    Sas,
}

impl From<ConventionsArg> for Conventions {
    fn from(c: ConventionsArg) -> Self {
        match c {
            ConventionsArg::R => Conventions::R,
            ConventionsArg::Sas => Conventions::Sas,
        }
    }
}

/// `--conf-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ConfTypeArg {
    Log,
    #[value(name = "log-log", alias = "loglog", alias = "log_log")]
    LogLog,
    #[value(alias = "linear")]
    Plain,
    Logit,
    #[value(alias = "asin")]
    Arcsin,
    None,
}

impl From<ConfTypeArg> for ConfType {
    fn from(c: ConfTypeArg) -> Self {
        match c {
            ConfTypeArg::Log => ConfType::Log,
            ConfTypeArg::LogLog => ConfType::LogLog,
            ConfTypeArg::Plain => ConfType::Plain,
            ConfTypeArg::Logit => ConfType::Logit,
            ConfTypeArg::Arcsin => ConfType::Arcsin,
            ConfTypeArg::None => ConfType::None,
        }
    }
}

/// `--ties`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TiesArg {
    Efron,
    Breslow,
    Exact,
}

impl From<TiesArg> for Ties {
    fn from(t: TiesArg) -> Self {
        match t {
            TiesArg::Efron => Ties::Efron,
            TiesArg::Breslow => Ties::Breslow,
            TiesArg::Exact => Ties::Exact,
        }
    }
}

/// `--transform` of `zph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TransformArg {
    Km,
    Identity,
    Rank,
    Log,
}

impl From<TransformArg> for survkit::zph::Transform {
    fn from(t: TransformArg) -> Self {
        match t {
            TransformArg::Km => survkit::zph::Transform::Km,
            TransformArg::Identity => survkit::zph::Transform::Identity,
            TransformArg::Rank => survkit::zph::Transform::Rank,
            TransformArg::Log => survkit::zph::Transform::Log,
        }
    }
}

/// `--ci-bands` of `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CiBandsArg {
    Auto,
    Always,
    Never,
}

/// The preset options come from: the `--conventions` preset when the
/// explicit flag (if any) agrees with it, else `None` (custom).
fn preset_of<T: PartialEq>(
    conv: Conventions,
    flag: Option<T>,
    preset_value: T,
) -> Option<Conventions> {
    match flag {
        Some(v) if v != preset_value => None,
        _ => Some(conv),
    }
}

#[derive(Parser)]
#[command(
    name = "survstudy",
    version,
    about = "Clinical survival studies, end to end, exact to R's survival package"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct SurvArgs {
    /// CSV or Parquet file (header row / column names; blank, null or NA = missing)
    #[arg(long)]
    data: PathBuf,
    /// Time column (numeric, >= 0)
    #[arg(long)]
    time: String,
    /// Event column: COL (1/true/yes = event, 0/false/no = censored) or COL=VALUE (event when COL equals VALUE)
    #[arg(long)]
    event: String,
    /// Print one JSON document instead of a table
    #[arg(long)]
    json: bool,
    /// Case-weight column, >= 0 (R weights =; km, cox, zph, rmst)
    #[arg(long)]
    weights: Option<String>,
    /// Entry-time column: each row covers (start, time] (R Surv(start, stop, event); km, cox, zph, rmst)
    #[arg(long)]
    start: Option<String>,
    /// Subject id column for multi-row subjects (R id =); robust fits cluster on it
    #[arg(long)]
    id: Option<String>,
}

impl SurvArgs {
    fn rows(&self) -> adhoc::observational::RowSpec {
        adhoc::observational::RowSpec {
            weights: self.weights.clone(),
            start: self.start.clone(),
            id: self.id.clone(),
        }
    }

    fn spec(&self) -> Result<SurvSpec, AdhocError> {
        Ok(SurvSpec {
            data: self.data.clone(),
            time: self.time.clone(),
            event: EventSpec::parse(&self.event)?,
        })
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

#[derive(Args, Clone)]
struct CoxModelArgs {
    /// Covariate columns, comma-separated
    #[arg(long)]
    covariates: String,
    /// Columns to treat as categorical (treatment coding, first sorted level = reference)
    #[arg(long)]
    factor: Option<String>,
    /// Stratification column
    #[arg(long)]
    strata: Option<String>,
    /// Ties: efron, breslow or exact (default: from --conventions)
    #[arg(long, value_enum, ignore_case = true)]
    ties: Option<TiesArg>,
    /// Robust (sandwich) standard errors, as coxph(robust = TRUE)
    #[arg(long)]
    robust: bool,
    /// Cluster column for robust standard errors, as coxph(... + cluster(COL))
    #[arg(long)]
    cluster: Option<String>,
    /// Conventions preset: r (log CI, Efron) or sas (log-log CI, Breslow)
    #[arg(long, value_enum, ignore_case = true, default_value = "r")]
    conventions: ConventionsArg,
    /// Most distinct values a --factor column may have (default 50)
    #[arg(long, default_value_t = adhoc::MAX_FACTOR_LEVELS)]
    max_levels: usize,
}

impl CoxModelArgs {
    fn to_args(&self, surv: &SurvArgs) -> Result<adhoc::CoxArgs, AdhocError> {
        let conv = Conventions::from(self.conventions);
        let ties = self.ties.map(Ties::from);
        Ok(adhoc::CoxArgs {
            surv: surv.spec()?,
            covariates: list(&self.covariates),
            factors: self.factor.as_deref().map(list).unwrap_or_default(),
            strata: self.strata.clone(),
            cluster: self.cluster.clone(),
            rows: surv.rows(),
            cox: CoxOptions {
                ties: ties.unwrap_or(conv.ties()),
                variance: if self.robust || self.cluster.is_some() {
                    survkit::cox::Variance::Robust
                } else {
                    survkit::cox::Variance::ModelBased
                },
                ..Default::default()
            },
            max_factor_levels: self.max_levels,
            preset: preset_of(conv, ties, conv.ties()),
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole study: validate, derive endpoints, analyse, write the report
    Run {
        /// Study plan (TOML); default: the built-in post-CAR-T plan
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Chart-review export (CSV, TSV, Excel or Parquet); default: the embedded synthetic demo cohort
        #[arg(long)]
        data: Option<PathBuf>,
        /// Excel sheet name (default: the first sheet)
        #[arg(long)]
        sheet: Option<String>,
        /// Output directory
        #[arg(long, default_value = "survstudy-report")]
        out: PathBuf,
        /// Leave out invalid patients (listed in the patient flow) instead of stopping
        #[arg(long)]
        exclude_invalid: bool,
        /// Date format of text dates, e.g. %m/%d/%Y (overrides the plan)
        #[arg(long)]
        date_format: Option<String>,
        /// Conventions preset: r (log CI, Efron) or sas (log-log CI, Breslow)
        #[arg(long, value_enum, ignore_case = true, default_value = "r")]
        conventions: ConventionsArg,
        /// Show patient identifiers in the report (hidden by default)
        #[arg(long)]
        show_identifiers: bool,
        /// Show counts below N as "<N" (small-cell suppression)
        #[arg(long)]
        suppress_below: Option<u64>,
        /// p-values below this are printed as "<P"
        #[arg(long, default_value_t = 0.001)]
        p_floor: f64,
        /// Confidence bands on KM figures: auto (<= 2 curves), always, never
        #[arg(long, value_enum, ignore_case = true, default_value = "auto")]
        ci_bands: CiBandsArg,
        /// Also write results-full.json with every per-event array (results.json stays bounded)
        #[arg(long)]
        full_arrays: bool,
        /// No progress bar on stderr
        #[arg(long)]
        quiet: bool,
    },
    /// Kaplan-Meier curves, medians, survival at times (R survfit)
    Km {
        #[command(flatten)]
        surv: SurvArgs,
        /// Group column (one curve per level)
        #[arg(long)]
        group: Option<String>,
        /// CI transform: log, log-log, plain, logit, arcsin (default: from --conventions)
        #[arg(long, value_enum, ignore_case = true)]
        conf_type: Option<ConfTypeArg>,
        /// Conventions preset: r (log CI, Efron) or sas (log-log CI, Breslow)
        #[arg(long, value_enum, ignore_case = true, default_value = "r")]
        conventions: ConventionsArg,
        /// Confidence level
        #[arg(long, default_value_t = 0.95)]
        conf_level: f64,
        /// Survival at these times, comma-separated (R summary(fit, times=))
        #[arg(long, allow_hyphen_values = true)]
        at: Option<String>,
        /// Robust (infinitesimal-jackknife) SE, as survfit(robust = TRUE); R's default
        /// when weights are not integers or an id has more than one event
        #[arg(long)]
        robust: bool,
    },
    /// Log-rank / Fleming-Harrington tests (R survdiff)
    Logrank {
        #[command(flatten)]
        surv: SurvArgs,
        /// Group column
        #[arg(long)]
        group: String,
        /// Stratification column
        #[arg(long)]
        strata: Option<String>,
        /// Fleming-Harrington rho (0 = log-rank, 1 = Peto-Peto)
        #[arg(long, default_value_t = 0.0)]
        rho: f64,
    },
    /// Cox proportional hazards regression (R coxph)
    Cox {
        #[command(flatten)]
        surv: SurvArgs,
        #[command(flatten)]
        model: CoxModelArgs,
    },
    /// Proportional-hazards test of a Cox model (R cox.zph): per term and GLOBAL
    Zph {
        #[command(flatten)]
        surv: SurvArgs,
        #[command(flatten)]
        model: CoxModelArgs,
        /// Time transform: km (default), identity, rank, log
        #[arg(long, value_enum, ignore_case = true, default_value = "km")]
        transform: TransformArg,
    },
    /// Competing risks: cumulative incidence per group and Gray's test (R cmprsk::cuminc)
    Cif {
        /// CSV or Parquet file
        #[arg(long)]
        data: PathBuf,
        /// Time column
        #[arg(long)]
        time: String,
        /// Status column: 0 = censored, other integers = causes
        #[arg(long)]
        status: String,
        /// Cause of interest
        #[arg(long)]
        event_code: u32,
        /// Group column
        #[arg(long)]
        group: Option<String>,
        /// Cumulative incidence at these times, comma-separated
        #[arg(long, allow_hyphen_values = true)]
        at: Option<String>,
        /// Print one JSON document
        #[arg(long)]
        json: bool,
    },
    /// Restricted mean survival time by group up to tau, with difference and ratio (R survRM2::rmst2)
    Rmst {
        #[command(flatten)]
        surv: SurvArgs,
        /// Two-level group column
        #[arg(long)]
        group: String,
        /// Horizon tau
        #[arg(long)]
        tau: f64,
        /// Confidence level
        #[arg(long, default_value_t = 0.95)]
        conf_level: f64,
    },
    /// Propensity-score weighting (IPTW): glm propensity model, weights, balance (SMD), weighted KM and Cox
    Iptw {
        #[command(flatten)]
        surv: SurvArgs,
        /// Treatment column, 0/1 (1 = treated)
        #[arg(long)]
        treatment: String,
        /// Propensity-model covariates, comma-separated
        #[arg(long)]
        covariates: String,
        /// Columns to treat as categorical (treatment coding, first sorted level = reference)
        #[arg(long)]
        factor: Option<String>,
        /// Estimand: ate (1/ps, 1/(1-ps)), att (1, ps/(1-ps)) or ato (overlap: 1-ps, ps)
        #[arg(long, default_value = "ate")]
        estimand: String,
        /// Multiply treated weights by the treated proportion and control weights by its complement
        #[arg(long)]
        stabilized: bool,
        /// Drop rows with ps < Q or ps > 1 - Q (after the fit)
        #[arg(long)]
        trim: Option<f64>,
        /// Write the input rows with ps and weight columns added to this CSV
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fine-Gray subdistribution-hazards regression (R cmprsk::crr)
    Finegray {
        /// CSV or Parquet file
        #[arg(long)]
        data: PathBuf,
        /// Time column
        #[arg(long)]
        time: String,
        /// Status column: 0 = censored, other integers = causes
        #[arg(long)]
        status: String,
        /// Cause of interest
        #[arg(long)]
        event_code: u32,
        /// Covariate columns, comma-separated
        #[arg(long)]
        covariates: String,
        /// Columns to treat as categorical (treatment coding, first sorted level = reference)
        #[arg(long)]
        factor: Option<String>,
        /// Print one JSON document
        #[arg(long)]
        json: bool,
    },
    /// Covariate-adjusted (g-formula) survival per treatment level from a Cox model (point estimates)
    Adjusted {
        #[command(flatten)]
        surv: SurvArgs,
        /// Treatment column (any number of levels; first sorted level = reference)
        #[arg(long)]
        treatment: String,
        /// Adjustment covariates, comma-separated
        #[arg(long)]
        covariates: String,
        /// Columns to treat as categorical
        #[arg(long)]
        factor: Option<String>,
        /// Times at which to report adjusted survival, comma-separated
        #[arg(long)]
        at: String,
    },
    /// Print the built-in study plan (TOML), check a plan, or write a starter plan for a file
    Plan {
        /// Print the built-in plan
        #[arg(long)]
        print: bool,
        /// Check a plan file and report problems
        #[arg(long)]
        check: Option<PathBuf>,
        /// Print a starter plan guessed from a data file (with --data)
        #[arg(long, requires = "data")]
        init: bool,
        /// Data file for --init (CSV, TSV, Excel or Parquet)
        #[arg(long)]
        data: Option<PathBuf>,
        /// Excel sheet for --init (default: the first sheet)
        #[arg(long)]
        sheet: Option<String>,
    },
    /// Write a synthetic chart-review CSV calibrated to the model study's published numbers
    Synth {
        /// Random seed (1 = the embedded demo cohort)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of patients
        #[arg(long, default_value_t = 106)]
        n: usize,
        /// Output file (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Errors of any command, with their exit codes.
enum CliError {
    Adhoc(AdhocError),
    Run(survstudy::pipeline::RunError),
}

impl From<AdhocError> for CliError {
    fn from(e: AdhocError) -> Self {
        CliError::Adhoc(e)
    }
}

fn run_study_cmd(cmd: Command) -> Result<(), CliError> {
    let Command::Run {
        plan,
        data,
        sheet,
        out,
        exclude_invalid,
        date_format,
        conventions,
        show_identifiers,
        suppress_below,
        p_floor,
        ci_bands,
        full_arrays,
        quiet,
    } = cmd
    else {
        unreachable!()
    };
    use survstudy::report::study::{CiBands, Identifiers, ReportOptions};
    let ci_bands = match ci_bands {
        CiBandsArg::Auto => CiBands::Auto,
        CiBandsArg::Always => CiBands::Always,
        CiBandsArg::Never => CiBands::Never,
    };
    let opts = survstudy::pipeline::RunOptions {
        plan,
        data,
        sheet,
        out,
        exclude: if exclude_invalid {
            survstudy::derive::ExcludePolicy::ExcludeInvalid
        } else {
            survstudy::derive::ExcludePolicy::Stop
        },
        date_format,
        conventions: conventions.into(),
        report: ReportOptions {
            show_identifiers: if show_identifiers {
                Identifiers::Shown
            } else {
                Identifiers::Hidden
            },
            suppress_below,
            p_floor,
            ci_bands,
            ..Default::default()
        },
        run_date: None,
        arrays: if full_arrays {
            survstudy::pipeline::ArrayOutput::Full
        } else {
            survstudy::pipeline::ArrayOutput::Bounded
        },
    };
    let mut progress = progress::RunProgress::new(quiet);
    let result = survstudy::pipeline::run_study_observed(&opts, &mut |stage| {
        alloc::release_free_memory();
        progress.stage(stage)
    });
    progress.finish();
    let output = result.map_err(CliError::Run)?;
    for note in &output.results.flow.notes {
        eprintln!("survstudy: note: {note}");
    }
    emit(&survstudy::pipeline::summary_text(&output));
    Ok(())
}

fn run(cli: Cli) -> Result<(), CliError> {
    if matches!(cli.command, Command::Run { .. }) {
        return run_study_cmd(cli.command);
    }
    match cli.command {
        Command::Run { .. } => unreachable!(),
        Command::Km {
            surv,
            group,
            conf_type,
            conventions,
            conf_level,
            at,
            robust,
        } => {
            let conv = Conventions::from(conventions);
            let conf_type = conf_type.map(ConfType::from);
            if !(conf_level > 0.0 && conf_level < 1.0) {
                return Err(AdhocError::Usage(format!(
                    "--conf-level {conf_level} is not in (0, 1)"
                ))
                .into());
            }
            let at = parse_times(at)?;
            let args = adhoc::KmArgs {
                surv: surv.spec()?,
                group,
                km: KmOptions {
                    conf_type: conf_type.unwrap_or(conv.conf_type()),
                    conf_level,
                    ..Default::default()
                },
                at,
                rows: surv.rows(),
                robust,
                preset: preset_of(conv, conf_type, conv.conf_type()),
            };
            if robust || !args.rows.is_empty() {
                let rep = adhoc::observational::km_rows(
                    &args.surv,
                    args.group.as_deref(),
                    &args.km,
                    &args.at,
                    &args.rows,
                    args.robust,
                )?;
                warn("km", &rep.warnings);
                if surv.json {
                    emit(&format!("{}\n", rep.to_json()));
                } else {
                    emit(&rep.to_string());
                }
                return Ok(());
            }
            let rep = adhoc::km(&args)?;
            warn("km", &rep.warnings);
            if surv.json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Logrank {
            surv,
            group,
            strata,
            rho,
        } => {
            adhoc::observational::refuse("logrank", &surv.rows())?;
            let args = adhoc::LogrankArgs {
                surv: surv.spec()?,
                group,
                strata,
                rho,
            };
            let rep = adhoc::logrank_cmd(&args)?;
            warn("logrank", &rep.warnings);
            if surv.json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Cox { surv, model } => {
            let rep = adhoc::cox_cmd(&model.to_args(&surv)?)?;
            for w in &rep.fit.warnings {
                eprintln!("survstudy cox: warning: {w}");
            }
            if surv.json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Zph {
            surv,
            model,
            transform,
        } => {
            let tr = survkit::zph::Transform::from(transform);
            let (rep, z) = adhoc::zph_cmd(&model.to_args(&surv)?, tr)?;
            warn("zph", &rep.fit.warnings);
            if surv.json {
                emit(&format!("{}\n", adhoc::zph_json(&rep, &z)));
            } else {
                emit(&adhoc::zph_text(&z));
            }
        }
        Command::Cif {
            data,
            time,
            status,
            event_code,
            group,
            at,
            json,
        } => {
            let args = adhoc::competing::CifArgs {
                data,
                time,
                status,
                event_code,
                group,
                times: parse_times(at)?,
            };
            let (doc, text) = adhoc::competing::cif_cmd(&args)?;
            if json {
                emit(&format!("{doc}\n"));
            } else {
                emit(&text);
            }
        }
        Command::Rmst {
            surv,
            group,
            tau,
            conf_level,
        } => {
            let args = adhoc::competing::RmstArgs {
                surv: surv.spec()?,
                group,
                tau,
                conf_level,
                rows: surv.rows(),
            };
            let (doc, text) = adhoc::competing::rmst_cmd(&args)?;
            let w: Vec<String> = doc["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str().map(str::to_string))
                .collect();
            warn("rmst", &w);
            if surv.json {
                emit(&format!("{doc}\n"));
            } else {
                emit(&text);
            }
        }
        Command::Iptw {
            surv,
            treatment,
            covariates,
            factor,
            estimand,
            stabilized,
            trim,
            out,
        } => {
            if !surv.rows().is_empty() {
                return Err(AdhocError::Usage(
                    "iptw computes its own weights; --weights, --start and --id are not supported"
                        .into(),
                )
                .into());
            }
            let args = adhoc::iptw::IptwArgs {
                surv: surv.spec()?,
                treatment,
                covariates: list(&covariates),
                factors: factor.as_deref().map(list).unwrap_or_default(),
                estimand: adhoc::iptw::Estimand::parse(&estimand)?,
                stabilized,
                trim,
                out,
            };
            let rep = adhoc::iptw::iptw_cmd(&args)?;
            for w in &rep.warnings {
                eprintln!("survstudy iptw: warning: {w}");
            }
            if surv.json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Finegray {
            data,
            time,
            status,
            event_code,
            covariates,
            factor,
            json,
        } => {
            let args = adhoc::finegray::FineGrayArgs {
                data,
                time,
                status,
                event_code,
                covariates: list(&covariates),
                factors: factor.as_deref().map(list).unwrap_or_default(),
            };
            let rep = adhoc::finegray::finegray_cmd(&args)?;
            if !rep.fit.converged {
                eprintln!(
                    "survstudy finegray: warning: not converged after {} iterations",
                    rep.fit.iterations
                );
            }
            if json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Adjusted {
            surv,
            treatment,
            covariates,
            factor,
            at,
        } => {
            if !surv.rows().is_empty() {
                return Err(AdhocError::Usage(
                    "adjusted does not support --weights, --start or --id".into(),
                )
                .into());
            }
            let args = adhoc::adjusted::AdjustedArgs {
                surv: surv.spec()?,
                treatment,
                covariates: list(&covariates),
                factors: factor.as_deref().map(list).unwrap_or_default(),
                at: parse_times(Some(at))?,
            };
            let rep = adhoc::adjusted::adjusted_cmd(&args)?;
            warn("adjusted", &rep.warnings);
            if surv.json {
                emit(&format!("{}\n", rep.to_json()));
            } else {
                emit(&rep.to_string());
            }
        }
        Command::Plan {
            print,
            check,
            init,
            data,
            sheet,
        } => {
            if let (true, Some(d)) = (init, data.as_ref()) {
                let table = survstudy::ingest::read_table(d, sheet.as_deref())
                    .map_err(|e| AdhocError::Usage(e.to_string()))?;
                let p = survstudy::plan::init::init_plan(&table, &Default::default())
                    .map_err(|e| AdhocError::Usage(e.to_string()))?;
                if !p.problems.is_empty() {
                    eprintln!(
                        "survstudy plan --init: the file has {} problem(s) under this plan (listed at the top of the plan); `run` stops on them unless --exclude-invalid",
                        p.problems.len()
                    );
                }
                emit(&p.toml);
            } else if data.is_some() || sheet.is_some() {
                return Err(AdhocError::Usage(
                    "survstudy plan: --data and --sheet go with --init".into(),
                )
                .into());
            } else if let Some(p) = check {
                survstudy::plan::Plan::from_file(&p)
                    .map_err(|e| AdhocError::Usage(e.to_string()))?;
                emit(&format!("{}: plan is valid\n", p.display()));
            } else if print {
                emit(survstudy::plan::Plan::builtin_toml());
            } else {
                return Err(AdhocError::Usage(
                    "survstudy plan: use --print to show the built-in plan, --check FILE, or --init --data FILE".into(),
                )
                .into());
            }
        }
        Command::Synth { seed, n, out } => {
            let opts = survstudy::synth::SynthOptions {
                seed,
                n,
                ..Default::default()
            };
            let cohort =
                survstudy::synth::generate(&opts).map_err(|e| AdhocError::Usage(e.to_string()))?;
            match out {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .map_err(|e| AdhocError::Usage(format!("{}: {e}", path.display())))?;
                    survstudy::synth::write_csv(&cohort, std::io::BufWriter::new(f))
                        .map_err(|e| AdhocError::Usage(e.to_string()))?;
                    eprintln!(
                        "survstudy synth: wrote {} patients to {}",
                        n,
                        path.display()
                    );
                }
                None => {
                    survstudy::synth::write_csv(&cohort, std::io::stdout().lock())
                        .map_err(|e| AdhocError::Usage(e.to_string()))?;
                }
            }
        }
    }
    Ok(())
}

/// Print input warnings on stderr.
fn warn(cmd: &str, warnings: &[String]) {
    for w in warnings {
        eprintln!("survstudy {cmd}: warning: {w}");
    }
}

/// Write to standard output; a closed pipe (e.g. `| head`) ends quietly.
fn emit(text: &str) {
    use std::io::Write;
    let mut so = std::io::stdout().lock();
    if let Err(e) = so.write_all(text.as_bytes()).and_then(|_| so.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("survstudy: cannot write output: {e}");
        std::process::exit(1);
    }
}

fn parse_times(at: Option<String>) -> Result<Vec<f64>, AdhocError> {
    match at {
        Some(s) => list(&s)
            .iter()
            .map(|t| {
                t.parse::<f64>()
                    .map_err(|_| AdhocError::Usage(format!("--at: '{t}' is not a number")))
            })
            .collect(),
        None => Ok(vec![]),
    }
}

/// A multi-line clap message on one line, without the `--help` hint.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if e.kind() == clap::error::ErrorKind::InvalidValue {
                // one line, as every other usage error of the CLI
                eprintln!("survstudy: {}", one_line(&e.to_string()));
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Adhoc(e)) => {
            eprintln!("survstudy: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(CliError::Run(e)) => {
            match &e {
                survstudy::pipeline::RunError::Validation(report) => {
                    eprintln!(
                        "survstudy: {} problem(s) in {}; nothing was written (use --exclude-invalid to leave these patients out):",
                        report.problems.len(),
                        report.file
                    );
                    eprintln!("{report}");
                }
                other => eprintln!("survstudy: error: {other}"),
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
