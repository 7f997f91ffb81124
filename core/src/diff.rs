//! What a config change does: a semantic diff of two validated configs.
//!
//! A text diff shows moved lines; the platform team wants to know which classes appeared, went or
//! were renamed, which limits and windows changed, and above all which jobs now land somewhere
//! else. [`diff`] answers that from two [`Config`]s, with no I/O; `config diff` and `config push`
//! print it.
//!
//! Fields are compared through the model's own serialization, flattened to dotted paths
//! (`size.cpu`, `scope.name`), so a field added to the model is diffed without touching this file.
//! Labels are compared as case-insensitive sets, because routing compares them that way: reordering
//! or re-casing labels changes nothing and is not reported. Class order is not reported either; when
//! it matters, it shows up as routing changes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::routing::{route, SELF_HOSTED};
use crate::{Config, RunnerClass};

/// Above this many labels in one class, only label subsets up to [`MAX_SUBSET_LABELS`] labels are
/// tried: 2^12 subsets per class is cheap, 2^30 is not, and real classes carry 3 to 6 labels.
const MAX_FULL_ENUMERATION: usize = 12;
/// Subset size bound used for classes with more than [`MAX_FULL_ENUMERATION`] labels.
const MAX_SUBSET_LABELS: usize = 4;
/// Example label sets kept per routing move.
const EXAMPLES_PER_MOVE: usize = 3;

/// Everything that differs between two configs, in terms an operator acts on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigDiff {
    /// Classes only in the new config.
    pub classes_added: Vec<String>,
    /// Classes only in the old config.
    pub classes_removed: Vec<String>,
    /// Classes whose name changed but whose label set did not (see [`diff`]).
    pub classes_renamed: Vec<Rename>,
    /// Field changes of classes present in both (by name, or through a rename).
    pub classes_changed: Vec<ClassChange>,
    /// Changed `manager` settings.
    pub manager: Vec<FieldChange>,
    /// Changed `github` settings.
    pub github: Vec<FieldChange>,
    /// Label sets that now route to another class, or to none, grouped by move.
    pub routing: Vec<RouteMove>,
}

impl ConfigDiff {
    /// Whether nothing that matters changed.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }
}

/// A class that kept its label set under a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// Name in the old config.
    pub from: String,
    /// Name in the new config.
    pub to: String,
}

/// The changed fields of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassChange {
    /// The class's name in the new config.
    pub class: String,
    /// Each changed field.
    pub changes: Vec<FieldChange>,
}

/// One changed field, by dotted path, with both values as the model serializes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path, e.g. `max_runners`, `size.cpu`, `warm`.
    pub field: String,
    /// Value in the old config (`null` when absent).
    pub old: Value,
    /// Value in the new config (`null` when absent).
    pub new: Value,
}

/// Label sets whose route moved the same way: from one class (or none) to another (or none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteMove {
    /// Class in the old config, named as in the new one when it was renamed; `None`: unrouted.
    pub from: Option<String>,
    /// Class in the new config; `None`: no class takes these jobs any more.
    pub to: Option<String>,
    /// How many of the tried label sets move this way.
    pub label_sets: usize,
    /// The smallest few of them, each sorted.
    pub examples: Vec<Vec<String>>,
}

