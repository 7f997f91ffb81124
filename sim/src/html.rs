//! The `--report` page: one self-contained HTML file with inline CSS and SVG charts, no
//! scripts and no network, so it opens anywhere, including from a CI artifact.
//!
//! Charts: pickup latency over the day (p95 solid, p50 dotted, log scale), runners idle,
//! booting and busy per policy (stacked, small multiples on one scale), instances alive, and
//! jobs waiting. The text summary's table comes first, then cost against business-hours p95
//! (a point per policy, our policy's warm-pool settings as a curve) and where the cost goes.
//! [`render_seeds`] shows the means of several seeds, that chart and that breakdown. The contest scenario's page
//! ([`render_contest`]) has its pools' table, queue waits over the day, workers and instances.

use std::fmt::Write as _;

use crate::contest::ContestComparison;
use crate::report::{Comparison, CostBreakdown, RunReport, Sample, SlowPickups, SLOW_PICKUP_S};
use crate::seeds::Seeds;
use crate::tradeoff::{Curve, Setting};

const WIDTH: f64 = 920.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

/// A colour per policy, in run order; the oracle (a bound, not a contender) is grey.
fn colour(policy: &str, index: usize) -> &'static str {
    if policy == "oracle" {
        return "#6b7280";
    }
    ["#2563eb", "#d97706", "#dc2626", "#059669", "#7c3aed"][index % 5]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A plot area mapping minutes and values to SVG coordinates.
struct Plot {
    minutes: f64,
    y_max: f64,
    log: bool,
    height: f64,
}

impl Plot {
    fn x(&self, minute: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (minute / self.minutes.max(1.0))
    }

    fn y(&self, value: f64) -> f64 {
        let inner = self.height - TOP - BOTTOM;
        let frac = if self.log {
            let v = value.max(1.0).ln();
            v / self.y_max.max(2.0).ln()
        } else {
            value / self.y_max.max(1.0)
        };
        self.height - BOTTOM - inner * frac.clamp(0.0, 1.0)
    }

