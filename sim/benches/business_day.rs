//! The bundled 10,000-job business day, end to end: workload generation excluded, one world per
//! policy, report included. `cargo bench -p rc-sim --bench business_day`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rc_sim::{compare, run, PolicyKind, Scenario, WorldParams};

fn business_day(c: &mut Criterion) {
    let config = rc_config::parse(include_str!("../../config/examples/dena.yaml"))
        .expect("bundled example is valid");
    let workload = Scenario::BusinessDay.workload(&config, 1);
    let params = WorldParams::default();
    let mut group = c.benchmark_group("business_day");
    group.sample_size(10);
    group.bench_function("ours", |b| {
        b.iter(|| {
            black_box(run(
                &config,
                &workload,
                PolicyKind::Ours,
                &params,
                1,
                &mut |_| {},
            ))
        })
    });
    group.bench_function("all_policies", |b| {
        b.iter(|| {
            black_box(compare(
                &config,
                &workload,
                &PolicyKind::ALL,
                &params,
                1,
                &mut |_, _| {},
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, business_day);
criterion_main!(benches);
