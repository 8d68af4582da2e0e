//! What `report.html` shows of single jobs, from one pass over `job_transitions.csv`: the wait and
//! bounded-slowdown histograms, the jobs that waited longest, and the per-node occupancy grid.
//!
//! Memory is bounded whatever the number of jobs: bucket counts, a short list of the longest
//! waits, a fixed grid. A job's wait is the file's `WAIT` column (written from
//! [`JobRecord::wait`](crate::JobRecord::wait)) and its slowdown the summary's
//! [`bounded_slowdown`], so the page and `summary.json` never disagree.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::histogram::{Histogram, SLOWDOWN_BUCKETS, WAIT_BUCKETS};
use crate::occupancy_grid::OccupancyGrid;
use crate::summary::bounded_slowdown;

/// Rows of the slowest-waiting table.
pub(crate) const SLOWEST_SHOWN: usize = 20;

pub(crate) struct JobDigest {
    pub waits: Histogram,
    pub slowdowns: Histogram,
    /// Longest wait first (ties: trace order), at most [`SLOWEST_SHOWN`].
    pub slowest: Vec<WaitingJob>,
    pub occupancy: Option<OccupancyGrid>,
}

/// One row of the slowest-waiting table; ids as the file has them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaitingJob {
    pub trace_idx: u64,
    pub trace_id: String,
    pub jobid: String,
    pub nnodes: String,
    /// Epoch seconds.
    pub submit: f64,
    pub wait: f64,
    /// Start to finish, for jobs that finished.
    pub run: Option<f64>,
    pub slowdown: Option<f64>,
    pub result: String,
}

/// The columns read, by name (the file may gain columns; their order is not relied on).
struct Columns {
    trace_idx: usize,
    jobid: usize,
    nnodes: usize,
    submit: usize,
    start: usize,
    finish: usize,
    nodelist: usize,
    result: usize,
    trace_id: usize,
    wait: usize,
}

/// Reads `path`; `occupancy`, when given, gets every job's interval on each of its nodes.
pub(crate) fn digest_transitions(path: &Path, mut occupancy: Option<OccupancyGrid>) -> io::Result<JobDigest> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
    // Opened here so that a missing file stays NotFound (the page then leaves its parts out).
    let mut csv = csv::Reader::from_reader(io::BufReader::new(File::open(path)?));
    let header = csv.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| bad(format!("no column {name}")));
    let c = Columns {
        trace_idx: column("trace_idx")?,
        jobid: column("jobid")?,
        nnodes: column("nnodes")?,
        submit: column("SUBMIT")?,
        start: column("START")?,
        finish: column("FINISH")?,
        nodelist: column("NODELIST")?,
        result: column("RESULT")?,
        trace_id: column("TRACE_JOBID")?,
        wait: column("WAIT")?,
    };
    let mut digest = JobDigest {
        waits: Histogram::new(WAIT_BUCKETS),
        slowdowns: Histogram::new(SLOWDOWN_BUCKETS),
        slowest: Vec::with_capacity(2 * SLOWEST_SHOWN),
        occupancy: None,
    };
    for row in csv.records() {
        let row = row.map_err(|e| bad(e.to_string()))?;
        let line = row.position().map_or(0, |p| p.line());
        let field = |i: usize| row.get(i).unwrap_or("");
        // An empty field is a time the job never reached.
        let number = |i: usize, name: &str| -> io::Result<Option<f64>> {
            let text = field(i);
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| bad(format!("line {line}: {name} {text:?} is not a number")))
        };
        let Some(wait) = number(c.wait, "WAIT")? else { continue };
        let (start, finish) = (number(c.start, "START")?, number(c.finish, "FINISH")?);
        let run = start.zip(finish).map(|(start, finish)| (finish - start).max(0.0));
        let slowdown = run.map(|run| bounded_slowdown(wait, run));
        digest.waits.add(wait);
        if let Some(slowdown) = slowdown {
            digest.slowdowns.add(slowdown);
        }
        if let (Some(grid), Some((start, finish))) = (occupancy.as_mut(), start.zip(finish)) {
            for node in field(c.nodelist).split(',').filter(|n| !n.is_empty()) {
                let node: u32 = node.parse().ok().filter(|&n| n < grid.nnodes()).ok_or_else(|| {
                    bad(format!("line {line}: NODELIST names node {node:?}, not one of the {} nodes", grid.nnodes()))
                })?;
                grid.add(node, start, finish);
            }
        }
        digest.slowest.push(WaitingJob {
            trace_idx: field(c.trace_idx).parse().map_err(|_| bad(format!("line {line}: bad trace_idx")))?,
            trace_id: field(c.trace_id).to_string(),
            jobid: field(c.jobid).to_string(),
            nnodes: field(c.nnodes).to_string(),
            submit: number(c.submit, "SUBMIT")?.unwrap_or_default(),
            wait,
            run,
            slowdown,
            result: field(c.result).to_string(),
        });
        if digest.slowest.len() == 2 * SLOWEST_SHOWN {
            keep_slowest(&mut digest.slowest);
        }
    }
    keep_slowest(&mut digest.slowest);
    digest.occupancy = occupancy.take();
    Ok(digest)
}

