//! Progress of `survstudy run` on stderr: a bar over the run's stages
//! (reading, validating, analysing, writing, rendering) that appears only
//! when stderr is a terminal, the run has lasted about a second, and
//! `--quiet` was not given. `SURVSTUDY_TIMINGS=1` prints each stage's wall
//! time on stderr instead (for benchmarks; also when not a terminal).

use std::io::IsTerminal;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use survstudy::pipeline::Stage;

/// Delay before the bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(1000);

/// The observer handed to `run_study_observed`.
pub struct RunProgress {
    bar: Option<ProgressBar>,
    /// Set when the run ends, to wake the thread that would show the bar.
    done: Arc<(Mutex<bool>, Condvar)>,
    shower: Option<std::thread::JoinHandle<()>>,
    timings: Option<(Stage, Instant, Instant)>,
}

impl RunProgress {
    /// A bar if stderr is a terminal and not `quiet`; timings if `SURVSTUDY_TIMINGS` is set.
    pub fn new(quiet: bool) -> RunProgress {
        let now = Instant::now();
        let timings = std::env::var_os("SURVSTUDY_TIMINGS")
            .filter(|v| !v.is_empty() && v != "0")
            .map(|_| (Stage::Read, now, now));
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        if quiet || timings.is_some() || !std::io::stderr().is_terminal() {
            return RunProgress {
                bar: None,
                done,
                shower: None,
                timings,
            };
        }
        let bar = ProgressBar::with_draw_target(
            Some(Stage::ALL.len() as u64),
            ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let (b, d) = (bar.clone(), done.clone());
        let shower = std::thread::spawn(move || {
            let (lock, cv) = &*d;
            let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (guard, _) = cv
                .wait_timeout_while(guard, SHOW_AFTER, |finished| !*finished)
                .unwrap_or_else(|e| e.into_inner());
            if !*guard {
                b.set_draw_target(ProgressDrawTarget::stderr());
                b.enable_steady_tick(Duration::from_millis(200));
            }
        });
        RunProgress {
            bar: Some(bar),
            done,
            shower: Some(shower),
            timings,
        }
    }

    /// A stage starts.
    pub fn stage(&mut self, stage: Stage) {
        if let Some((prev, start, last)) = &mut self.timings {
            let now = Instant::now();
            if stage != Stage::Read {
                eprintln!(
                    "timing: {:<10} {:>8.3} s",
                    prev.name(),
                    now.duration_since(*last).as_secs_f64()
                );
            }
            if stage == Stage::Done {
                eprintln!(
                    "timing: {:<10} {:>8.3} s",
                    "total",
                    now.duration_since(*start).as_secs_f64()
                );
            }
            *prev = stage;
            *last = now;
        }
        if let Some(bar) = &self.bar {
            let pos = Stage::ALL.iter().position(|s| *s == stage);
            bar.set_position(pos.unwrap_or(Stage::ALL.len()) as u64);
            bar.set_message(stage.name());
        }
    }

    /// The run ended (success or error): remove the bar.
    pub fn finish(&mut self) {
        {
            let (lock, cv) = &*self.done;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_all();
        }
        if let Some(h) = self.shower.take() {
            let _ = h.join();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
