//! Impact analysis results: which business functions stop when a service fails, and which
//! services a business function relies on. The rule: a service failure spreads to every service
//! that depends on it, transitively; a business function is hit when one of those services
//! lives in its primary domain or in a domain it depends on. The queries live in `store.rs`.

use std::collections::{HashMap, VecDeque};

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

/// Shortest hop counts from any of `roots` along directed `edges` (from, to), by breadth-first
/// search: each reachable node gets the length of its shortest path.
pub fn hops(roots: &[String], edges: &[(String, String)]) -> HashMap<String, i64> {
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for (from, to) in edges {
        next.entry(from.as_str()).or_default().push(to.as_str());
    }
    let mut depth: HashMap<String, i64> = HashMap::new();
    let mut queue = VecDeque::new();
    for r in roots {
        if depth.insert(r.clone(), 0).is_none() {
            queue.push_back(r.as_str());
        }
    }
    while let Some(node) = queue.pop_front() {
        let d = depth[node];
        for &n in next.get(node).map_or(&[][..], Vec::as_slice) {
            if !depth.contains_key(n) {
                depth.insert(n.to_string(), d + 1);
                queue.push_back(n);
            }
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::hops;

    fn edges(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect()
    }

    #[test]
    fn shortest_path_wins_in_a_diamond_with_a_long_side() {
        // db <- api <- web, and db <- cache <- worker <- web: web is 2 hops away, not 3.
        let e = edges(&[
            ("db", "api"),
            ("api", "web"),
            ("db", "cache"),
            ("cache", "worker"),
            ("worker", "web"),
        ]);
        let d = hops(&["db".to_string()], &e);
        assert_eq!(d["db"], 0);
        assert_eq!(d["api"], 1);
        assert_eq!(d["worker"], 2);
        assert_eq!(d["web"], 2);
    }

    #[test]
    fn several_roots_start_at_zero_and_unreachable_nodes_are_absent() {
        let e = edges(&[("a", "b"), ("c", "b"), ("x", "y")]);
        let d = hops(&["a".to_string(), "c".to_string()], &e);
        assert_eq!((d["a"], d["c"], d["b"]), (0, 0, 1));
        assert!(!d.contains_key("y"));
    }
}
