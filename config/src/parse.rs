//! YAML → [`Config`], reporting every problem with its line and column.
//!
//! The first stage is `marked_yaml`'s tree, which remembers where each node starts; the second is
//! a schema walk that checks keys, types and ranges, resolves references (holiday calendars) and
//! keeps going after a problem so that one run shows the platform team everything to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError, LoaderOptions, Node, Span};

mod bench;

use crate::model::{
    Config, CpuUnits, GithubConfig, GithubScope, ManagerSettings, MemMib, PickupTarget,
    RunnerClass, TaskSize, WarmWindow,
};

/// One problem in a config file, located at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, and what would be right.
    pub message: String,
}

/// All problems found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems as `FILE:LINE:COL: message` lines, the format editors and CI annotate.
    pub fn render(&self, file: &str) -> String {
        self.0
            .iter()
            .map(|p| format!("{file}:{}:{}: {}\n", p.line, p.column, p.message))
            .collect()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("config"))
    }
}

/// Parses and validates a config.
///
/// # Errors
///
/// Every problem found, each with its location, sorted by position.
pub fn parse(text: &str) -> Result<Config, Problems> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let root = marked_yaml::parse_yaml_with_options(0, text, options).map_err(load_problem)?;
    let mut checker = Checker::default();
    let config = checker.config(&root);
    let mut problems = checker.problems;
    problems.sort_by_key(|p| (p.line, p.column));
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => Err(Problems(problems)),
    }
}

fn load_problem(err: LoadError) -> Problems {
    let (marker, message) = match &err {
        LoadError::TopLevelMustBeMapping(m) => {
            (Some(*m), "the top level must be a mapping".to_string())
        }
        LoadError::TopLevelMustBeSequence(m) => {
            (Some(*m), "the top level must be a sequence".to_string())
        }
        LoadError::UnexpectedAnchor(m) => {
            (Some(*m), "YAML anchors are not supported here".to_string())
        }
        LoadError::MappingKeyMustBeScalar(m) => {
            (Some(*m), "mapping keys must be plain scalars".to_string())
        }
        LoadError::UnexpectedTag(m) => (Some(*m), "YAML tags are not supported here".to_string()),
        LoadError::ScanError(m, e) => (Some(*m), format!("invalid YAML: {}", e.info())),
        LoadError::DuplicateKey(inner) => (
            inner.key.span().start().copied(),
            format!("duplicate key `{}`", inner.key.as_str()),
        ),
    };
    let (line, column) = marker.map_or((1, 1), |m| (m.line(), m.column()));
    Problems(vec![Problem {
        line,
        column,
        message,
    }])
}

const TOP_KEYS: &[&str] = &["github", "manager", "calendars", "classes", "benchmarks"];
const GITHUB_KEYS: &[&str] = &[
    "scope",
    "name",
    "api_url",
    "runner_group",
    "runner_name_prefix",
];
const MANAGER_KEYS: &[&str] = &[
    "recheck_delay",
    "recheck_attempts",
    "boot_timeout",
    "rescue_after",
    "replay_check_after",
    "github_api_budget_per_tick",
    "max_redeliveries_per_tick",
];
const CLASS_KEYS: &[&str] = &[
    "name",
    "labels",
    "task_definition",
    "container",
    "cpu",
    "memory",
    "capacity_provider",
    "max_runners",
    "idle_timeout",
    "warm",
    "holidays",
];
const WINDOW_KEYS: &[&str] = &[
    "days",
    "from",
    "to",
    "timezone",
    "idle",
    "target_p95",
    "min",
    "max",
    "headroom",
];