    fn open(&self, svg: &mut String, title: &str) {
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" role="img" aria-label="{t}">"#,
            h = self.height,
            t = escape(title)
        );
    }

    /// Axes with an hour grid and the given value ticks.
    fn axes(&self, svg: &mut String, ticks: &[(f64, String)]) {
        let step = if self.minutes > 12.0 * 60.0 {
            120.0
        } else if self.minutes > 180.0 {
            60.0
        } else {
            15.0
        };
        let mut hours = Vec::new();
        let mut m = 0.0;
        while m <= self.minutes + 0.5 {
            let label = if step >= 60.0 {
                format!("{}h", (m / 60.0).round())
            } else {
                format!("{}m", m.round())
            };
            hours.push((m, label));
            m += step;
        }
        self.grid(svg, &hours, ticks);
    }

    /// Axes with the given ticks along x (in the plot's x unit) and y.
    fn grid(&self, svg: &mut String, x_ticks: &[(f64, String)], ticks: &[(f64, String)]) {
        let bottom = self.height - BOTTOM;
        for (m, label) in x_ticks {
            let x = self.x(*m);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom}" stroke="#e5e7eb"/><text x="{x:.1}" y="{ty:.1}" class="tick" text-anchor="middle">{label}</text>"##,
                ty = bottom + 16.0
            );
        }
        for (value, label) in ticks {
            let y = self.y(*value);
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{tx}" y="{ty:.1}" class="tick" text-anchor="end">{label}</text>"##,
                x2 = WIDTH - RIGHT,
                tx = LEFT - 6.0,
                ty = y + 4.0
            );
        }
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{bottom}" x2="{x2}" y2="{bottom}" stroke="#9ca3af"/>"##,
            x2 = WIDTH - RIGHT
        );
    }

    fn line(&self, svg: &mut String, points: &[(f64, f64)], colour: &str, dash: &str) {
        if points.is_empty() {
            return;
        }
        let path: Vec<String> = points
            .iter()
            .map(|&(m, v)| format!("{:.1},{:.1}", self.x(m), self.y(v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.8" stroke-dasharray="{dash}" points="{}"/>"#,
            path.join(" ")
        );
    }

    /// A band between `lower` and `upper`, sampled at the same minutes.
    fn band(&self, svg: &mut String, lower: &[(f64, f64)], upper: &[(f64, f64)], colour: &str) {
        if upper.is_empty() {
            return;
        }
        let mut path: Vec<String> = upper
            .iter()
            .map(|&(m, v)| format!("{:.1},{:.1}", self.x(m), self.y(v)))
            .collect();
        path.extend(
            lower
                .iter()
                .rev()
                .map(|&(m, v)| format!("{:.1},{:.1}", self.x(m), self.y(v))),
        );
        let _ = write!(
            svg,
            r#"<polygon fill="{colour}" stroke="none" points="{}"/>"#,
            path.join(" ")
        );
    }
}

/// Nice round ticks up to `max`.
fn linear_ticks(max: f64) -> Vec<(f64, String)> {
    let raw = (max / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    let mut ticks = Vec::new();
    let mut v = 0.0;
    while v <= max + 1e-9 {
        ticks.push((v, format!("{v}")));
        v += step;
    }
    ticks
}

/// Ticks of a log-scale latency axis, up to `max` seconds.
fn latency_ticks(max: f64) -> Vec<(f64, String)> {
    [
        (1.0, "1s"),
        (10.0, "10s"),
        (60.0, "1m"),
        (600.0, "10m"),
        (3600.0, "1h"),
        (36_000.0, "10h"),
    ]
    .into_iter()
    .filter(|(v, _)| *v <= max)
    .map(|(v, l)| (v, l.to_string()))
    .collect()
}

/// One policy's point on the cost-vs-p95 chart.
pub(crate) struct Point {
    label: String,
    colour: &'static str,
    cost_usd: f64,
    p95_s: f64,
}

/// Cost against business-hours pickup p95: a point per policy, and our policy's settings as a
/// curve in its colour. Returns the number of points drawn.
fn cost_chart(out: &mut String, points: &[Point], settings: &[Setting]) -> usize {
    let ours = points
        .iter()
        .find(|p| p.label == "ours")
        .map_or(colour("ours", 0), |p| p.colour);
    let max_cost = points
        .iter()
        .map(|p| p.cost_usd)
        .chain(settings.iter().map(|s| s.cost_usd))
        .fold(1.0f64, f64::max);
    let max_p95 = points
        .iter()
        .map(|p| p.p95_s)
        .chain(settings.iter().map(|s| s.business_hours_p95_s))
        .fold(60.0f64, f64::max);
    let plot = Plot {
        minutes: max_cost * 1.15,
        y_max: max_p95 * 1.5,
        log: true,
        height: HEIGHT + 60.0,
    };
    let title = "Cost against business-hours pickup p95";
    let mut svg = String::new();
    plot.open(&mut svg, title);
    let dollars: Vec<(f64, String)> = linear_ticks(max_cost * 1.15)
        .into_iter()
        .map(|(v, _)| (v, format!("${v}")))
        .collect();
    plot.grid(&mut svg, &dollars, &latency_ticks(max_p95 * 1.5));
    for (curve, dashes) in [(Curve::IdleCounts, "4 3"), (Curve::PickupTarget, "1 3")] {
        let line: Vec<(f64, f64)> = settings
            .iter()
            .filter(|s| s.curve == curve)
            .map(|s| (s.cost_usd, s.business_hours_p95_s))
            .collect();
        plot.line(&mut svg, &line, ours, dashes);
    }
    let mut drawn = 0;
    // Settings are labelled below their dot and policies above, so that `×1` and `ours`, the
    // same run, both stay readable.
    let mut dot = |svg: &mut String, x: f64, y: f64, r: f64, colour: &str, label: &str| {
        let (cx, cy) = (plot.x(x), plot.y(y));
        let dy = if r < 4.0 { 15.0 } else { -7.0 };
        let _ = write!(
            svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r}" fill="{colour}"/><text x="{tx:.1}" y="{ty:.1}" class="tick">{label}</text>"#,
            tx = cx + 6.0,
            ty = cy + dy,
            label = escape(label)
        );
        drawn += 1;
    };
    for s in settings {
        dot(
            &mut svg,
            s.cost_usd,
            s.business_hours_p95_s,
            3.0,
            ours,
            &s.label,
        );
    }
    for p in points {
        dot(&mut svg, p.cost_usd, p.p95_s, 5.5, p.colour, &p.label);
    }
    svg.push_str("</svg>");
    let _ = write!(
        out,
        "<h2>{title}</h2><p>What a faster pickup costs. Each policy is a point: x its cost (USD, on-demand list prices), y the p95 pickup latency of the jobs that arrived inside the classes' warm windows (log scale). Our policy's settings are the small dots: on the dashed curve the config's warm <code>idle</code> counts scaled by the factor on each dot, on the dotted curve every warm window sized from the pickup target on each dot (<code>target_p95</code>, at least one idle runner where the window kept any, at most 10); business hours stay those of the loaded config. Down and to the left is better.</p>"
    );
    out.push_str(&svg);
    drawn
}

/// Where the instance-hours and the cost go, a column per policy.
fn breakdown_table(out: &mut String, names: &[String], breakdowns: &[&CostBreakdown]) {
    out.push_str("<h2>Where the cost goes</h2><p>Instance-hours and cost by what the capacity was doing. A task holds its share of its instance's CPU (a dedicated instance: all of it) while it boots, waits idle or runs a job; empty is what no task holds: instances without tasks, room left on partly used ones, instances launching for tasks that still wait, and EC2's one-minute billing minimum. The parts add up to the totals.</p>");
    let rows: Vec<(String, bool, Vec<String>)> = CostBreakdown::default()
        .parts()
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let cells = breakdowns
                .iter()
                .map(|b| {
                    let part = b.parts()[i].1;
                    format!("{:.1} h · ${:.2}", part.instance_hours, part.usd)
                })
                .collect();
            ((*name).to_owned(), false, cells)
        })
        .collect();
    table(out, names, &rows);
}

