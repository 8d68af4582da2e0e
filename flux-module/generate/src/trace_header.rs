//! What a trace says about itself in its comment lines, in either format: the command
//! that made it (so it can be made again) and the model behind it.

use crate::lublin;
use crate::options::{Model, Plan};

/// Comment lines, without the comment marker.
pub fn description(plan: &Plan) -> Vec<String> {
    let produced_by =
        format!("produced by flux-fiction-generate {}: {}", env!("CARGO_PKG_VERSION"), plan.command_line());
    let model = match &plan.model {
        Model::Lublin => {
            let (low, medium, high) = lublin::size_bounds(plan.nodes);
            format!(
                "model: Lublin-Feitelson (JPDC 2003), batch-job parameters of m_lublin99.c; \
                 log2 sizes ULow {low:.2}, UMed {medium:.2}, UHi {high:.2}; daily cycle in UTC"
            )
        }
        Model::Uniform(bounds) => {
            let arrivals = match plan.load {
                Some(_) => "Poisson arrivals".to_string(),
                None => format!("Poisson arrivals every {} s on average", bounds.mean_interarrival),
            };
            format!(
                "model: uniform: {arrivals}, sizes {}..{} nodes, run times {}..{} s",
                bounds.min_nodes, bounds.max_nodes, bounds.min_runtime, bounds.max_runtime
            )
        }
    };
    vec![produced_by, model, format!("time limits: {}", plan.time_limit)]
}