/// The longest stretch of launches a window's `headroom` may keep room for: beyond an instance
/// launch or two, the room would only be paid for.
const MAX_HEADROOM: Duration = Duration::from_secs(600);
/// SQS caps `DelaySeconds` at 15 minutes, and re-checks are delayed messages.
const MAX_RECHECK_DELAY: Duration = Duration::from_secs(900);
/// Task CPU range for the EC2 launch type (ECS RegisterTaskDefinition `cpu`).
const EC2_CPU_RANGE: std::ops::RangeInclusive<u32> = 128..=196_608;
/// GitHub rejects runner names longer than this; the prefix leaves room for our short id.
const MAX_PREFIX_LEN: usize = 40;

fn span_pos(span: &Span) -> (usize, usize) {
    span.start().map_or((1, 1), |m| (m.line(), m.column()))
}

/// Walks the tree and collects problems; every method returns `None` when its node is unusable.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

/// A mapping whose keys were checked against a schema.
struct Fields<'a> {
    map: &'a MarkedMappingNode,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.map.get_node(key)
    }
}

impl Checker {
    fn report(&mut self, span: &Span, message: impl Into<String>) {
        let (line, column) = span_pos(span);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    /// Checks that `node` is a mapping with only `known` keys; suggests the closest for typos.
    fn fields<'a>(
        &mut self,
        node: &'a Node,
        what: &'static str,
        known: &[&str],
    ) -> Option<Fields<'a>> {
        let Some(map) = node.as_mapping() else {
            self.report(node.span(), format!("{what} must be a mapping"));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let hint = closest(key.as_str(), known)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_else(|| format!("; expected one of {}", known.join(", ")));
                self.report(
                    key.span(),
                    format!("unknown key `{}` in {what}{hint}", key.as_str()),
                );
            }
        }
        Some(Fields { map, what })
    }

    fn required<'a>(&mut self, fields: &Fields<'a>, key: &str) -> Option<&'a Node> {
        let node = fields.get(key);
        if node.is_none() {
            self.report(
                fields.map.span(),
                format!("{} is missing `{key}`", fields.what),
            );
        }
        node
    }

    fn scalar<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a MarkedScalarNode> {
        let scalar = node.as_scalar();
        if scalar.is_none() {
            self.report(node.span(), format!("{what} must be a single value"));
        }
        scalar
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.scalar(node, what)?;
        if s.as_str().trim().is_empty() {
            self.report(node.span(), format!("{what} must not be empty"));
            return None;
        }
        Some(s.as_str().to_string())
    }

    fn number(
        &mut self,
        node: &Node,
        what: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<u32> {
        let s = self.scalar(node, what)?;
        match s.as_str().parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            Ok(n) => {
                let (lo, hi) = (range.start(), range.end());
                self.report(
                    node.span(),
                    format!("{what} {n} is out of range {lo}..={hi}"),
                );
                None
            }
            Err(_) => {
                self.report(
                    node.span(),
                    format!("{what} must be a whole number, not `{}`", s.as_str()),
                );
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, what: &str) -> Option<Duration> {
        let s = self.scalar(node, what)?;
        match humantime::parse_duration(s.as_str()) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.report(node.span(), format!("{what} must be longer than zero"));
                None
            }
            Err(e) => {
                self.report(
                    node.span(),
                    format!(
                        "{what} `{}` is not a duration ({e}); write e.g. `90s`, `10m`, `1h 30m`",
                        s.as_str()
                    ),
                );
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, what: &str) -> Option<Vec<(String, Span)>> {
        let Some(seq) = node.as_sequence() else {
            self.report(node.span(), format!("{what} must be a list"));
            return None;
        };
        let items: Vec<_> = seq
            .iter()
            .filter_map(|item| Some((self.string(item, what)?, *item.span())))
            .collect();
        (items.len() == seq.len()).then_some(items)
    }

    fn config(&mut self, root: &Node) -> Option<Config> {
        let top = self.fields(root, "the config", TOP_KEYS)?;
        let github = self.required(&top, "github").and_then(|n| self.github(n));
        let manager = match top.get("manager") {
            Some(n) => self.manager(n),
            None => Some(ManagerSettings::default()),
        };
        let calendars = match top.get("calendars") {
            Some(n) => self.calendars(n),
            None => BTreeMap::new(),
        };
        let classes = self
            .required(&top, "classes")
            .and_then(|n| self.classes(n, &calendars));
        let benchmarks = match top.get("benchmarks") {
            Some(n) => self.benchmarks(n).map(Some),
            None => Some(None),
        };
        Some(Config {
            github: github?,
            manager: manager?,
            classes: classes?,
            benchmarks: benchmarks?,
        })
    }

    fn github(&mut self, node: &Node) -> Option<GithubConfig> {
        let f = self.fields(node, "github", GITHUB_KEYS)?;
        let scope_node = self.required(&f, "scope");
        let kind = scope_node.and_then(|n| self.string(n, "github.scope"));
        let name = self
            .required(&f, "name")
            .and_then(|n| self.string(n, "github.name"));
        let scope = match (kind.as_deref(), name) {
            (Some("enterprise"), Some(name)) => Some(GithubScope::Enterprise(name)),
            (Some("org"), Some(name)) => Some(GithubScope::Org(name)),
            (Some("repo"), Some(name)) => {
                if name.split('/').filter(|p| !p.is_empty()).count() != 2 {
                    let span = f.get("name").map(|n| *n.span()).unwrap_or(*f.map.span());
                    self.report(
                        &span,
                        format!("github.name `{name}` must be `owner/repo` when scope is repo"),
                    );
                    None
                } else {
                    Some(GithubScope::Repo(name))
                }
            }
            (Some(other), _) => {
                let span = scope_node.map(|n| *n.span()).unwrap_or(*f.map.span());
                self.report(
                    &span,
                    format!("github.scope `{other}` must be one of enterprise, org, repo"),
                );
                None
            }
            _ => None,
        };
        let api_url = match f.get("api_url") {
            Some(n) => {
                let url = self.string(n, "github.api_url")?;
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    self.report(n.span(), format!("github.api_url `{url}` must start with https:// (or http:// for local tests)"));
                    return None;
                }
                url.trim_end_matches('/').to_string()
            }
            None => "https://api.github.com".to_string(),
        };
        let runner_group = match f.get("runner_group") {
            Some(n) => self.string(n, "github.runner_group")?,
            None => "Default".to_string(),
        };
        let runner_name_prefix = match f.get("runner_name_prefix") {
            Some(n) => {
                let prefix = self.string(n, "github.runner_name_prefix")?;
                let valid = prefix.len() <= MAX_PREFIX_LEN
                    && prefix
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if !valid {
                    self.report(
                        n.span(),
                        format!("github.runner_name_prefix must be at most {MAX_PREFIX_LEN} letters, digits, `-`, `_` or `.`"),
                    );
                    return None;
                }
                prefix
            }
            None => "rc-".to_string(),
        };
        Some(GithubConfig {
            scope: scope?,
            api_url,
            runner_group,
            runner_name_prefix,
        })
    }

    fn manager(&mut self, node: &Node) -> Option<ManagerSettings> {
        let f = self.fields(node, "manager", MANAGER_KEYS)?;
        let mut settings = ManagerSettings::default();
        let mut ok = true;
        if let Some(n) = f.get("recheck_delay") {
            match self.duration(n, "manager.recheck_delay") {
                Some(d) if d > MAX_RECHECK_DELAY => {
                    self.report(
                        n.span(),
                        "manager.recheck_delay must be at most 15m (the SQS DelaySeconds limit)",
                    );
                    ok = false;
                }
                Some(d) => settings.recheck_delay = d,
                None => ok = false,
            }
        }
        let durations: [(&str, &mut Duration); 3] = [
            ("boot_timeout", &mut settings.boot_timeout),
            ("rescue_after", &mut settings.rescue_after),
            ("replay_check_after", &mut settings.replay_check_after),
        ];
        for (key, slot) in durations {
            if let Some(n) = f.get(key) {
                match self.duration(n, &format!("manager.{key}")) {
                    Some(d) => *slot = d,
                    None => ok = false,
                }
            }
        }
        let numbers: [(&str, &mut u32, std::ops::RangeInclusive<u32>); 3] = [
            ("recheck_attempts", &mut settings.recheck_attempts, 0..=50),
            (
                "github_api_budget_per_tick",
                &mut settings.github_api_budget_per_tick,
                0..=5000,
            ),
            (
                "max_redeliveries_per_tick",
                &mut settings.max_redeliveries_per_tick,
                0..=1000,
            ),
        ];
        for (key, slot, range) in numbers {
            if let Some(n) = f.get(key) {
                match self.number(n, &format!("manager.{key}"), range) {
                    Some(v) => *slot = v,
                    None => ok = false,
                }
            }
        }
        ok.then_some(settings)
    }

    fn calendars(&mut self, node: &Node) -> BTreeMap<String, BTreeSet<NaiveDate>> {
        let Some(map) = node.as_mapping() else {
            self.report(
                node.span(),
                "calendars must be a mapping of name to a list of dates",
            );
            return BTreeMap::new();
        };
        map.iter()
            .filter_map(|(name, dates)| Some((name.as_str().to_string(), self.dates(dates)?)))
            .collect()
    }

    fn dates(&mut self, node: &Node) -> Option<BTreeSet<NaiveDate>> {
        let items = self.string_list(node, "a holiday")?;
        let mut dates = BTreeSet::new();
        let mut ok = true;
        for (text, span) in items {
            match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                Ok(d) => {
                    dates.insert(d);
                }
                Err(_) => {
                    self.report(
                        &span,
                        format!("holiday `{text}` is not a date like 2026-01-01"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(dates)
    }

    fn classes(
        &mut self,
        node: &Node,
        calendars: &BTreeMap<String, BTreeSet<NaiveDate>>,
    ) -> Option<Vec<RunnerClass>> {
        let Some(seq) = node.as_sequence() else {
            self.report(node.span(), "classes must be a list");
            return None;
        };
        if seq.is_empty() {
            self.report(node.span(), "classes must list at least one runner class");
            return None;
        }
        self.duplicate_names(seq);
        let parsed: Vec<Option<(RunnerClass, Span)>> =
            seq.iter().map(|item| self.class(item, calendars)).collect();
        let mut ok = parsed.iter().all(Option::is_some);
        let valid: Vec<&(RunnerClass, Span)> = parsed.iter().flatten().collect();
        for (index, (class, labels_span)) in valid.iter().enumerate() {
            let shadowed_by = valid[..index].iter().find(|(earlier, _)| {
                class
                    .labels
                    .iter()
                    .all(|l| earlier.labels.iter().any(|e| e.eq_ignore_ascii_case(l)))
            });
            if let Some((earlier, _)) = shadowed_by {
                self.report(
                    labels_span,
                    format!(
                        "class `{}` can never be chosen: earlier class `{}` carries all of its labels and routing takes the first match",
                        class.name, earlier.name
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| parsed.into_iter().flatten().map(|(c, _)| c).collect())
    }

    /// Reports repeated class names, looking at the raw nodes so that a class with other
    /// problems still takes part.
    fn duplicate_names(&mut self, classes: &[Node]) {
        let mut first_line: BTreeMap<&str, usize> = BTreeMap::new();
        for name in classes
            .iter()
            .filter_map(|c| c.as_mapping()?.get_scalar("name"))
        {
            let (line, _) = span_pos(name.span());
            if let Some(first) = first_line.get(name.as_str()) {
                self.report(
                    name.span(),
                    format!(
                        "duplicate class name `{}` (first defined on line {first})",
                        name.as_str()
                    ),
                );
            } else {
                first_line.insert(name.as_str(), line);
            }
        }
    }

    fn class(
        &mut self,
        node: &Node,
        calendars: &BTreeMap<String, BTreeSet<NaiveDate>>,
    ) -> Option<(RunnerClass, Span)> {
        let f = self.fields(node, "a class", CLASS_KEYS)?;
        let name = self.required(&f, "name").and_then(|n| self.class_name(n));
        let labels_node = self.required(&f, "labels");
        let labels = labels_node.and_then(|n| self.labels(n));
        let task_definition = self
            .required(&f, "task_definition")
            .and_then(|n| self.string(n, "task_definition"));
        let container = match f.get("container") {
            Some(n) => self.string(n, "container"),
            None => Some("runner".to_string()),
        };
        let capacity_provider = self
            .required(&f, "capacity_provider")
            .and_then(|n| self.string(n, "capacity_provider"));
        let size = self.task_size(&f, capacity_provider.as_deref());
        let max_runners = self
            .required(&f, "max_runners")
            .and_then(|n| self.number(n, "max_runners", 1..=10_000));
        let idle_timeout = match f.get("idle_timeout") {
            Some(n) => self.duration(n, "idle_timeout"),
            None => Some(Duration::from_secs(600)),
        };
        let warm = match f.get("warm") {
            Some(n) => self.windows(n, max_runners),
            None => Some(Vec::new()),
        };
        let holidays = match f.get("holidays") {
            None => Some(BTreeSet::new()),
            Some(n) => match n.as_scalar() {
                Some(calendar) => {
                    let found = calendars.get(calendar.as_str()).cloned();
                    if found.is_none() {
                        let known: Vec<&str> = calendars.keys().map(String::as_str).collect();
                        let hint = closest(calendar.as_str(), &known)
                            .map(|k| format!("; did you mean `{k}`?"))
                            .unwrap_or_default();
                        self.report(n.span(), format!("holidays names calendar `{}`, which `calendars` does not define{hint}", calendar.as_str()));
                    }
                    found
                }
                None => self.dates(n),
            },
        };
        let class = RunnerClass {
            name: name?,
            labels: labels?,
            task_definition: task_definition?,
            container: container?,
            size: size?,
            capacity_provider: capacity_provider?,
            max_runners: max_runners?,
            idle_timeout: idle_timeout?,
            warm: warm?,
            holidays: holidays?,
        };
        let labels_span = *labels_node.expect("labels parsed, so present").span();
        Some((class, labels_span))
    }

    fn class_name(&mut self, node: &Node) -> Option<String> {
        let name = self.string(node, "class name")?;
        let valid = name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
        if !valid {
            self.report(
                node.span(),
                format!("class name `{name}` must be at most 64 letters, digits, `-` or `_`"),
            );
            return None;
        }
        Some(name)
    }

    fn labels(&mut self, node: &Node) -> Option<Vec<String>> {
        let items = self.string_list(node, "a label")?;
        if items.is_empty() {
            self.report(node.span(), "labels must not be empty");
            return None;
        }
        if !items
            .iter()
            .any(|(l, _)| l.eq_ignore_ascii_case(crate::SELF_HOSTED_LABEL))
        {
            self.report(
                node.span(),
                format!(
                    "labels must include `{}`: jobs without it never route to our runners",
                    crate::SELF_HOSTED_LABEL
                ),
            );
            return None;
        }
        let mut seen = BTreeSet::new();
        let mut ok = true;
        for (label, span) in &items {
            if !seen.insert(label.to_ascii_lowercase()) {
                self.report(span, format!("label `{label}` is listed twice"));
                ok = false;
            }
        }
        ok.then(|| items.into_iter().map(|(l, _)| l).collect())
    }

    fn task_size(&mut self, f: &Fields<'_>, capacity_provider: Option<&str>) -> Option<TaskSize> {
        let cpu_node = self.required(f, "cpu");
        let mem_node = self.required(f, "memory");
        let cpu = cpu_node.and_then(|n| self.number(n, "cpu", EC2_CPU_RANGE));
        let memory = mem_node.and_then(|n| self.number(n, "memory", 128..=u32::MAX));
        let (cpu, memory) = (cpu?, memory?);
        let fargate = matches!(capacity_provider, Some("FARGATE" | "FARGATE_SPOT"));
        if fargate && !fargate_accepts(cpu, memory) {
            self.report(
                cpu_node.expect("cpu parsed, so present").span(),
                format!("Fargate does not offer cpu {cpu} with memory {memory} MiB; see the ECS task size table"),
            );
            return None;
        }
        Some(TaskSize {
            cpu: CpuUnits(cpu),
            memory: MemMib(memory),
        })
    }

    fn windows(&mut self, node: &Node, max_runners: Option<u32>) -> Option<Vec<WarmWindow>> {
        let Some(seq) = node.as_sequence() else {
            self.report(node.span(), "warm must be a list of windows");
            return None;
        };
        let windows: Vec<_> = seq.iter().map(|w| self.window(w, max_runners)).collect();
        windows.into_iter().collect()
    }

    fn window(&mut self, node: &Node, max_runners: Option<u32>) -> Option<WarmWindow> {
        let f = self.fields(node, "a warm window", WINDOW_KEYS)?;
        let days = self.required(&f, "days").and_then(|n| self.days(n));
        let from = self
            .required(&f, "from")
            .and_then(|n| self.time_of_day(n, "from"));
        let to_node = self.required(&f, "to");
        let to = to_node.and_then(|n| self.time_of_day(n, "to"));
        let timezone = self.required(&f, "timezone").and_then(|n| self.timezone(n));
        let (idle_node, idle, target) = self.window_size(&f, max_runners)?;
        let headroom = match f.get("headroom") {
            Some(node) => {
                let headroom = self.duration(node, "headroom")?;
                if headroom > MAX_HEADROOM {
                    self.report(
                        node.span(),
                        format!(
                            "headroom {} is above {}: room for longer than an instance launch or two is only paid for",
                            humantime::format_duration(headroom),
                            humantime::format_duration(MAX_HEADROOM)
                        ),
                    );
                    return None;
                }
                Some(headroom)
            }
            None => None,
        };
        let mut ok = true;
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                self.report(
                    to_node.expect("to parsed, so present").span(),
                    format!("window ends ({to}) at or before it starts ({from}); split a window that crosses midnight into two"),
                );
                ok = false;
            }
        }
        if let (Some(idle), Some(max)) = (idle, max_runners) {
            if idle > max {
                self.report(
                    idle_node.expect("idle parsed, so present").span(),
                    format!("idle {idle} is above the class's max_runners {max}"),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(WarmWindow {
            days: days?,
            from: from?,
            to: to?,
            timezone: timezone?,
            idle: idle?,
            target,
            headroom,
        })
    }

    /// A window's size: a fixed `idle`, or a `target_p95` with an optional `min` (default 0)
    /// and a `max` (default the class's `max_runners`, else 10,000). Answers the node the
    /// count came from (to point at when it exceeds `max_runners`), the count kept at least,
    /// and the target.
    fn window_size<'a>(
        &mut self,
        f: &Fields<'a>,
        max_runners: Option<u32>,
    ) -> Option<(Option<&'a Node>, Option<u32>, Option<PickupTarget>)> {
        let Some(p95_node) = f.get("target_p95") else {
            for key in ["min", "max"] {
                if let Some(node) = f.get(key) {
                    self.report(
                        node.span(),
                        format!("`{key}` goes with `target_p95`; a fixed window says only `idle`"),
                    );
                    return None;
                }
            }
            let idle_node = self.required(f, "idle");
            let idle = idle_node.and_then(|n| self.number(n, "idle", 0..=10_000));
            return Some((idle_node, idle, None));
        };
        if let Some(node) = f.get("idle") {
            self.report(
                node.span(),
                "a window says either `idle` or `target_p95` (with `min` and `max`), not both",
            );
            return None;
        }
        let p95 = self.duration(p95_node, "target_p95")?;
        let min_node = f.get("min");
        let min = match min_node {
            Some(node) => self.number(node, "min", 0..=10_000)?,
            None => 0,
        };
        let max_node = f.get("max");
        let max = match max_node {
            Some(node) => self.number(node, "max", 0..=10_000)?,
            None => max_runners.unwrap_or(10_000),
        };
        if min > max {
            let node = max_node.unwrap_or(p95_node);
            self.report(node.span(), format!("max {max} is below min {min}"));
            return None;
        }
        if let (Some(node), Some(limit)) = (max_node, max_runners) {
            if max > limit {
                self.report(
                    node.span(),
                    format!("max {max} is above the class's max_runners {limit}"),
                );
                return None;
            }
        }
        Some((min_node, Some(min), Some(PickupTarget { p95, max })))
    }

    fn days(&mut self, node: &Node) -> Option<Vec<Weekday>> {
        use Weekday::*;
        if let Some(s) = node.as_scalar() {
            return match s.as_str() {
                "weekdays" => Some(vec![Mon, Tue, Wed, Thu, Fri]),
                "weekends" => Some(vec![Sat, Sun]),
                "daily" => Some(vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun]),
                other => {
                    self.report(node.span(), format!("days `{other}` must be a list of days (mon..sun) or one of weekdays, weekends, daily"));
                    None
                }
            };
        }
        let items = self.string_list(node, "a day")?;
        if items.is_empty() {
            self.report(node.span(), "days must not be empty");
            return None;
        }
        let days: Vec<Option<Weekday>> = items
            .iter()
            .map(|(text, span)| {
                let day = text.parse::<Weekday>().ok();
                if day.is_none() {
                    self.report(
                        span,
                        format!("`{text}` is not a day; use mon, tue, wed, thu, fri, sat or sun"),
                    );
                }
                day
            })
            .collect();
        days.into_iter().collect()
    }

    fn time_of_day(&mut self, node: &Node, what: &str) -> Option<NaiveTime> {
        let s = self.scalar(node, what)?;
        let parsed = NaiveTime::parse_from_str(s.as_str(), "%H:%M");
        if parsed.is_err() {
            self.report(
                node.span(),
                format!("{what} `{}` is not a time of day like 09:00", s.as_str()),
            );
        }
        parsed.ok()
    }

    fn timezone(&mut self, node: &Node) -> Option<Tz> {
        let s = self.scalar(node, "timezone")?;
        let parsed = s.as_str().parse::<Tz>();
        if parsed.is_err() {
            self.report(
                node.span(),
                format!(
                    "`{}` is not an IANA time zone such as Asia/Tokyo",
                    s.as_str()
                ),
            );
        }
        parsed.ok()
    }
}

/// Fargate's fixed cpu/memory combinations (ECS Developer Guide, "Task size").
fn fargate_accepts(cpu: u32, memory: u32) -> bool {
    let gib = |g: u32| g * 1024;
    match cpu {
        256 => [512, gib(1), gib(2)].contains(&memory),
        512 => (1..=4).any(|g| gib(g) == memory),
        1024 => (2..=8).any(|g| gib(g) == memory),
        2048 => (4..=16).any(|g| gib(g) == memory),
        4096 => (8..=30).any(|g| gib(g) == memory),
        8192 => (16..=60).step_by(4).any(|g| gib(g) == memory),
        16384 => (32..=120).step_by(8).any(|g| gib(g) == memory),
        _ => false,
    }
}

/// The known key closest to a misspelt one, when it is close enough to be a plausible typo:
/// within a third of its length in edits (at least one), or sharing a long prefix.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(key, k),
                strsim::jaro_winkler(key, k),
                *k,
            )
        })
        .filter(|(edits, similarity, k)| *edits <= (k.len() / 3).max(1) || *similarity >= 0.85)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, k)| k)
}