/// Compares `old` with `new`.
///
/// Classes are matched by name first. Of the classes left over, an old and a new class with the
/// same label set (case-insensitive) are a rename: jobs name classes by labels, never by name, so
/// to every workflow the class is still there. Remaining classes are added or removed.
///
/// Routing is checked on candidate label sets: every subset of every class's label set, of both
/// configs, that contains `self-hosted` (for a class of more than 12 labels, only its smaller subsets
/// are tried). A job routes only to a class carrying all its labels, so any label
/// set that routes anywhere in either config is such a subset, and the check is exhaustive up to
/// that bound.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut out = ConfigDiff::default();
    let mut pairs: Vec<(&RunnerClass, &RunnerClass)> = Vec::new();
    let mut old_left: Vec<&RunnerClass> = Vec::new();
    for class in &old.classes {
        match new.class(&class.name) {
            Some(same) => pairs.push((class, same)),
            None => old_left.push(class),
        }
    }
    let mut new_left: Vec<&RunnerClass> = new
        .classes
        .iter()
        .filter(|c| old.class(&c.name).is_none())
        .collect();
    for class in old_left {
        let labels = label_set(&class.labels);
        match new_left.iter().position(|c| label_set(&c.labels) == labels) {
            Some(at) => {
                let renamed = new_left.remove(at);
                out.classes_renamed.push(Rename {
                    from: class.name.clone(),
                    to: renamed.name.clone(),
                });
                pairs.push((class, renamed));
            }
            None => out.classes_removed.push(class.name.clone()),
        }
    }
    out.classes_added = new_left.iter().map(|c| c.name.clone()).collect();
    for (before, after) in &pairs {
        let changes: Vec<FieldChange> = field_changes(&class_value(before), &class_value(after))
            .into_iter()
            .filter(|c| c.field != "name")
            .collect();
        if !changes.is_empty() {
            out.classes_changed.push(ClassChange {
                class: after.name.clone(),
                changes,
            });
        }
    }
    out.manager = field_changes(&to_value(&old.manager), &to_value(&new.manager));
    out.github = field_changes(&to_value(&old.github), &to_value(&new.github));
    let renamed: BTreeMap<&str, &str> = out
        .classes_renamed
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    out.routing = routing_moves(old, new, &renamed);
    out
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("config model types serialize to JSON")
}

/// A class as compared: labels as the sorted lower-case set routing sees.
fn class_value(class: &RunnerClass) -> Value {
    let mut value = to_value(class);
    value["labels"] = to_value(&label_set(&class.labels));
    value
}

fn label_set(labels: &[String]) -> BTreeSet<String> {
    labels.iter().map(|l| l.to_ascii_lowercase()).collect()
}

/// Changed leaves of two JSON objects, objects flattened to dotted paths, arrays compared whole.
fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(
                    &child,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if old != new => out.push(FieldChange {
            field: path.to_string(),
            old: old.clone(),
            new: new.clone(),
        }),
        _ => {}
    }
}

/// Every label set worth routing through both configs (see [`diff`]), smallest first.
fn candidate_label_sets(old: &Config, new: &Config) -> BTreeSet<(usize, Vec<String>)> {
    let mut sets = BTreeSet::new();
    for class in old.classes.iter().chain(&new.classes) {
        let labels = label_set(&class.labels);
        if !labels.contains(SELF_HOSTED) {
            continue;
        }
        let others: Vec<&String> = labels.iter().filter(|l| *l != SELF_HOSTED).collect();
        let max = if others.len() > MAX_FULL_ENUMERATION {
            MAX_SUBSET_LABELS
        } else {
            others.len()
        };
        subsets(&others, max, &mut |chosen| {
            let mut set: Vec<String> = chosen.iter().map(|l| l.to_string()).collect();
            set.push(SELF_HOSTED.to_string());
            set.sort();
            sets.insert((set.len(), set));
        });
    }
    sets
}

