//! Pure analysis: plain k8s-openapi objects in, plain data out. No I/O, no
//! clock (`now` is a parameter), no kube client.

pub mod canary;
pub mod claims_policy;
pub mod daemonset;
pub mod finding;
pub mod fleet;
pub mod health;
pub mod pod;
pub mod statefulset;
