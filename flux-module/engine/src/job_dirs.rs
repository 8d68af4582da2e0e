//! Which of the KVS's job directories ff-emu may remove once the job-manager purged their jobs.
//!
//! The job-manager keeps job `id` under `job.AAAA.BBBB.CCCC.DDDD`, the id's four 16-bit groups in
//! hex (flux-core `flux_job_kvs_key`). Job ids are FLUIDs: milliseconds since the instance
//! started in the high 40 bits, so `BBBB` changes every 256 ms of wall time and `job.AAAA`
//! gains one entry per 256 ms in which a job was submitted. Purging an inactive job unlinks only
//! its own directory, and leaves `job.AAAA.BBBB.CCCC` and `job.AAAA.BBBB` behind, empty. So
//! `job.AAAA` grows with the replay's wall time (one entry per 256 ms, up to 65,536 of them in
//! its 4.6 hours), and every KVS commit that touches a job rewrites it: measured 1,283 entries,
//! a 114 KB directory object and 520 KB of new content-store blobs per job 25 minutes into a
//! 10,000-job replay, on its way to megabytes per commit in a long one.
//!
//! This bookkeeping names the directories to check: the `CCCC` parents of purged jobs, then the
//! `BBBB` windows whose `CCCC` directories were removed. A directory is only a candidate once its
//! window is closed, at least [`CLOSED_AFTER_WINDOWS`] windows older than the newest job id seen,
//! because job-ingest hands out ids in increasing order and nothing can be added to an older
//! window. The module still looks each one up and removes only those found empty, so a job that
//! someone else submitted, or one the bookkeeping missed, is never touched.

use std::collections::BTreeSet;

/// A window (`job.AAAA.BBBB`) is closed this many windows (of 256 ms) behind the newest job id:
/// a job whose id was assigned earlier may still be on its way into the KVS.
pub const CLOSED_AFTER_WINDOWS: u64 = 4;

/// The KVS directory of the first `groups` 16-bit groups of `id`: `job.AAAA`, `job.AAAA.BBBB`...
fn key(id: u64, groups: u32) -> String {
    let mut key = String::from("job");
    for g in 0..groups {
        key.push_str(&format!(".{:04x}", (id >> (48 - 16 * g)) & 0xffff));
    }
    key
}

/// The directories one round of housekeeping looks up, each removed if found empty.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DirCheck {
    /// `job.AAAA.BBBB.CCCC` directories that held purged jobs.
    pub parents: Vec<String>,
    /// `job.AAAA.BBBB` windows whose parents were removed in earlier rounds.
    pub windows: Vec<String>,
}

impl DirCheck {
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty() && self.windows.is_empty()
    }
}

/// See the module documentation. Keys are kept as id prefixes (`id >> 16` for a parent,
/// `id >> 32` for a window), so sets stay small and ordered by age.
#[derive(Debug, Default)]
pub struct JobDirs {
    newest: u64,
    parents: BTreeSet<u64>,
    windows: BTreeSet<u64>,
}

impl JobDirs {
    /// A job id job-ingest handed out (a submit's answer, a transition).
    pub fn job_seen(&mut self, id: u64) {
        self.newest = self.newest.max(id);
    }

    /// Jobs the job-manager purged (its `job-purge-inactive` event).
    pub fn purged(&mut self, ids: impl IntoIterator<Item = u64>) {
        self.parents.extend(ids.into_iter().map(|id| id >> 16));
    }

    /// A parent directory was removed: its window may now be empty.
    pub fn parent_removed(&mut self, parent: &str) {
        if let Some(prefix) = parse_prefix(parent, 3) {
            self.windows.insert(prefix >> 16);
        }
    }

    /// The directories of closed windows to look up now; they leave the bookkeeping (a parent
    /// still holding a job comes back with that job's purge, a window with its last parent).
    pub fn due(&mut self) -> DirCheck {
        let open_from = (self.newest >> 32).saturating_sub(CLOSED_AFTER_WINDOWS);
        let parents = take_below(&mut self.parents, open_from << 16);
        let windows = take_below(&mut self.windows, open_from);
        DirCheck {
            parents: parents.into_iter().map(|p| key(p << 16, 3)).collect(),
            windows: windows.into_iter().map(|w| key(w << 32, 2)).collect(),
        }
    }
}

/// Removes and returns the members of `set` below `limit`.
fn take_below(set: &mut BTreeSet<u64>, limit: u64) -> BTreeSet<u64> {
    let kept = set.split_off(&limit);
    std::mem::replace(set, kept)
}

/// The id prefix of a key made by [`key`] with `groups` groups.
fn parse_prefix(key: &str, groups: usize) -> Option<u64> {
    let hex: Vec<&str> = key.strip_prefix("job.")?.split('.').collect();
    if hex.len() != groups || hex.iter().any(|h| h.len() != 4) {
        return None;
    }
    hex.iter().try_fold(0u64, |acc, h| Some(acc << 16 | u64::from_str_radix(h, 16).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FLUID at `ms` milliseconds with sequence number `seq`.
    fn fluid(ms: u64, seq: u64) -> u64 {
        ms << 24 | seq
    }

    #[test]
    fn keys_are_the_job_managers_hex_groups() {
        let id = 0x0000_0186_2800_0001;
        assert_eq!(key(id, 4), "job.0000.0186.2800.0001");
        assert_eq!(key(id, 3), "job.0000.0186.2800");
        assert_eq!(key(id, 2), "job.0000.0186");
        assert_eq!(parse_prefix("job.0000.0186.2800", 3), Some(id >> 16));
        assert_eq!(parse_prefix("job.0000.0186", 3), None);
    }

    #[test]
    fn purged_parents_wait_until_their_window_is_closed() {
        let mut dirs = JobDirs::default();
        let old = fluid(1_000, 0);
        dirs.job_seen(old);
        dirs.purged([old]);
        assert!(dirs.due().is_empty(), "the newest job is in the same window");

        // Still within CLOSED_AFTER_WINDOWS windows of 256 ms.
        dirs.job_seen(fluid(1_000 + 256 * CLOSED_AFTER_WINDOWS, 0));
        assert!(dirs.due().is_empty());

        dirs.job_seen(fluid(1_000 + 256 * (CLOSED_AFTER_WINDOWS + 1), 0));
        let due = dirs.due();
        assert_eq!(due.parents, [key(old, 3)]);
        assert!(due.windows.is_empty());
        assert!(dirs.due().is_empty(), "handed out once");
    }

    #[test]
    fn a_removed_parent_makes_its_window_due_in_a_later_round() {
        let mut dirs = JobDirs::default();
        let (a, b) = (fluid(1_000, 0), fluid(1_000, 1 << 16)); // same window, two parents
        dirs.purged([a, b]);
        dirs.job_seen(fluid(10_000, 0));
        let due = dirs.due();
        assert_eq!(due.parents, [key(a, 3), key(b, 3)]);
        dirs.parent_removed(&due.parents[0]);
        dirs.parent_removed(&due.parents[1]);
        assert_eq!(dirs.due(), DirCheck { parents: vec![], windows: vec![key(a, 2)] });
    }

    #[test]
    fn parents_are_handed_out_once_per_key_and_oldest_first() {
        let mut dirs = JobDirs::default();
        dirs.purged([fluid(2_000, 0), fluid(1_000, 0), fluid(1_000, 0)]);
        dirs.job_seen(fluid(100_000, 0));
        assert_eq!(dirs.due().parents, [key(fluid(1_000, 0), 3), key(fluid(2_000, 0), 3)]);
    }
}