fn keep_slowest(jobs: &mut Vec<WaitingJob>) {
    jobs.sort_by(|a, b| b.wait.total_cmp(&a.wait).then(a.trace_idx.cmp(&b.trace_idx)));
    jobs.truncate(SLOWEST_SHOWN);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const HEADER: &str = "trace_idx,jobid,nnodes,SUBMIT,START,FINISH,NODELIST,RESULT,TRACE_JOBID,WAIT\n";

    fn digest(rows: &str, grid: Option<OccupancyGrid>) -> io::Result<JobDigest> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job_transitions.csv");
        fs::write(&path, format!("{HEADER}{rows}")).unwrap();
        digest_transitions(&path, grid)
    }

    #[test]
    fn histograms_and_slowest_from_the_summary_definitions() {
        let d = digest(
            "0,11,1,100,100,150,0,completed,a,0.000000\n\
             1,12,1,100,130,190,0,completed,b,30.000000\n\
             2,13,2,100,200,205,\"0,1\",completed,c,100.000000\n\
             3,,1,150,,,,not-run,d,\n",
            None,
        )
        .unwrap();
        assert_eq!(d.waits.counts(), [1, 1, 1, 0, 0, 0, 0, 0], "the job that never started is left out");
        // Slowdowns 1, 90/60 = 1.5, (100 + 5)/10 = 10.5: as the summary computes them.
        assert_eq!(d.slowdowns.counts(), [1, 1, 0, 0, 1, 0, 0]);
        let order: Vec<(u64, f64, Option<f64>)> = d.slowest.iter().map(|j| (j.trace_idx, j.wait, j.slowdown)).collect();
        assert_eq!(order, [(2, 100.0, Some(10.5)), (1, 30.0, Some(1.5)), (0, 0.0, Some(1.0))]);
        assert_eq!((d.slowest[0].jobid.as_str(), d.slowest[0].trace_id.as_str(), d.slowest[0].run), ("13", "c", Some(5.0)));
    }

    #[test]
    fn only_the_longest_waits_are_kept() {
        let rows: String = (0..1000).map(|i| format!("{i},{i},1,0,{w},{w},0,completed,t{i},{w}\n", w = i % 97)).collect();
        let d = digest(&rows, None).unwrap();
        assert_eq!(d.slowest.len(), SLOWEST_SHOWN);
        assert!(d.slowest.iter().all(|j| j.wait >= 95.0), "{:?}", d.slowest);
        assert_eq!((d.slowest[0].trace_idx, d.slowest[0].wait), (96, 96.0), "ties in trace order");
    }

    #[test]
    fn occupancy_gets_every_node_of_every_job() {
        let grid = OccupancyGrid::new(2, 100.0, 300.0);
        let d = digest("0,1,2,100,100,200,\"0,1\",completed,a,0\n", grid).unwrap();
        let levels = d.occupancy.unwrap().percent();
        assert_eq!((levels[0], levels[199], levels[200], levels[399]), (100, 0, 100, 0));
    }

    #[test]
    fn bad_rows_are_named() {
        let error = digest("0,1,1,100,x,200,0,completed,a,0\n", None).err().unwrap().to_string();
        assert!(error.ends_with("job_transitions.csv: line 2: START \"x\" is not a number"), "{error}");
        let error = digest("0,1,1,100,100,200,7,completed,a,0\n", OccupancyGrid::new(2, 0.0, 1.0)).err().unwrap();
        assert!(error.to_string().contains("line 2: NODELIST names node \"7\", not one of the 2 nodes"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t.csv"), "trace_idx,WAIT\n").unwrap();
        let error = digest_transitions(&dir.path().join("t.csv"), None).err().unwrap().to_string();
        assert!(error.ends_with("t.csv: no column jobid"), "{error}");
    }
}
