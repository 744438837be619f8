//! Pure planners for the commands that change the cluster.

pub mod canary;
pub mod prune;
