//! DaemonSet analysis (node eligibility and per-node verdicts).
