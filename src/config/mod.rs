//! Config as code: the catalog written as YAML files kept in git. Files are parsed strictly
//! (unknown keys and wrong types are errors), merged, validated as a whole, and every problem is
//! reported at its file, line and column. `plan` diffs against the database; `apply` writes the
//! plan in one transaction; `export` writes YAML that `apply` accepts unchanged.

pub mod apply;
mod node;
pub mod plan;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde_saphyr::Spanned;

use crate::catalog::validate::{Problem, validate};
use crate::catalog::{Catalog, Kind};
use node::{Node, locate};

/// One configuration file's name and text.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn read(path: &str) -> Result<Self, ConfigError> {
        std::fs::read_to_string(path)
            .map(|text| Self {
                path: path.to_string(),
                text,
            })
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read file: {e}")))
    }
}

/// A configuration mistake, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The offending source line with a caret under the column (empty when unknown).
    pub snippet: String,
}

impl ConfigError {
    fn whole_file(path: &str, message: String) -> Self {
        Self {
            path: path.into(),
            line: 0,
            column: 0,
            message,
            snippet: String::new(),
        }
    }

    /// A mistake about a file as a whole (no position to point at).
    pub fn in_file(path: &str, message: String) -> Self {
        Self::whole_file(path, message)
    }

    fn at(source: &Source, line: u64, column: u64, message: String) -> Self {
        Self {
            path: source.path.clone(),
            line,
            column,
            message,
            snippet: snippet(&source.text, line, column),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // No position: a whole file (unreadable) or a stored record.
            write!(f, "{}: error: {}", self.path, self.message)?;
        } else {
            let (path, line, col) = (&self.path, self.line, self.column);
            write!(f, "{path}:{line}:{col}: error: {}", self.message)?;
        }
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

fn snippet(text: &str, line: u64, column: u64) -> String {
    let Some(src) = usize::try_from(line)
        .ok()
        .and_then(|l| l.checked_sub(1))
        .and_then(|l| text.lines().nth(l))
    else {
        return String::new();
    };
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    let caret = " ".repeat(usize::try_from(column.saturating_sub(1)).unwrap_or(0));
    format!("{pad} |\n{gutter} | {src}\n{pad} | {caret}^")
}

/// The result of reading a set of files: the catalog they describe, which kinds they manage
/// (a kind is managed when some file has its key, even with an empty list), and where each
/// record was written.
pub struct Loaded {
    pub catalog: Catalog,
    pub managed: BTreeSet<Kind>,
    sources: Vec<Source>,
    /// For each kind, in merged order: (source index, the record's node).
    records: HashMap<Kind, Vec<(usize, Spanned<Node>)>>,
}

/// Parses and merges `sources`; syntax, type and unknown-key errors come back located.
pub fn parse(sources: Vec<Source>) -> Result<Loaded, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut catalog = Catalog::default();
    let mut managed = BTreeSet::new();
    let mut records: HashMap<Kind, Vec<(usize, Spanned<Node>)>> = HashMap::new();
    for (i, source) in sources.iter().enumerate() {
        // An empty file (or one of only comments) is an empty catalog, not an error.
        if source
            .text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        let typed: Catalog = match serde_saphyr::from_str(&source.text) {
            Ok(c) => c,
            Err(e) => {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let message = e.without_snippet().to_string();
                let message = message.lines().next().unwrap_or_default().to_string();
                errors.push(ConfigError::at(
                    source,
                    line,
                    column,
                    strip_location(&message),
                ));
                continue;
            }
        };
        let tree: Spanned<Node> = match serde_saphyr::from_str(&source.text) {
            Ok(t) => t,
            Err(e) => {
                errors.push(ConfigError::whole_file(
                    &source.path,
                    e.without_snippet().to_string(),
                ));
                continue;
            }
        };
        for kind in Kind::ALL {
            if let Some(list) = tree.value.get(kind.yaml_key()) {
                managed.insert(kind);
                if let Node::Seq(items) = &list.value {
                    let entry = records.entry(kind).or_default();
                    entry.extend(items.iter().map(|n| (i, clone_spanned(n))));
                }
            }
        }
        merge_into(&mut catalog, typed);
    }
    if errors.is_empty() {
        Ok(Loaded {
            catalog,
            managed,
            sources,
            records,
        })
    } else {
        Err(errors)
    }
}

/// Parses, then validates the merged catalog; `base` supplies the kinds the files do not manage
/// (the database's current records), so references to them resolve.
pub fn load(sources: Vec<Source>, base: &Catalog) -> Result<Loaded, Vec<ConfigError>> {
    let mut loaded = parse(sources)?;
    loaded.catalog = plan::overlay(base, &loaded.catalog, &loaded.managed);
    let problems = validate(&loaded.catalog);
    let errors: Vec<ConfigError> = problems.iter().map(|p| loaded.locate(p)).collect();
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

impl Loaded {
    /// The file, line and column of a validation problem.
    pub fn locate(&self, p: &Problem) -> ConfigError {
        let message = format!(
            "{} (in {}[{}].{})",
            p.message,
            p.kind.yaml_key(),
            p.index,
            p.field
        );
        match self.records.get(&p.kind).and_then(|r| r.get(p.index)) {
            Some((source, node)) => {
                let at = locate(node, &p.field);
                let source = &self.sources[*source];
                ConfigError::at(
                    source,
                    at.referenced.line(),
                    at.referenced.column(),
                    message,
                )
            }
            // A stored record of a kind these files do not manage, broken by what they change
            // (e.g. the files drop a team that stored services still name).
            None => {
                let id = self
                    .catalog
                    .ids(p.kind)
                    .get(p.index)
                    .cloned()
                    .unwrap_or_default();
                ConfigError::whole_file(
                    "(database)",
                    format!(
                        "stored {} {id:?}, which these files do not manage, would break: {} ({})",
                        p.kind.noun(),
                        p.message,
                        p.field
                    ),
                )
            }
        }
    }
}

fn merge_into(all: &mut Catalog, part: Catalog) {
    all.tiers.extend(part.tiers);
    all.teams.extend(part.teams);
    all.domains.extend(part.domains);
    all.people.extend(part.people);
    all.schedules.extend(part.schedules);
    all.escalation_policies.extend(part.escalation_policies);
    all.severities.extend(part.severities);
    all.business_functions.extend(part.business_functions);
    all.services.extend(part.services);
    all.playbooks.extend(part.playbooks);
    all.alert_rules.extend(part.alert_rules);
    all.slos.extend(part.slos);
}

fn clone_spanned(n: &Spanned<Node>) -> Spanned<Node> {
    Spanned {
        value: clone_node(&n.value),
        referenced: n.referenced,
        defined: n.defined,
    }
}

fn clone_node(n: &Node) -> Node {
    match n {
        Node::Scalar => Node::Scalar,
        Node::Seq(items) => Node::Seq(items.iter().map(clone_spanned).collect()),
        Node::Map(entries) => Node::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), clone_spanned(v)))
                .collect(),
        ),
    }
}

