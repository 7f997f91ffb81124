//! Where job labels become a runner class (and so a task size).
//!
//! The rule: a job routes to the first class, in file order, whose labels contain every label of
//! the job, compared case-insensitively. A job whose labels do not include `self-hosted` never
//! routes: GitHub would send it to its hosted runners, and starting one of ours would only leave
//! an idle runner behind. Nor does a label set no runner could carry: more than
//! [`MAX_JOB_LABELS`] labels or one longer than [`MAX_LABEL_CHARS`]; reasons echo labels only
//! through [`crate::bounded`], so they stay short whatever a payload holds.

use serde::Serialize;

use crate::bounded::{abbreviate, abbreviate_list, ECHO_CHARS};
use crate::{Config, RunnerClass};

pub use rc_config::SELF_HOSTED_LABEL as SELF_HOSTED;

/// Most labels a runner registers with: GitHub's "Create configuration for a just-in-time
/// runner" API takes at most 100 (REST API docs, `labels`: "Maximum items: 100"), so a job with
/// more can never be served by a runner we start.
pub const MAX_JOB_LABELS: usize = 100;

/// Longest label accepted. GitHub documents no limit; runner labels in practice are short words
/// (`linux`, `arm64`), and 256 characters leaves room for any real one.
pub const MAX_LABEL_CHARS: usize = 256;

/// The outcome of routing one label set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Route<'c> {
    /// The job goes to this class.
    Matched {
        /// The chosen class (its name in JSON).
        #[serde(serialize_with = "class_name")]
        class: &'c RunnerClass,
        /// Index of the class in file order.
        index: usize,
    },
    /// No class takes the job.
    Unmatched {
        /// Why, in words an operator can act on.
        reason: String,
        /// For each class in file order, the job labels it lacks.
        missing: Vec<ClassMiss>,
    },
}

/// Why one class did not take a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassMiss {
    /// Class name.
    pub class: String,
    /// Job labels this class does not register with.
    pub missing_labels: Vec<String>,
}

impl<'c> Route<'c> {
    /// The matched class, if any.
    pub fn class(&self) -> Option<&'c RunnerClass> {
        match self {
            Route::Matched { class, .. } => Some(class),
            Route::Unmatched { .. } => None,
        }
    }
}

fn class_name<S: serde::Serializer>(class: &&RunnerClass, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(&class.name)
}

/// The labels of `job_labels` that `class` does not carry.
fn missing_labels<'a>(class: &RunnerClass, job_labels: &'a [String]) -> Vec<&'a String> {
    job_labels
        .iter()
        .filter(|job| !class.labels.iter().any(|own| own.eq_ignore_ascii_case(job)))
        .collect()
}

/// Whether a runner of `class` can take a job with `job_labels`.
pub fn class_accepts(class: &RunnerClass, job_labels: &[String]) -> bool {
    missing_labels(class, job_labels).is_empty()
}

