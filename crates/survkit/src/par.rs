//! Two-way fork–join, to use the second core of a small machine.
//!
//! Callers split work into two fixed parts that never depend on the number of
//! cores or on scheduling, and every value is computed by the same operations
//! in the same order as in a sequential run, so results are bit-identical to
//! one thread. Below [`MIN_PAR`] items the work runs on the calling thread
//! (spawning costs more than it saves).

/// Smallest number of items worth a second thread.
pub(crate) const MIN_PAR: usize = 1 << 15;

/// Run `a` here and `b` on a second thread (when `parallel`), return both.
pub(crate) fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
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