/// Where the slow business-hours pickups waited, a column per policy.
fn slow_pickup_table(out: &mut String, reports: &[&RunReport]) {
    let _ = write!(
        out,
        "<h2>Why pickups were slow</h2><p>The jobs that arrived inside their class's warm windows and waited longer than {SLOW_PICKUP_S} s, with their waits cut along the life of the runner that took each: until that runner's task was launched (none was free and none launched at once: the class at <code>max_runners</code>, or its warm runners all taken), waiting for an instance, the runner starting, and GitHub assigning the job. Job-minutes, summed over those jobs.</p>"
    );
    let names: Vec<String> = reports.iter().map(|r| r.policy.clone()).collect();
    let mut rows = vec![(
        "slow jobs".to_owned(),
        false,
        reports
            .iter()
            .map(|r| r.slow_pickups.jobs.to_string())
            .collect(),
    )];
    for (i, (name, _)) in SlowPickups::default().parts().iter().enumerate() {
        let cells = reports
            .iter()
            .map(|r| format!("{:.0}", r.slow_pickups.parts()[i].1 / 60.0))
            .collect();
        rows.push(((*name).to_owned(), false, cells));
    }
    table(out, &names, &rows);
}

fn legend(out: &mut String, reports: &[&RunReport], extra: &str) {
    out.push_str(r#"<p class="legend">"#);
    for (i, r) in reports.iter().enumerate() {
        let _ = write!(
            out,
            r#"<span><i style="background:{}"></i>{}</span>"#,
            colour(&r.policy, i),
            escape(&r.policy)
        );
    }
    out.push_str(extra);
    out.push_str("</p>");
}

/// `caption` says what the latency is and how the lines read.
fn latency_chart(
    out: &mut String,
    reports: &[&RunReport],
    minutes: f64,
    title: &str,
    caption: &str,
) {
    let max = reports
        .iter()
        .flat_map(|r| r.series.pickup_over_time.iter().map(|b| b.p95))
        .fold(60.0f64, f64::max);
    let plot = Plot {
        minutes,
        y_max: max * 1.2,
        log: true,
        height: HEIGHT,
    };
    let mut svg = String::new();
    plot.open(&mut svg, title);
    plot.axes(&mut svg, &latency_ticks(max * 1.2));
    for (i, r) in reports.iter().enumerate() {
        let c = colour(&r.policy, i);
        let mid = |b: &crate::report::PickupBucket| f64::from(b.minute) + 7.5;
        let p95: Vec<(f64, f64)> = r
            .series
            .pickup_over_time
            .iter()
            .map(|b| (mid(b), b.p95))
            .collect();
        let p50: Vec<(f64, f64)> = r
            .series
            .pickup_over_time
            .iter()
            .map(|b| (mid(b), b.p50))
            .collect();
        plot.line(&mut svg, &p95, c, "");
        plot.line(&mut svg, &p50, c, "2 3");
    }
    svg.push_str("</svg>");
    let _ = write!(out, "<h2>{}</h2><p>{}</p>", escape(title), escape(caption));
    legend(out, reports, "");
    out.push_str(&svg);
}

fn runner_charts(out: &mut String, reports: &[&RunReport], minutes: f64) {
    let max = reports
        .iter()
        .flat_map(|r| {
            r.series
                .samples
                .iter()
                .map(|s| f64::from(s.idle + s.booting + s.busy))
        })
        .fold(1.0f64, f64::max);
    out.push_str("<h2>Runners</h2><p>Each minute: busy (running a job), booting (waiting for capacity or starting), idle (registered, waiting for a job).</p>");
    out.push_str(r##"<p class="legend"><span><i style="background:#1d4ed8"></i>busy</span><span><i style="background:#93c5fd"></i>booting</span><span><i style="background:#fbbf24"></i>idle</span></p>"##);
    for r in reports {
        let plot = Plot {
            minutes,
            y_max: max * 1.05,
            log: false,
            height: 170.0,
        };
        let mut svg = String::new();
        plot.open(&mut svg, &format!("Runners of {}", r.policy));
        plot.axes(&mut svg, &linear_ticks(max));
        let at = |f: &dyn Fn(&Sample) -> u32| -> Vec<(f64, f64)> {
            r.series
                .samples
                .iter()
                .map(|s| (f64::from(s.minute), f64::from(f(s))))
                .collect()
        };
        let zero = at(&|_| 0);
        let busy = at(&|s| s.busy);
        let booting = at(&|s| s.busy + s.booting);
        let idle = at(&|s| s.busy + s.booting + s.idle);
        plot.band(&mut svg, &zero, &busy, "#1d4ed8");
        plot.band(&mut svg, &busy, &booting, "#93c5fd");
        plot.band(&mut svg, &booting, &idle, "#fbbf24");
        svg.push_str("</svg>");
        let _ = write!(out, "<h3>{}</h3>{svg}", escape(&r.policy));
    }
}

fn count_chart(
    out: &mut String,
    reports: &[&RunReport],
    minutes: f64,
    title: &str,
    caption: &str,
    value: fn(&Sample) -> u32,
) {
    let max = reports
        .iter()
        .flat_map(|r| r.series.samples.iter().map(|s| f64::from(value(s))))
        .fold(1.0f64, f64::max);
    let plot = Plot {
        minutes,
        y_max: max * 1.05,
        log: false,
        height: HEIGHT,
    };
    let mut svg = String::new();
    plot.open(&mut svg, title);
    plot.axes(&mut svg, &linear_ticks(max));
    for (i, r) in reports.iter().enumerate() {
        let points: Vec<(f64, f64)> = r
            .series
            .samples
            .iter()
            .map(|s| (f64::from(s.minute), f64::from(value(s))))
            .collect();
        plot.line(&mut svg, &points, colour(&r.policy, i), "");
    }
    svg.push_str("</svg>");
    let _ = write!(out, "<h2>{}</h2><p>{}</p>", escape(title), escape(caption));
    legend(out, reports, "");
    out.push_str(&svg);
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 24px auto; max-width: 960px; padding: 0 12px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 14px; margin: 10px 0 0; }
p { margin: 6px 0; color: #374151; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #9ca3af; }
tr.rule td { color: #b91c1c; } tr.rule td.ok { color: #047857; }
svg { width: 100%; height: auto; display: block; }
.tick { font-size: 11px; fill: #6b7280; }
.legend span { margin-right: 14px; white-space: nowrap; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 3px; }
"#;

fn summary_table(out: &mut String, reports: &[&RunReport]) {
    let secs = |s: f64| {
        if s >= 600.0 {
            format!("{:.0} min", s / 60.0)
        } else {
            format!("{s:.1} s")
        }
    };
    type Cell<'a> = Box<dyn Fn(&RunReport) -> String + 'a>;
    let rows: Vec<(&str, bool, Cell)> = vec![
        (
            "pickup latency p50",
            false,
            Box::new(|r| secs(r.pickup_latency_s.p50)),
        ),
        (
            "pickup latency p95",
            false,
            Box::new(|r| secs(r.pickup_latency_s.p95)),
        ),
        (
            "pickup latency p99",
            false,
            Box::new(|r| secs(r.pickup_latency_s.p99)),
        ),
        (
            "pickup latency max",
            false,
            Box::new(|r| secs(r.pickup_latency_s.max)),
        ),
        (
            "idle runner-minutes",
            false,
            Box::new(|r| format!("{:.0}", r.idle_runner_minutes)),
        ),
        (
            "instance-hours",
            false,
            Box::new(|r| format!("{:.1}", r.instance_hours)),
        ),
        (
            "idle instance-hours",
            false,
            Box::new(|r| format!("{:.1}", r.idle_instance_hours)),
        ),
        (
            "estimated cost (USD)",
            false,
            Box::new(|r| format!("{:.2}", r.cost_usd)),
        ),
        (
            "scale-out reaction p95",
            false,
            Box::new(|r| secs(r.scale_out_reaction_s.p95)),
        ),
        (
            "stranded jobs",
            true,
            Box::new(|r| r.rules.stranded_jobs.to_string()),
        ),
        (
            "max violations",
            true,
            Box::new(|r| r.rules.max_violations.to_string()),
        ),
        (
            "double launches",
            true,
            Box::new(|r| r.rules.double_launches.to_string()),
        ),
        (
            "busy runners stopped",
            true,
            Box::new(|r| r.rules.busy_runner_stops.to_string()),
        ),
        (
            "API calls",
            false,
            Box::new(|r| {
                r.api_calls
                    .0
                    .iter()
                    .map(|(_, n)| n)
                    .sum::<u64>()
                    .to_string()
            }),
        ),
    ];
    let headers: Vec<String> = reports.iter().map(|r| r.policy.clone()).collect();
    let rows: Vec<(String, bool, Vec<String>)> = rows
        .into_iter()
        .map(|(name, rule, cell)| {
            (
                name.to_owned(),
                rule,
                reports.iter().map(|r| cell(r)).collect(),
            )
        })
        .collect();
    table(out, &headers, &rows);
}

/// A table of named rows, one column per header; a rule row is red unless its cell is `0`.
fn table(out: &mut String, headers: &[String], rows: &[(String, bool, Vec<String>)]) {
    out.push_str("<table><thead><tr><th></th>");
    for header in headers {
        let _ = write!(out, "<th>{}</th>", escape(header));
    }
    out.push_str("</tr></thead><tbody>");
    for (name, rule, cells) in rows {
        let _ = write!(
            out,
            r#"<tr{}><td>{}</td>"#,
            if *rule { r#" class="rule""# } else { "" },
            escape(name)
        );
        for text in cells {
            let ok = if *rule && text == "0" {
                r#" class="ok""#
            } else {
                ""
            };
            let _ = write!(out, "<td{ok}>{}</td>", escape(text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// Minutes the charts span: the longest run's last sample, at least an hour.
fn chart_minutes(reports: &[&RunReport]) -> f64 {
    reports
        .iter()
        .flat_map(|r| r.series.samples.last().map(|s| f64::from(s.minute)))
        .fold(60.0f64, f64::max)
}

/// A page's opening, up to its body.
fn page(scenario: &str) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>runner-controller simulation: {scenario}</title><style>{STYLE}</style></head><body>"#,
        scenario = escape(scenario)
    );
    out
}

/// The page for the contest scenario: the pools' summary, waits over the day, workers and
/// instances.
pub fn render_contest(contest: &ContestComparison) -> String {
    let reports: Vec<&RunReport> = contest.pools.0.iter().map(|(_, r)| &r.world).collect();
    let minutes = chart_minutes(&reports);
    let mut out = page(&contest.scenario);
    let _ = write!(
        out,
        "<h1>Simulation: {}</h1><p>{} teams asking for benchmarks, seed {}, from <code>{}</code> (hour 0 on the charts) for {:.0} hours. Same teams for every pool. Goal: p95 wait at most {:.0} s (one benchmark plus a task start).</p>",
        escape(&contest.scenario),
        contest.teams,
        contest.seed,
        escape(&contest.start),
        contest.hours,
        contest.goal_p95_s
    );
    let headers: Vec<String> = contest
        .pools
        .0
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    let rows: Vec<(String, bool, Vec<String>)> = crate::contest::report::rows()
        .into_iter()
        .map(|(name, cell)| {
            let cells = contest.pools.0.iter().map(|(_, r)| cell(r)).collect();
            (name.to_owned(), false, cells)
        })
        .collect();
    table(&mut out, &headers, &rows);
    latency_chart(
        &mut out,
        &reports,
        minutes,
        "Queue wait by request time",
        "Requests grouped by the 15 minutes in which they were accepted, wait until a worker started them; solid line p95, dotted line median (log scale).",
    );
    count_chart(
        &mut out,
        &reports,
        minutes,
        "Workers",
        "Benchmark workers live each minute: booting, waiting for a job or running one.",
        |s| s.idle + s.booting + s.busy,
    );
    count_chart(
        &mut out,
        &reports,
        minutes,
        "Instances",
        "EC2 instances launching or registered, each minute.",
        |s| s.instances,
    );
    out.push_str("<p>Costs are on-demand list prices; see the simulator documentation for every assumption.</p></body></html>\n");
    out
}

/// The whole page for `comparison`, without our policy's settings on the cost chart.
pub fn render(comparison: &Comparison) -> String {
    render_with(comparison, &[])
}

/// The whole page for `comparison`, with our policy's `settings` (from
/// [`crate::tradeoff::settings`]) as a curve on the cost chart.
pub fn render_with(comparison: &Comparison, settings: &[Setting]) -> String {
    let reports: Vec<&RunReport> = comparison.policies.0.iter().map(|(_, r)| r).collect();
    let minutes = chart_minutes(&reports);
    let mut out = page(&comparison.scenario);
    let _ = write!(
        out,
        "<h1>Simulation: {}</h1><p>{} jobs, seed {}, from <code>{}</code> (hour 0 on the charts) for {:.1} hours. Same workload for every policy.</p>",
        escape(&comparison.scenario),
        comparison.jobs,
        comparison.seed,
        escape(&comparison.start),
        comparison.hours
    );
    summary_table(&mut out, &reports);
    let points: Vec<Point> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| Point {
            label: r.policy.clone(),
            colour: colour(&r.policy, i),
            cost_usd: r.cost_usd,
            p95_s: r.business_hours_pickup_latency_s.p95,
        })
        .collect();
    cost_chart(&mut out, &points, settings);
    let names: Vec<String> = reports.iter().map(|r| r.policy.clone()).collect();
    let breakdowns: Vec<&CostBreakdown> = reports.iter().map(|r| &r.cost_breakdown).collect();
    breakdown_table(&mut out, &names, &breakdowns);
    slow_pickup_table(&mut out, &reports);
    latency_chart(
        &mut out,
        &reports,
        minutes,
        "Pickup latency by arrival time",
        "Jobs grouped by the 15 minutes in which they were queued; solid line p95, dotted line median (log scale).",
    );
    runner_charts(&mut out, &reports, minutes);
    count_chart(
        &mut out,
        &reports,
        minutes,
        "Instances",
        "EC2 instances launching or registered, each minute (the philips baseline runs one per runner).",
        |s| s.instances,
    );
    count_chart(
        &mut out,
        &reports,
        minutes,
        "Jobs waiting",
        "Jobs queued on GitHub without a runner, each minute.",
        |s| s.queued,
    );
    out.push_str("<h2>API calls</h2><table><thead><tr><th>call</th>");
    for r in &reports {
        let _ = write!(out, "<th>{}</th>", escape(&r.policy));
    }
    out.push_str("</tr></thead><tbody>");
    let mut kinds: Vec<&str> = Vec::new();
    for r in &reports {
        for (k, _) in &r.api_calls.0 {
            if !kinds.contains(&k.as_str()) {
                kinds.push(k);
            }
        }
    }
    for kind in kinds {
        let _ = write!(out, "<tr><td>{kind}</td>");
        for r in &reports {
            let _ = write!(
                out,
                "<td>{}</td>",
                r.api_calls.get(kind).copied().unwrap_or(0)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table><p>Every attempt counts, retries included. Costs are on-demand list prices; see the simulator documentation for every assumption.</p></body></html>\n");
    out
}

/// The page for several seeds: means with their range, the cost chart and the cost breakdown
/// on the means.
pub fn render_seeds(seeds: &Seeds) -> String {
    let mut out = page(&seeds.scenario);
    let list: Vec<String> = seeds.seeds.iter().map(u64::to_string).collect();
    let _ = write!(
        out,
        "<h1>Simulation: {}, seeds {}</h1><p>About {:.0} jobs a seed. Each cell is the mean over the seeds, with the smallest and largest in brackets; rule violations are summed.</p>",
        escape(&seeds.scenario),
        escape(&list.join(", ")),
        seeds.jobs
    );
    let names: Vec<String> = seeds.policies.0.iter().map(|(n, _)| n.clone()).collect();
    let rows: Vec<(String, bool, Vec<String>)> = seeds
        .rows()
        .into_iter()
        .map(|(name, cells)| {
            let rule = name.ends_with("(sum)");
            (name, rule, cells)
        })
        .collect();
    table(&mut out, &names, &rows);
    let points: Vec<Point> = seeds
        .policies
        .0
        .iter()
        .enumerate()
        .map(|(i, (name, s))| Point {
            label: name.clone(),
            colour: colour(name, i),
            cost_usd: s.cost_usd.mean,
            p95_s: s.business_hours_p95_s.mean,
        })
        .collect();
    cost_chart(&mut out, &points, &seeds.settings);
    let breakdowns: Vec<&CostBreakdown> = seeds
        .policies
        .0
        .iter()
        .map(|(_, s)| &s.cost_breakdown)
        .collect();
    breakdown_table(&mut out, &names, &breakdowns);
    out.push_str("<p>Costs are on-demand list prices; see the simulator documentation for every assumption.</p></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_chart_draws_every_point_and_setting() {
        let point = |label: &str, cost_usd, p95_s| Point {
            label: label.to_owned(),
            colour: colour(label, 0),
            cost_usd,
            p95_s,
        };
        let points = [
            point("ours", 420.0, 65.0),
            point("dena-baseline", 379.0, 118.0),
            point("oracle", 233.0, 3.0),
        ];
        let scaled = crate::tradeoff::WARM_SCALES.iter().map(|&f| Setting {
            curve: Curve::IdleCounts,
            label: crate::tradeoff::label(f),
            cost_usd: 300.0 + 50.0 * f,
            business_hours_p95_s: 200.0 / (1.0 + f),
            pickup_p95_s: 0.0,
        });
        let targeted = crate::tradeoff::PICKUP_TARGETS.iter().map(|&s| Setting {
            curve: Curve::PickupTarget,
            label: format!("{s}s"),
            cost_usd: 600.0 - 5.0 * s as f64,
            business_hours_p95_s: 2.0 * s as f64,
            pickup_p95_s: 0.0,
        });
        let settings: Vec<Setting> = scaled.chain(targeted).collect();
        let mut out = String::new();
        let drawn = cost_chart(&mut out, &points, &settings);
        assert_eq!(drawn, points.len() + settings.len());
        assert_eq!(out.matches("<circle").count(), drawn);
        // One curve per way of sizing the pools.
        assert_eq!(out.matches("stroke-dasharray=\"4 3\"").count(), 1);
        assert_eq!(out.matches("stroke-dasharray=\"1 3\"").count(), 1);
        assert!(out.contains(">dena-baseline<") && out.contains(">×4<") && out.contains(">20s<"));
        assert!(out.contains(">$200<") && !out.contains("NaN"));
    }

    #[test]
    fn ticks_are_round() {
        let t: Vec<f64> = linear_ticks(37.0).into_iter().map(|(v, _)| v).collect();
        assert_eq!(t, [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(escape("<a&b>"), "&lt;a&amp;b&gt;");
    }
}
