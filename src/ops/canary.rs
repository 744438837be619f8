//! Canary planning (partitioned rollouts).
