//! Impact analysis: which business functions stop when a service fails, and which services a
//! business function relies on. The rule: a service failure spreads to every service that
//! depends on it, transitively; a business function is hit when one of those services lives in
//! its primary domain or in a domain it depends on. Pure functions over a [`Graph`] built once
//! per catalog snapshot, so a question costs a breadth-first search, not a query.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;
use utoipa::ToSchema;

use super::Catalog;

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

/// The service dependency graph of one catalog, by position in `Catalog::services`.
#[derive(Debug, Default)]
pub struct Graph {
    index: HashMap<String, usize>,
    /// `depends_on[i]`: what service `i` needs.
    depends_on: Vec<Vec<usize>>,
    /// `dependents[i]`: what needs service `i`.
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(c: &Catalog) -> Self {
        let index: HashMap<String, usize> = c
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut depends_on = vec![Vec::new(); c.services.len()];
        let mut dependents = vec![Vec::new(); c.services.len()];
        for (i, s) in c.services.iter().enumerate() {
            for d in s.depends_on.iter().filter_map(|d| index.get(d)) {
                depends_on[i].push(*d);
                dependents[*d].push(i);
            }
        }
        Self {
            index,
            depends_on,
            dependents,
        }
    }
}

/// Shortest hop counts from `roots` along `edges`, breadth first: (node, hops) in visit order.
fn reach(roots: &[usize], edges: &[Vec<usize>]) -> Vec<(usize, i64)> {
    let mut seen: HashSet<usize> = roots.iter().copied().collect();
    let mut queue: VecDeque<(usize, i64)> = roots.iter().map(|r| (*r, 0)).collect();
    let mut out = Vec::new();
    while let Some((node, depth)) = queue.pop_front() {
        out.push((node, depth));
        for &next in &edges[node] {
            if seen.insert(next) {
                queue.push_back((next, depth + 1));
            }
        }
    }
    out
}

fn refs(c: &Catalog, reached: &[(usize, i64)]) -> Vec<ServiceRef> {
    let mut refs: Vec<ServiceRef> = reached
        .iter()
        .map(|&(i, depth)| {
            let s = &c.services[i];
            ServiceRef {
                id: s.id.clone(),
                name: s.name.clone(),
                tier: i64::from(s.tier),
                depth,
            }
        })
        .collect();
    refs.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.id.cmp(&b.id)));
    refs
}

/// What fails when `service` fails; None for an unknown service.
pub fn impact_of(c: &Catalog, g: &Graph, service: &str) -> Option<Impact> {
    let start = *g.index.get(service)?;
    let reached = reach(&[start], &g.dependents);
    let hit: HashSet<&str> = reached
        .iter()
        .map(|&(i, _)| c.services[i].domain.as_str())
        .collect();
    let business_functions = c
        .business_functions
        .iter()
        .filter_map(|f| {
            let primary = hit.contains(f.primary_domain.as_str());
            let other = f
                .depends_on_domains
                .iter()
                .any(|d| hit.contains(d.as_str()));
            (primary || other).then(|| FunctionImpact {
                id: f.id.clone(),
                name: f.name.clone(),
                criticality: f.criticality.as_str().to_string(),
                via_primary_domain: primary,
            })
        })
        .collect();
    Some(Impact {
        service: service.to_string(),
        services: refs(c, &reached),
        business_functions,
    })
}

/// Every service business function `function` relies on: the services of its primary and
/// depended-on domains (0 hops) and everything they depend on; None for an unknown function.
pub fn relied_on_by(c: &Catalog, g: &Graph, function: &str) -> Option<Vec<ServiceRef>> {
    let f = c.business_functions.iter().find(|f| f.id == function)?;
    let in_scope = |d: &str| f.primary_domain == d || f.depends_on_domains.iter().any(|x| x == d);
    let roots: Vec<usize> = c
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| in_scope(&s.domain))
        .map(|(i, _)| i)
        .collect();
    Some(refs(c, &reach(&roots, &g.depends_on)))
}

#[cfg(test)]
mod tests {
    use super::{Graph, impact_of, relied_on_by};
    use crate::catalog::{BusinessFunction, Catalog, Criticality, Service, ServiceType};

    fn svc(id: &str, domain: &str, deps: &[&str]) -> Service {
        Service {
            escalation_policy: None,
            id: id.into(),
            name: id.into(),
            description: String::new(),
            kind: ServiceType::RestApi,
            stateful: false,
            owner_team: "t".into(),
            tier: 1,
            domain: domain.into(),
            depends_on: deps.iter().map(|d| (*d).to_string()).collect(),
            links: vec![],
        }
    }

    fn function(id: &str, primary: &str, others: &[&str]) -> BusinessFunction {
        BusinessFunction {
            id: id.into(),
            name: id.into(),
            description: String::new(),
            primary_domain: primary.into(),
            depends_on_domains: others.iter().map(|d| (*d).to_string()).collect(),
            owner_team: "t".into(),
            criticality: Criticality::High,
        }
    }

    /// web -> api -> db and web -> worker -> cache -> db: web is 2 hops from db, not 3.
    fn catalog() -> Catalog {
        Catalog {
            services: vec![
                svc("api", "shop", &["db"]),
                svc("cache", "data", &["db"]),
                svc("db", "data", &[]),
                svc("mail", "notify", &[]),
                svc("web", "shop", &["api", "worker"]),
                svc("worker", "shop", &["cache"]),
            ],
            business_functions: vec![
                function("buy", "shop", &[]),
                function("newsletter", "notify", &["data"]),
                function("tracking", "ship", &[]),
            ],
            ..Catalog::default()
        }
    }

    #[test]
    fn a_failure_spreads_to_dependents_at_their_shortest_distance() {
        let c = catalog();
        let i = impact_of(&c, &Graph::new(&c), "db").unwrap();
        let got: Vec<(&str, i64)> = i
            .services
            .iter()
            .map(|s| (s.id.as_str(), s.depth))
            .collect();
        assert_eq!(
            got,
            [
                ("db", 0),
                ("api", 1),
                ("cache", 1),
                ("web", 2),
                ("worker", 2)
            ]
        );
        let f: Vec<(&str, bool)> = i
            .business_functions
            .iter()
            .map(|f| (f.id.as_str(), f.via_primary_domain))
            .collect();
        assert_eq!(f, [("buy", true), ("newsletter", false)]);
    }

    #[test]
    fn a_leaf_failure_hits_only_its_own_domain() {
        let c = catalog();
        let i = impact_of(&c, &Graph::new(&c), "mail").unwrap();
        assert_eq!(i.services.len(), 1);
        assert_eq!(i.business_functions.len(), 1);
        assert!(impact_of(&c, &Graph::new(&c), "nope").is_none());
    }

    #[test]
    fn a_function_relies_on_its_domains_and_their_dependencies() {
        let c = catalog();
        let g = Graph::new(&c);
        let deps = relied_on_by(&c, &g, "buy").unwrap();
        let got: Vec<(&str, i64)> = deps.iter().map(|s| (s.id.as_str(), s.depth)).collect();
        assert_eq!(
            got,
            [
                ("api", 0),
                ("web", 0),
                ("worker", 0),
                ("cache", 1),
                ("db", 1)
            ]
        );
        assert!(relied_on_by(&c, &g, "tracking").unwrap().is_empty());
        assert!(relied_on_by(&c, &g, "nope").is_none());
    }
}
