//! Two-way fork–join, to use the second core of a small machine.
//!
//! Callers split work into two fixed parts that never depend on the number of
//! cores or on scheduling, and every value is computed by the same operations
//! in the same order as in a sequential run, so results are bit-identical to
//! one thread. Below 2^15 items the work runs on the calling thread
//! (spawning costs more than it saves).

use std::cell::Cell;

thread_local! {
    /// Set while [`sequential`] runs on this thread.
    static SEQUENTIAL: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` with every fork–join of this crate on the calling thread: for
/// callers that already keep the cores busy with independent work (a list
/// of analyses on a pool of threads), where a second thread per fit only
/// adds memory held at once. Results are the same (bit-identical) either way.
pub fn sequential<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SEQUENTIAL.with(|s| s.set(self.0));
        }
    }
    let _reset = Reset(SEQUENTIAL.with(|s| s.replace(true)));
    f()
}

/// Smallest number of items worth a second thread.
pub(crate) const MIN_PAR: usize = 1 << 15;

/// Run `a` here and `b` on a second thread (when `parallel`), return both.
pub(crate) fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel || SEQUENTIAL.with(Cell::get) {
        let ra = a();
        return (ra, b());
    }
    std::thread::scope(|s| {
        let hb = s.spawn(b);
        let ra = a();
        let rb = hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (ra, rb)
    })
}

/// Set `out[i] = f(i)` for every i, the two halves on two threads.
pub(crate) fn fill<T: Send>(out: &mut [T], f: impl Fn(usize) -> T + Sync) {
    let h = out.len() / 2;
    let (a, b) = out.split_at_mut(h);
    join(
        a.len() + b.len() >= MIN_PAR,
        || a.iter_mut().enumerate().for_each(|(i, o)| *o = f(i)),
        || b.iter_mut().enumerate().for_each(|(i, o)| *o = f(h + i)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_keeps_joins_on_the_calling_thread_and_resets() {
        let here = std::thread::current().id();
        let on_other = || join(true, || (), || std::thread::current().id() != here).1;
        assert!(on_other(), "a parallel join runs b on a second thread");
        assert!(!sequential(on_other), "inside sequential both run here");
        // nested, and the flag is back after it returns
        assert!(!sequential(|| sequential(on_other) || on_other()));
        assert!(on_other());
        let mut v = vec![0usize; MIN_PAR + 3];
        sequential(|| fill(&mut v, |i| i * 2));
        assert!(v.iter().enumerate().all(|(i, &x)| x == 2 * i));
    }
}
