//! Table-1 hypothesis tests (in progress).