/// Calls `f` with every subset of `items` of at most `max` elements, in a fixed order.
fn subsets<'a>(items: &[&'a String], max: usize, f: &mut dyn FnMut(&[&'a String])) {
    fn go<'a>(
        items: &[&'a String],
        max: usize,
        chosen: &mut Vec<&'a String>,
        f: &mut dyn FnMut(&[&'a String]),
    ) {
        f(chosen);
        if chosen.len() == max {
            return;
        }
        for (i, item) in items.iter().enumerate() {
            chosen.push(item);
            go(&items[i + 1..], max, chosen, f);
            chosen.pop();
        }
    }
    go(items, max, &mut Vec::new(), f);
}

fn routing_moves(old: &Config, new: &Config, renamed: &BTreeMap<&str, &str>) -> Vec<RouteMove> {
    let mut moves: BTreeMap<(Option<String>, Option<String>), RouteMove> = BTreeMap::new();
    for (_, labels) in candidate_label_sets(old, new) {
        let before = route(old, &labels).class().map(|c| {
            renamed
                .get(c.name.as_str())
                .copied()
                .unwrap_or(&c.name)
                .to_string()
        });
        let after = route(new, &labels).class().map(|c| c.name.clone());
        if before == after {
            continue;
        }
        let entry = moves
            .entry((before.clone(), after.clone()))
            .or_insert(RouteMove {
                from: before,
                to: after,
                label_sets: 0,
                examples: Vec::new(),
            });
        entry.label_sets += 1;
        if entry.examples.len() < EXAMPLES_PER_MOVE {
            entry.examples.push(labels);
        }
    }
    moves.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "github: {scope: org, name: acme}
classes:
  - {name: small, labels: [self-hosted, linux, small], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 5}
  - {name: large, labels: [self-hosted, linux, large], task_definition: t, cpu: 4096, memory: 8192, capacity_provider: cp, max_runners: 2}
";

    fn parse(yaml: &str) -> Config {
        rc_config::parse(yaml).expect("valid test config")
    }

    fn edited(from: &str, to: &str) -> Config {
        assert!(BASE.contains(from), "edit target {from:?} not in base");
        parse(&BASE.replacen(from, to, 1))
    }

    #[test]
    fn identical_and_cosmetic_changes_are_empty() {
        let base = parse(BASE);
        assert!(diff(&base, &base).is_empty());
        let recased = edited("[self-hosted, linux, small]", "[Linux, SMALL, self-hosted]");
        assert!(
            diff(&base, &recased).is_empty(),
            "{:?}",
            diff(&base, &recased)
        );
    }

    #[test]
    fn field_changes_are_flattened_paths() {
        let d = diff(&parse(BASE), &edited("cpu: 4096", "cpu: 8192"));
        assert_eq!(d.classes_changed.len(), 1);
        assert_eq!(d.classes_changed[0].class, "large");
        assert_eq!(
            d.classes_changed[0].changes,
            [FieldChange {
                field: "size.cpu".into(),
                old: 4096.into(),
                new: 8192.into()
            }]
        );
        assert!(d.routing.is_empty());
    }

    #[test]
    fn rename_keeps_labels_and_moves_no_route() {
        let d = diff(&parse(BASE), &edited("name: large", "name: big"));
        assert_eq!(
            d.classes_renamed,
            [Rename {
                from: "large".into(),
                to: "big".into()
            }]
        );
        assert!(d.classes_added.is_empty() && d.classes_removed.is_empty());
        assert!(d.routing.is_empty(), "{:?}", d.routing);
    }

    #[test]
    fn removed_class_moves_its_jobs_to_none() {
        let without_large = parse(&BASE.lines().take(3).collect::<Vec<_>>().join("\n"));
        let d = diff(&parse(BASE), &without_large);
        assert_eq!(d.classes_removed, ["large"]);
        let moved = &d.routing[0];
        assert_eq!(
            (moved.from.as_deref(), moved.to.as_deref()),
            (Some("large"), None)
        );
        assert!(moved
            .examples
            .contains(&vec!["large".to_string(), "self-hosted".to_string()]));
    }

    #[test]
    fn order_swap_shows_as_routing_change() {
        let swapped = parse(&format!(
            "github: {{scope: org, name: acme}}\nclasses:\n{}\n{}\n",
            BASE.lines().nth(3).expect("large line"),
            BASE.lines().nth(2).expect("small line"),
        ));
        let d = diff(&parse(BASE), &swapped);
        assert!(d.classes_changed.is_empty() && d.classes_added.is_empty());
        // [self-hosted] and [self-hosted, linux] went to the first class, now `large`.
        assert_eq!(d.routing.len(), 1);
        let moved = &d.routing[0];
        assert_eq!(
            (moved.from.as_deref(), moved.to.as_deref()),
            (Some("small"), Some("large"))
        );
        assert_eq!(moved.label_sets, 2);
        assert_eq!(moved.examples[0], ["self-hosted"]);
    }

    #[test]
    fn manager_and_github_settings() {
        let changed = parse(&BASE.replace(
            "github: {scope: org, name: acme}",
            "github: {scope: org, name: other}\nmanager: {recheck_delay: 1m}",
        ));
        let d = diff(&parse(BASE), &changed);
        assert_eq!(d.github[0].field, "scope.name");
        assert_eq!(d.manager[0].field, "recheck_delay");
        assert_eq!(d.manager[0].new, "1m");
    }

    #[test]
    fn subsets_are_bounded() {
        let items: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let refs: Vec<&String> = items.iter().collect();
        let mut count = 0;
        subsets(&refs, 2, &mut |_| count += 1);
        assert_eq!(count, 1 + 5 + 10);
    }
}