/// Routes a job's labels to a class of `config`.
pub fn route<'c>(config: &'c Config, job_labels: &[String]) -> Route<'c> {
    let unmatched = |reason| Route::Unmatched {
        reason,
        missing: Vec::new(),
    };
    if job_labels.len() > MAX_JOB_LABELS {
        return unmatched(format!(
            "the job has {} labels; a runner carries at most {MAX_JOB_LABELS}",
            job_labels.len()
        ));
    }
    if let Some(long) = job_labels
        .iter()
        .find(|l| l.chars().count() > MAX_LABEL_CHARS)
    {
        return unmatched(format!(
            "label `{}` is longer than {MAX_LABEL_CHARS} characters",
            abbreviate(long, ECHO_CHARS)
        ));
    }
    if !job_labels
        .iter()
        .any(|l| l.eq_ignore_ascii_case(SELF_HOSTED))
    {
        return unmatched(format!(
            "labels {} do not include `{SELF_HOSTED}`",
            abbreviate_list(job_labels)
        ));
    }
    let mut misses = Vec::new();
    for (index, class) in config.classes.iter().enumerate() {
        let missing = missing_labels(class, job_labels);
        if missing.is_empty() {
            return Route::Matched { class, index };
        }
        misses.push(ClassMiss {
            class: class.name.clone(),
            missing_labels: missing.into_iter().cloned().collect(),
        });
    }
    Route::Unmatched {
        reason: format!(
            "no class carries every label of {}",
            abbreviate_list(job_labels)
        ),
        missing: misses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VOCABULARY: &[&str] = &[
        "self-hosted",
        "linux",
        "x64",
        "arm64",
        "small",
        "large",
        "gpu",
    ];

    fn config(classes: &[Vec<&str>]) -> Config {
        let yaml = classes
            .iter()
            .enumerate()
            .map(|(i, labels)| {
                format!(
                    "  - {{name: c{i}, labels: [{}], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}}\n",
                    labels.join(", ")
                )
            })
            .collect::<String>();
        rc_config::parse(&format!(
            "github: {{scope: org, name: a}}\nclasses:\n{yaml}"
        ))
        .expect("valid test config")
    }

    fn labels(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn first_match_in_file_order_wins() {
        let config = config(&[
            vec!["self-hosted", "linux", "x64", "large"],
            vec!["self-hosted", "linux", "arm64", "large"],
        ]);
        assert_eq!(
            route(&config, &labels(&["self-hosted", "large"]))
                .class()
                .map(|c| c.name.as_str()),
            Some("c0")
        );
        assert_eq!(
            route(&config, &labels(&["self-hosted", "ARM64", "Large"]))
                .class()
                .map(|c| c.name.as_str()),
            Some("c1")
        );
        let Route::Unmatched { missing, .. } = route(&config, &labels(&["self-hosted", "gpu"]))
        else {
            panic!("gpu routes nowhere")
        };
        assert_eq!(missing[0].missing_labels, ["gpu"]);
    }

    #[test]
    fn hosted_jobs_never_route() {
        let config = config(&[vec!["self-hosted", "linux"]]);
        assert_eq!(
            route(&config, &labels(&["linux"])).class().map(|c| &c.name),
            None
        );
        assert_eq!(route(&config, &labels(&[])).class().map(|c| &c.name), None);
    }

    #[test]
    fn label_sets_no_runner_could_carry_route_nowhere_with_a_short_reason() {
        let config = config(&[vec!["self-hosted", "linux"]]);
        let many: Vec<String> = std::iter::once(SELF_HOSTED.to_string())
            .chain((0..5_000).map(|i| format!("l{i}")))
            .collect();
        let long = vec![SELF_HOSTED.to_string(), "x".repeat(1 << 20)];
        let at_limit: Vec<String> = std::iter::repeat_n("linux".to_string(), MAX_JOB_LABELS)
            .chain([SELF_HOSTED.to_string()])
            .collect();
        for labels in [many, long] {
            let Route::Unmatched { reason, missing } = route(&config, &labels) else {
                panic!("must not route")
            };
            assert!(reason.len() < 200 && missing.is_empty(), "{reason}");
        }
        assert_eq!(
            route(&config, &at_limit[1..])
                .class()
                .map(|c| c.name.as_str()),
            Some("c0")
        );
        assert_eq!(route(&config, &at_limit).class().map(|c| &c.name), None);
    }

    /// Class label sets drawn so that no class shadows an earlier one (validation rejects that).
    fn arb_classes() -> impl Strategy<Value = Vec<Vec<&'static str>>> {
        proptest::collection::vec(proptest::sample::subsequence(&VOCABULARY[1..], 1..4), 1..5)
            .prop_filter_map(
                "a class may not carry all labels of an earlier one",
                |sets| {
                    let classes: Vec<Vec<&str>> = sets
                        .into_iter()
                        .map(|mut s| {
                            s.insert(0, "self-hosted");
                            s
                        })
                        .collect();
                    let shadowed = classes.iter().enumerate().any(|(i, c)| {
                        classes[..i]
                            .iter()
                            .any(|earlier| c.iter().all(|l| earlier.contains(l)))
                    });
                    (!shadowed).then_some(classes)
                },
            )
    }

    proptest! {
        /// The chosen class accepts every job label, and no earlier class does.
        #[test]
        fn routes_to_the_first_class_that_accepts(classes in arb_classes(), job in proptest::sample::subsequence(VOCABULARY, 0..5)) {
            let config = config(&classes);
            let job = labels(&job);
            match route(&config, &job) {
                Route::Matched { index, .. } => {
                    prop_assert!(job.iter().any(|l| l == SELF_HOSTED));
                    prop_assert!(class_accepts(&config.classes[index], &job));
                    prop_assert!(config.classes[..index].iter().all(|c| !class_accepts(c, &job)));
                }
                Route::Unmatched { .. } => {
                    let self_hosted = job.iter().any(|l| l == SELF_HOSTED);
                    prop_assert!(!self_hosted || config.classes.iter().all(|c| !class_accepts(c, &job)));
                }
            }
        }

        /// Label case never changes the route.
        #[test]
        fn case_insensitive(classes in arb_classes(), job in proptest::sample::subsequence(VOCABULARY, 0..5), upper in any::<u8>()) {
            let config = config(&classes);
            let job = labels(&job);
            let shouted: Vec<String> = job.iter().enumerate()
                .map(|(i, l)| if upper >> (i % 8) & 1 == 1 { l.to_uppercase() } else { l.clone() })
                .collect();
            let (plain, loud) = (route(&config, &job), route(&config, &shouted));
            prop_assert_eq!(plain.class(), loud.class());
        }
    }
}
