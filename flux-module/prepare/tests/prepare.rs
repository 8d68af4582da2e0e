//! flux-fiction-prepare end to end: the binary on fixture configs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn prepare(config: &Path, run_dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flux-fiction-prepare"))
        .arg(config)
        .arg("--run-dir")
        .arg(run_dir)
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The fixture config with `edit` applied, written next to the fixture files' copies.
fn edited_config(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    for name in ["10-backfill.csv", "flux.json"] {
        std::fs::copy(fixtures().join(name), dir.join(name)).unwrap();
    }
    let original = std::fs::read_to_string(fixtures().join("config.toml")).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, edit(original)).unwrap();
    path
}

#[test]
fn a_good_config_lays_out_the_run_directory() {
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("runs/first");
    let out = prepare(&fixtures().join("config.toml"), &run, &[]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "jobs=11\nfirst_submit=1546300800.000000\nnnodes=30\ncores_per_node=16\ngpus_per_node=0\n\
             faketime=true\nfaketime_start_lead=30\nfaketime_file={}\nstep_timeout=60\ncontent_gc_interval=30\npause_at=\ntrace={}\n\
             flux_config={}\nresource_file=\notel_enabled=false\notel_endpoint=\notel_service_name=flux-fiction\n",
            run.join("faketime").display(),
            fixtures().join("10-backfill.csv").display(),
            fixtures().join("flux.json").display()
        )
    );
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("flux-fiction: warning: ") && stderr.contains("quiet: ignored"), "{stderr}");

    for file in ["inputs/10-backfill.csv", "inputs/flux.json", "output", "instance/R.json", "instance/conf/flux.toml"] {
        assert!(run.join(file).exists(), "{file} is missing");
    }
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("instance/R.json")).unwrap()).unwrap();
    assert_eq!(r["execution"]["R_lite"][0]["rank"], "0-29");
    let flux_toml = std::fs::read_to_string(run.join("instance/conf/flux.toml")).unwrap();
    let r_path = run.join("instance/R.json");
    assert!(flux_toml.contains(&format!("path = \"{}\"", r_path.display())), "{flux_toml}");
    assert!(flux_toml.contains("[sched-fluxion-qmanager]\nqueue-policy = \"easy\""), "{flux_toml}");

    // The run directory's config stands on its own.
    let cfg = ff_inputs::Config::load(&run.join("config.toml")).unwrap();
    assert_eq!(cfg.job_traces, run.join("inputs/10-backfill.csv"));
    assert_eq!(cfg.config_json, Some(run.join("inputs/flux.json")));
    assert_eq!(cfg.output_dir, run.join("output"));
    assert_eq!(cfg.flux_config["sched-fluxion-qmanager"]["queue-policy"], "easy");

    // A used run directory is refused.
    let again = prepare(&fixtures().join("config.toml"), &run, &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("first: the run directory already exists"), "{}", text(&again.stderr));
}

#[test]
fn the_faketime_file_starts_the_clock_before_the_first_submission() {
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let out = prepare(&fixtures().join("config.toml"), &run, &[]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("faketime_file={}\n", run.join("faketime").display())));
    // First submit 2019-01-01T00:00:00Z, default lead 30 s: the offset makes the clock read
    // 1546300770 now.
    let offset = std::fs::read_to_string(run.join("faketime")).unwrap();
    let offset: f64 = offset.trim_end().strip_suffix('s').unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now + offset - 1_546_300_770.0).abs() < 5.0, "offset {offset}");
}

#[test]
fn an_unknown_key_is_named_with_its_file() {
    let scratch = tempfile::tempdir().unwrap();
    let config = edited_config(scratch.path(), |text| text.replace("nnodes = 30", "nnode = 30"));
    let run = scratch.path().join("run");
    let out = prepare(&config, &run, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "flux-fiction: error: {}:4: [flux_fiction] nnode: unknown key (did you mean 'nnodes'?)",
            config.display()
        )),
        "{stderr}"
    );
    assert!(!run.exists());
}

#[test]
fn a_job_that_can_never_fit_is_named_by_line() {
    let scratch = tempfile::tempdir().unwrap();
    let config = edited_config(scratch.path(), |text| text.replace("nnodes = 30", "nnodes = 20"));
    let run = scratch.path().join("run");
    let out = prepare(&config, &run, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("flux-fiction: error: "), "{stderr}");
    assert!(stderr.contains("10-backfill.csv:3: job 2 asks for nnodes=30"), "{stderr}");
    assert!(!run.exists());
}

#[test]
fn a_gzip_trace_is_checked_and_copied_as_it_is() {
    use std::io::Write;
    let scratch = tempfile::tempdir().unwrap();
    let config = edited_config(scratch.path(), |text| text.replace("\"10-backfill.csv\"", "\"10-backfill.csv.gz\""));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&std::fs::read(fixtures().join("10-backfill.csv")).unwrap()).unwrap();
    let gz = encoder.finish().unwrap();
    let trace = scratch.path().join("10-backfill.csv.gz");
    std::fs::write(&trace, &gz).unwrap();

    let run = scratch.path().join("run");
    let out = prepare(&config, &run, &[]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("jobs=11\nfirst_submit=1546300800.000000\n"), "{}", text(&out.stdout));
    assert_eq!(std::fs::read(run.join("inputs/10-backfill.csv.gz")).unwrap(), gz);
    let cfg = ff_inputs::Config::load(&run.join("config.toml")).unwrap();
    assert_eq!(cfg.job_traces, run.join("inputs/10-backfill.csv.gz"));

    // A truncated download fails the check (here already the format detection, which reads
    // the first line), naming the file and line, and lays out nothing.
    std::fs::write(&trace, &gz[..gz.len() / 2]).unwrap();
    let run = scratch.path().join("run2");
    let out = prepare(&config, &run, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "job_traces: {}:1: cannot read the trace: the gzip data ends early: the file is truncated",
            trace.display()
        )),
        "{stderr}"
    );
    assert!(!run.exists());
}

#[test]
fn pause_at_takes_a_trace_time_or_seconds_after_the_first_submission() {
    let scratch = tempfile::tempdir().unwrap();
    let fact = |run: &str, when: &str| {
        let out = prepare(&fixtures().join("config.toml"), &scratch.path().join(run), &["--pause-at", when]);
        assert!(out.status.success(), "stderr: {}", text(&out.stderr));
        text(&out.stdout).lines().find_map(|l| l.strip_prefix("pause_at=").map(str::to_string)).unwrap()
    };
    assert_eq!(fact("iso", "2019-01-01T00:10:00.5"), "1546301400.500000");
    assert_eq!(fact("secs", "600.5"), "1546301400.500000");
    assert_eq!(fact("plus", "+600.5"), "1546301400.500000");
    for bad in ["yesterday", "-5", "2019-01-01 00:10:00"] {
        let run = scratch.path().join(format!("bad{}", bad.len()));
        let out = prepare(&fixtures().join("config.toml"), &run, &[&format!("--pause-at={bad}")]);
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("--pause-at {bad}: ")), "{stderr}");
        assert!(!run.exists(), "a refused --pause-at leaves no run directory");
    }
}
