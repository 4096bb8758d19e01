//! One file per section of the study report; each adds methods to the
//! builder.

mod adjustment;
mod competing;
mod endpoint;
mod flow;
mod methods;
mod multivariable;
mod numbers;
mod patterns;
mod ph;
mod rmst;
mod subgroups;
pub(crate) mod table1;
