//! Prune planning (claims left behind by scale-down).
