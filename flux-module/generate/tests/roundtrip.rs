//! Generated traces read back with Flux Fiction's own trace readers (`ff-inputs`,
//! through a config file as `flux-fiction-prepare` loads one): every row comes back
//! with the submit time, run time, size and time limit it was written with, and the
//! SWF and CSV of the same options are the same jobs.

use std::path::Path;
use std::process::Command;

use ff_inputs::{Config, SimDuration, SimTime, TraceJob, open_trace};

const EPOCH: u64 = 1_546_300_800;

/// Writes the trace for `args` to `dir/name`.
fn generate(dir: &Path, name: &str, args: &[&str]) {
    let path = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_flux-fiction-generate"))
        .args(args)
        .args(["-o", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Every job of `dir/name`, read as a replay of it on the given machine would read it.
fn read(dir: &Path, name: &str, nodes: u32, cores: u32, gpus: u32) -> Vec<TraceJob> {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "[flux_fiction]\njob_traces = \"{name}\"\nnnodes = {nodes}\nncpus = {cores}\nngpus = {gpus}\n\
             swf_procs_per_node = {cores}\n"
        ),
    )
    .unwrap();
    let cfg = Config::load(&config).unwrap();
    let mut reader = open_trace(&cfg).unwrap();
    let jobs: Vec<TraceJob> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert!(reader.warnings().is_empty(), "{:?}", reader.warnings());
    jobs
}

/// What the writer put in a row: (submit offset, run time, nodes, time limit) from the
/// SWF record's fields 2, 4, 5 / cores and 9.
fn swf_records(text: &str, cores: u64) -> Vec<(u64, u64, u64, u64)> {
    text.lines()
        .filter(|line| !line.starts_with(';'))
        .map(|line| {
            let fields: Vec<u64> = line.split(' ').map(|f| f.parse().unwrap_or(u64::MAX)).collect();
            (fields[1], fields[3], fields[4] / cores, fields[8])
        })
        .collect()
}

fn check_against_records(jobs: &[TraceJob], records: &[(u64, u64, u64, u64)]) {
    assert_eq!(jobs.len(), records.len());
    for (index, (job, &(submit, runtime, nodes, limit))) in jobs.iter().zip(records).enumerate() {
        assert_eq!(job.trace_id, (index + 1).to_string());
        assert_eq!(job.submit, SimTime::from_secs((EPOCH + submit) as i64), "job {}", index + 1);
        assert_eq!(job.elapsed, SimDuration::from_secs(runtime as i64), "job {}", index + 1);
        assert_eq!(u64::from(job.nnodes), nodes, "job {}", index + 1);
        assert_eq!(job.time_limit, Some(SimDuration::from_secs(limit as i64)), "job {}", index + 1);
    }
}

#[test]
fn every_row_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    for (model, limit) in [("lublin", "round"), ("uniform", "factor:1.25")] {
        let args =
            ["--model", model, "--jobs", "3000", "--nodes", "64", "--cores-per-node", "8", "--time-limit", limit];
        let (swf, csv) = (format!("{model}.swf"), format!("{model}.csv"));
        generate(dir.path(), &swf, &args);
        let extra = ["--gpus-per-node", "2", "--storage-gib", "1-900", "--storage-share", "0.5"];
        generate(dir.path(), &csv, &[&args[..], &extra].concat());

        let records = swf_records(&std::fs::read_to_string(dir.path().join(&swf)).unwrap(), 8);
        let from_swf = read(dir.path(), &swf, 64, 8, 0);
        check_against_records(&from_swf, &records);
        assert!(from_swf.iter().all(|job| job.cores_per_node == 8 && job.gpus_per_node == 0));

        // The CSV holds the same jobs (GPUs and storage aside): every field agrees with the SWF's.
        let from_csv = read(dir.path(), &csv, 64, 8, 2);
        check_against_records(&from_csv, &records);
        assert!(from_csv.iter().all(|job| job.cores_per_node == 8 && job.gpus_per_node == 2));
        let asking = from_csv.iter().filter(|job| job.storage_gib > 0).count();
        assert!((1000..=2000).contains(&asking), "{asking} of 3000 jobs ask for storage");
        assert!(from_csv.iter().all(|job| job.storage_gib <= 900));
        // Limits of a day or more are written D-HH:MM:SS, and read back.
        if model == "lublin" {
            assert!(records.iter().any(|&(_, _, _, limit)| limit >= 86_400));
        }
    }
}

#[test]
fn the_target_load_is_what_the_replay_sees() {
    let dir = tempfile::tempdir().unwrap();
    for (model, target) in [("lublin", 0.85), ("uniform", 0.6)] {
        let name = format!("{model}.swf");
        let load = target.to_string();
        generate(dir.path(), &name, &["--model", model, "--jobs", "5000", "--nodes", "256", "--load", &load]);
        let jobs = read(dir.path(), &name, 256, 1, 0);
        // sum(nodes x run time) / (machine nodes x (last submit - first submit)).
        let node_seconds: f64 = jobs.iter().map(|job| f64::from(job.nnodes) * job.elapsed.as_secs_f64()).sum();
        let span = (jobs[jobs.len() - 1].submit.as_micros() - jobs[0].submit.as_micros()) as f64 / 1e6;
        let offered = node_seconds / (256.0 * span);
        assert!((offered / target - 1.0).abs() < 0.01, "{model}: offered load {offered}, target {target}");
    }
}
