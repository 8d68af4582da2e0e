//! The command as a user runs it: the same options give the same bytes, every option
//! changes the trace the way it says, and bad options are usage errors (exit 2) that
//! name the option and the reason.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flux-fiction-generate")).args(args).output().unwrap()
}

/// The trace written to standard output; the command must succeed.
fn trace(args: &[&str]) -> String {
    let output = run(&[args, &["-o", "-"]].concat());
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The CSV rows of a trace, split into fields, keyed by the header's column names.
fn csv_rows(text: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = text.lines().filter(|line| !line.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| header.iter().zip(line.split(',')).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

fn column(rows: &[Vec<(String, String)>], name: &str) -> Vec<u64> {
    rows.iter()
        .map(|row| row.iter().find(|(h, _)| h == name).unwrap_or_else(|| panic!("no {name}")).1.parse().unwrap())
        .collect()
}

const BASE: [&str; 5] = ["--jobs", "200", "--nodes", "64", "--format=csv"];

fn base_with(extra: &[&str]) -> Vec<Vec<(String, String)>> {
    csv_rows(&trace(&[&BASE[..], extra].concat()))
}

#[test]
fn same_options_same_bytes_and_seeds_differ() {
    for model in ["lublin", "uniform"] {
        for format in ["swf", "csv"] {
            let args = ["--model", model, "--jobs", "300", "--format", format, "--seed", "5"];
            assert_eq!(trace(&args), trace(&args));
            assert_ne!(trace(&args), trace(&[&args[..], &["--seed", "6"]].concat()));
        }
    }
}

#[test]
fn the_stream_is_pinned() {
    // The first jobs of two traces, as this generator has always written them: a change
    // here means every seed now gives other traces (a new random stream, sampler or
    // platform-dependent float), which breaks reproducing published experiments.
    let lublin = trace(&["--jobs", "3", "--nodes", "16", "--cores-per-node", "4", "--format", "swf"]);
    let rows: Vec<&str> = lublin.lines().filter(|line| !line.starts_with(';')).collect();
    assert_eq!(
        rows,
        [
            "1 63 -1 36609 8 -1 -1 8 43200 -1 1 -1 -1 -1 -1 -1 -1 -1",
            "2 1105 -1 20399 16 -1 -1 16 28800 -1 1 -1 -1 -1 -1 -1 -1 -1",
            "3 2342 -1 142 4 -1 -1 4 300 -1 1 -1 -1 -1 -1 -1 -1 -1",
        ]
    );
    let uniform = trace(&["--model", "uniform", "--jobs", "2", "--nodes", "16", "--format", "csv"]);
    let rows: Vec<&str> = uniform.lines().filter(|line| !line.starts_with('#')).collect();
    assert_eq!(rows[1..], ["1,1546301088,2642,01:00:00,15,15", "2,1546302576,2924,01:00:00,9,9"]);
}

#[test]
fn the_header_says_how_to_make_the_trace_again() {
    let swf = trace(&["--jobs", "10", "--nodes", "32", "--cores-per-node", "8", "--seed", "77", "--format", "swf"]);
    for line in [
        "; Note: produced by flux-fiction-generate ",
        "--model lublin --jobs 10 --nodes 32 --cores-per-node 8 --gpus-per-node 0 --time-limit round --start-epoch 1546300800 --seed 77\n",
        "; UnixStartTime: 1546300800\n",
        "; MaxJobs: 10\n",
        "; MaxNodes: 32\n",
        "; MaxProcs: 256\n",
        "; Note: processors are nodes x 8 cores: replay with swf_procs_per_node = 8\n",
    ] {
        assert!(swf.contains(line), "no {line:?} in\n{swf}");
    }
    let records: Vec<&str> = swf.lines().filter(|line| !line.starts_with(';')).collect();
    assert_eq!(records.len(), 10);
    assert!(records.iter().all(|record| record.split_whitespace().count() == 18));
    assert!(trace(&["--jobs", "3", "--format", "csv"]).starts_with("# produced by flux-fiction-generate "));
}

#[test]
fn every_option_has_its_effect() {
    let base = base_with(&[]);
    let submits = column(&base, "t_submit");
    assert!(submits.windows(2).all(|pair| pair[0] <= pair[1]), "rows in submit order");

    // --jobs, --nodes, --seed, --model: other jobs.
    assert_eq!(base_with(&["--jobs", "7"]).len(), 7);
    assert!(column(&base, "NNodes").iter().all(|&n| (1..=64).contains(&n)));
    assert!(column(&base, "NNodes").iter().max() > Some(&8));
    assert!(column(&base_with(&["--nodes", "8"]), "NNodes").iter().all(|&n| n <= 8));
    assert_ne!(base_with(&["--seed", "2"]), base);
    assert_ne!(base_with(&["--model", "uniform"]), base);

    // --cores-per-node and --gpus-per-node: totals per job.
    let wide = base_with(&["--cores-per-node", "16", "--gpus-per-node", "4"]);
    let nodes = column(&wide, "NNodes");
    assert_eq!(column(&wide, "NCPUS"), nodes.iter().map(|n| n * 16).collect::<Vec<_>>());
    assert_eq!(column(&wide, "NGPUS"), nodes.iter().map(|n| n * 4).collect::<Vec<_>>());
    assert!(base[0].iter().all(|(h, _)| h != "NGPUS"));

    // --load and --time-limit change arrivals or limits only, never the jobs themselves.
    let same_jobs = |other: &[Vec<(String, String)>]| {
        for name in ["NNodes", "elapsed_s"] {
            assert_eq!(column(other, name), column(&base, name), "{name}");
        }
    };
    let loaded = base_with(&["--load", "0.9"]);
    same_jobs(&loaded);
    assert_ne!(column(&loaded, "t_submit"), submits);
    let exact = base_with(&["--time-limit", "factor:1"]);
    same_jobs(&exact);
    assert_eq!(column(&exact, "t_submit"), submits);
    assert_ne!(exact, base);
    assert!(exact.iter().all(|row| row[3].1.ends_with(":00")), "whole minutes");

    // --start-epoch: a day later is the same trace a day later (the daily cycle
    // repeats); noon is a different phase of the cycle, so different gaps.
    let later = column(&base_with(&["--start-epoch", "1546387200"]), "t_submit");
    assert_eq!(later, submits.iter().map(|t| t + 86_400).collect::<Vec<_>>());
    let noon = column(&base_with(&["--start-epoch", "1546344000"]), "t_submit");
    assert_ne!(noon.iter().map(|t| t - 43_200).collect::<Vec<_>>(), submits);

    // --format and --output: the same trace, in SWF, in a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.swf");
    let output = run(&["--jobs", "200", "--nodes", "64", "-o", path.to_str().unwrap()]);
    assert!(output.status.success() && output.stdout.is_empty());
    let swf = std::fs::read_to_string(&path).unwrap();
    assert_eq!(swf, trace(&["--jobs", "200", "--nodes", "64", "--format", "swf"]));
    let swf_submits: Vec<u64> = swf
        .lines()
        .filter(|line| !line.starts_with(';'))
        .map(|line| 1_546_300_800 + line.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .collect();
    assert_eq!(swf_submits, submits);

    // The uniform model's bounds.
    let bounded = base_with(&[
        "--model",
        "uniform",
        "--min-nodes",
        "3",
        "--max-nodes",
        "5",
        "--min-runtime",
        "100",
        "--max-runtime",
        "200",
    ]);
    assert!(column(&bounded, "NNodes").iter().all(|n| (3..=5).contains(n)));
    assert!(column(&bounded, "elapsed_s").iter().all(|r| (100..=200).contains(r)));
    let sparse = column(&base_with(&["--model", "uniform", "--mean-interarrival", "6000"]), "t_submit");
    let dense = column(&base_with(&["--model", "uniform", "--mean-interarrival", "60"]), "t_submit");
    assert!(sparse[199] - sparse[0] > 50 * (dense[199] - dense[0]));
}

#[test]
fn storage_requests_are_drawn_apart_from_the_rest_of_the_trace() {
    let plain = base_with(&[]);
    let all = base_with(&["--storage-gib", "100-600"]);
    let some = base_with(&["--storage-gib", "100-600", "--storage-share", "0.25"]);
    for name in ["t_submit", "elapsed_s", "NNodes", "NCPUS"] {
        assert_eq!(column(&plain, name), column(&all, name), "{name} changed with storage");
        assert_eq!(column(&plain, name), column(&some, name), "{name} changed with storage");
    }
    let gib = column(&all, "RabbitGiB");
    assert!(gib.iter().all(|g| (100..=600).contains(g)), "{gib:?}");
    assert!(gib.iter().min() < Some(&200) && gib.iter().max() > Some(&500), "not spread: {gib:?}");
    // A quarter of 200 jobs: 50 expected, sd about 6; 5 sd either way.
    let asking = column(&some, "RabbitGiB").iter().filter(|&&g| g > 0).count();
    assert!((20..=80).contains(&asking), "{asking} of 200 jobs ask for storage");
}

#[test]
fn stats_describe_the_trace() {
    let output = run(&["--stats", "--jobs", "500", "--load", "0.8"]);
    assert!(output.status.success());
    let stats = String::from_utf8(output.stdout).unwrap();
    for key in [
        "jobs: 500\n",
        "runtime_mean_s: ",
        "runtime_cv: ",
        "size_mean_nodes: ",
        "size_cv: ",
        "serial_fraction: ",
        "power_of_two_fraction: ",
        "interarrival_mean_s: ",
        "span_s: ",
        "offered_load: 0.80",
    ] {
        assert!(stats.contains(key), "no {key:?} in\n{stats}");
    }
    // With the trace on standard output, the stats go to standard error.
    let both = run(&["--stats", "--jobs", "5", "-o", "-", "--format", "swf"]);
    assert!(String::from_utf8(both.stdout).unwrap().starts_with("; Version: 2.2\n"));
    assert!(String::from_utf8(both.stderr).unwrap().starts_with("jobs: 5\n"));
}

#[test]
fn bad_options_are_usage_errors_naming_the_option() {
    for (args, expected) in [
        (&["--jobs", "0", "--stats"][..], "'--jobs <N>'"),
        (&["--nodes", "0", "--stats"], "'--nodes <N>'"),
        (&["--cores-per-node", "0", "--stats"], "'--cores-per-node <N>'"),
        (&["--model", "feitelson", "--stats"], "invalid value 'feitelson' for '--model <MODEL>'"),
        (&["--load", "0", "--stats"], "--load: must be a number above 0, got 0"),
        (&["--load=-0.5", "--stats"], "--load: must be a number above 0, got -0.5"),
        (&["--load", "1", "--jobs", "1", "--stats"], "--load: needs --jobs 2 or more"),
        (&["--time-limit", "factor:0.9", "--stats"], "the factor must be at least 1"),
        (&["--time-limit", "forever", "--stats"], "expected `round` or `factor:F`"),
        (
            &["--model", "uniform", "--min-nodes", "9", "--max-nodes", "4", "--stats"],
            "--min-nodes: 9 is more than --max-nodes 4",
        ),
        (&["--model", "uniform", "--max-runtime", "10", "--stats"], "--min-runtime: 60 is more than --max-runtime 10"),
        (
            &["--model", "uniform", "--nodes", "4", "--max-nodes", "5", "--stats"],
            "--max-nodes: 5 is more than the machine's --nodes 4",
        ),
        (
            &["--model", "uniform", "--load", "1", "--mean-interarrival", "5", "--stats"],
            "'--load <F>' cannot be used with '--mean-interarrival <SECONDS>'",
        ),
        (&["--max-runtime", "10", "--stats"], "--max-runtime: applies only to --model uniform"),
        (&["-o", "trace.txt"], "--format: cannot tell the format from \"trace.txt\""),
        (&["-o", "trace.swf", "--gpus-per-node", "2"], "--gpus-per-node: SWF has no GPU field"),
        (&["-o", "trace.swf", "--storage-gib", "1-9"], "--storage-gib: SWF has no storage field"),
        (&["--storage-gib", "9-1", "--stats"], "needs 1 <= MIN <= MAX, got '9-1'"),
        (&["--storage-gib", "lots", "--stats"], "expected MIN-MAX in whole GiB"),
        (&["--storage-gib", "1-9", "--storage-share", "1.5", "--stats"], "--storage-share: must be between 0 and 1"),
        (&["--storage-share", "0.5", "--stats"], "--storage-gib <MIN-MAX>"),
        (&[], "--output: nothing to do"),
    ] {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in\n{stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn an_unwritable_output_fails_with_its_name() {
    let output = run(&["--jobs", "3", "-o", "/nonexistent-dir/trace.swf"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent-dir/trace.swf: cannot write the trace"), "{stderr}");
}
