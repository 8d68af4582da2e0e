//! A trace's jobs: drawn from the model in a fixed order, given submit times on the
//! model's arrival clock (its draws scaled for `--load`), and time limits.
//!
//! Every job's draws come from the seeded stream in the same order (gap, size, run
//! time) whatever the options that only transform them, so `--load` or `--time-limit`
//! change when jobs arrive or what they ask for, never which jobs there are.

use crate::lublin::LublinModel;
use crate::offered_load::factor_for_load;
use crate::options::{Model, Plan, UsageError};
use crate::random::Random;
use crate::uniform::UniformModel;

/// One job of the trace, in whole seconds and nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Seconds after the trace's start epoch.
    pub submit: u64,
    pub runtime: u64,
    pub nodes: u32,
    pub time_limit: u64,
    /// Rabbit storage request in GiB (0: none).
    pub storage_gib: u64,
}

/// The random stream storage requests are drawn from (see `Random::seeded_stream`).
const STORAGE_STREAM: u64 = 1;

/// The longest trace, in seconds (about 3,000 years): epoch plus offset stays far
/// inside every reader's range (Flux Fiction keeps times in i64 microseconds).
const MAX_SPAN: f64 = 1e11;
const SECONDS_PER_DAY: u32 = 86_400;

enum Source {
    /// Boxed: its daily cycle's tables are large.
    Lublin(Box<LublinModel>),
    Uniform(UniformModel),
}

impl Source {
    /// The next job's draws: its gap in arrival-clock units, its size and run time.
    fn draw(&self, random: &mut Random) -> (f64, u32, u64) {
        match self {
            Source::Lublin(model) => {
                let gap = model.draw_gap(random);
                let nodes = model.draw_nodes(random);
                (gap, nodes, model.draw_runtime(random, nodes))
            }
            Source::Uniform(model) => (model.draw_gap(random), model.draw_nodes(random), model.draw_runtime(random)),
        }
    }

    /// Seconds after the start until `units` of gaps have passed: through the daily
    /// cycle for Lublin, one unit a second for the uniform model.
    fn seconds_after_start(&self, start_second_of_day: f64, units: f64) -> f64 {
        match self {
            Source::Lublin(model) => model.seconds_after_start(start_second_of_day, units),
            Source::Uniform(_) => units,
        }
    }
}

/// The jobs of `plan`, in submit order.
pub fn generate(plan: &Plan) -> Result<Vec<Job>, UsageError> {
    let source = match &plan.model {
        Model::Lublin => Source::Lublin(Box::new(LublinModel::new(plan.nodes))),
        Model::Uniform(model) => Source::Uniform(*model),
    };
    let mut random = Random::seeded(plan.seed);
    // Per job: arrival-clock units since the start, nodes, run time.
    let mut arrivals = 0.0;
    let drawn: Vec<(f64, u32, u64)> = (0..plan.jobs)
        .map(|_| {
            let (gap, nodes, runtime) = source.draw(&mut random);
            arrivals += gap;
            (arrivals, nodes, runtime)
        })
        .collect();

    let start_second_of_day = f64::from(plan.start_epoch % SECONDS_PER_DAY);
    let at = |units: f64| source.seconds_after_start(start_second_of_day, units);
    let factor = match plan.load {
        None => 1.0,
        Some(target) => {
            let node_seconds: f64 = drawn.iter().map(|&(_, nodes, runtime)| f64::from(nodes) * runtime as f64).sum();
            let (first, last) = (drawn[0].0, drawn[drawn.len() - 1].0);
            factor_for_load(target, node_seconds, plan.nodes, |f| at(f * last) - at(f * first)).ok_or_else(|| {
                UsageError { option: "--load", problem: format!("no arrival times give a load of {target}") }
            })?
        }
    };
    let last_submit = at(factor * drawn[drawn.len() - 1].0);
    if last_submit.is_nan() || last_submit > MAX_SPAN {
        let option = match (&plan.model, plan.load) {
            (_, Some(_)) => "--load",
            (Model::Uniform(_), None) => "--mean-interarrival",
            (Model::Lublin, None) => "--jobs",
        };
        return Err(UsageError { option, problem: "the trace would span more than 3,000 years".to_string() });
    }
    let mut storage_random = Random::seeded_stream(plan.seed, STORAGE_STREAM);
    Ok(drawn
        .iter()
        .map(|&(units, nodes, runtime)| Job {
            submit: libm::round(at(factor * units)) as u64,
            runtime,
            nodes,
            time_limit: plan.time_limit.limit_for(runtime),
            storage_gib: plan.storage.map_or(0, |s| s.draw(&mut storage_random)),
        })
        .collect())
}