/// Parses one YAML file into `T` strictly (the type's `deny_unknown_fields`), the error
/// located like the catalog's: for the other files Tocsin reads, such as the postmortem template.
pub fn parse_one<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, ConfigError> {
    serde_saphyr::from_str(&source.text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let message = e.without_snippet().to_string();
        let message = message.lines().next().unwrap_or_default().to_string();
        ConfigError::at(source, line, column, strip_location(&message))
    })
}

/// serde-saphyr puts "line L column C" before or after some messages; we print our own.
fn strip_location(message: &str) -> String {
    let mut m = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(i) = m.find(": ").filter(|i| m[..*i].starts_with("line ")) {
        m = &m[i + 2..];
    }
    if let Some(i) = m.rfind(" at line ") {
        m = &m[..i];
    }
    // Some of the parser's messages speak to Rust programmers; say it for YAML writers.
    if m.starts_with("duplicate mapping key") {
        let key = m
            .split_once(": ")
            .map_or("", |(_, k)| k.split(',').next().unwrap_or(""));
        return format!("duplicate key {key} in the same mapping").replace("key  in", "key in");
    }
    match m {
        "invalid boolean" => "expected true or false".into(),
        "invalid u8" => "expected a whole number from 0 to 255".into(),
        "cannot deserialize null into string; use Option<String>" => {
            "expected text, found nothing (null)".into()
        }
        other
            if other.contains("from_str_multiple")
                || other.starts_with("multiple YAML documents") =>
        {
            "expected one YAML document per file (found `---` separating several)".into()
        }
        other => other.to_string(),
    }
}

/// Writes the catalog as one YAML document that `apply` accepts unchanged.
pub fn export(catalog: &Catalog) -> Result<String, String> {
    let body = serde_saphyr::to_string(catalog).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Tocsin catalog, exported; apply with `tocsin apply FILE`.\n{body}"
    ))
}
