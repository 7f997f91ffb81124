//! Planning cost of the cluster autoscaler: 500 PROVISIONING tasks across 8 Auto Scaling Groups.
//!
//! The shape of a large burst: every group has a few partly used instances and a couple already
//! launching, tasks come in the usual runner sizes, and most need new instances. Run with
//! `cargo bench -p rc-core --bench packing`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rc_core::packing::{plan_capacity, GroupObservation, WaitingTask};
use rc_core::{CpuUnits, MemMib, TaskSize};

const GROUPS: usize = 8;
const TASKS: usize = 500;

fn size(cpu: u32, memory: u32) -> TaskSize {
    TaskSize {
        cpu: CpuUnits(cpu),
        memory: MemMib(memory),
    }
}

fn groups() -> Vec<GroupObservation> {
    // 4, 8 and 16 vCPU instance types, memory after the ECS agent's reservation.
    let types = [size(4096, 15_580), size(8192, 31_390), size(16_384, 63_200)];
    (0..GROUPS)
        .map(|g| {
            let capacity = types[g % types.len()];
            GroupObservation {
                capacity_provider: format!("cp-{g}"),
                group: format!("asg-{g}"),
                desired: 6,
                max: 200,
                in_service: 4,
                pending: 0,
                unregistered: 0,
                instance_capacity: Some(capacity),
                free: (1..=4)
                    .map(|i| size(capacity.cpu.0 * i / 8, capacity.memory.0 * i / 8))
                    .collect(),
            }
        })
        .collect()
}

fn tasks() -> Vec<WaitingTask> {
    let sizes = [
        size(512, 1024),
        size(1024, 2048),
        size(2048, 4096),
        size(4096, 8192),
    ];
    (0..TASKS)
        .map(|i| WaitingTask {
            arn: format!("arn:aws:ecs:eu-west-1:123456789012:task/runners/{i:032x}"),
            size: sizes[(i * 7) % sizes.len()],
            capacity_provider: Some(format!("cp-{}", (i * 3) % GROUPS)),
            min_step: (i % 50 == 0).then_some(2),
        })
        .collect()
}

fn plan_500_tasks_8_groups(c: &mut Criterion) {
    let groups = groups();
    let tasks = tasks();
    c.bench_function("plan_capacity/500 tasks/8 groups", |b| {
        b.iter(|| plan_capacity(black_box(&tasks), black_box(&groups)))
    });
}

criterion_group!(benches, plan_500_tasks_8_groups);
criterion_main!(benches);
