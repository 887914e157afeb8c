//! Impact analysis results: which business functions stop when a service fails, and which
//! services a business function relies on. The rule: a service failure spreads to every service
//! that depends on it, transitively; a business function is hit when one of those services
//! lives in its primary domain or in a domain it depends on. The queries live in `store.rs`.

use serde::Serialize;
use utoipa::ToSchema;

/// A service reached while walking dependencies; `depth` is the number of hops from the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
    pub tier: i64,
    pub depth: i64,
}

/// A business function hit by a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FunctionImpact {
    pub id: String,
    pub name: String,
    pub criticality: String,
    /// True when the failure reaches the function's primary domain, not only a dependency.
    pub via_primary_domain: bool,
}

/// What fails when `service` fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Impact {
    pub service: String,
    pub services: Vec<ServiceRef>,
    pub business_functions: Vec<FunctionImpact>,
}
