//! flux-core's `job-info.lookup` (`src/modules/job-info/lookup.c`): a job's KVS keys.
//!
//! The emulator reads a job's `R` there because that copy is the one the scheduler wrote,
//! with its `scheduling` graph; the job-manager deletes that key from the R it sends in
//! exec start requests (`alloc.c`).

use serde::{Deserialize, Serialize};

use crate::JobId;
use crate::exec::ResourceSet;

pub const LOOKUP_TOPIC: &str = "job-info.lookup";

/// `FLUX_JOB_LOOKUP_JSON_DECODE`: `R` and `jobspec` come back as objects, not strings.
const JSON_DECODE: i32 = 1;

#[derive(Debug, Serialize)]
pub struct LookupRequest {
    pub id: JobId,
    pub keys: [&'static str; 1],
    pub flags: i32,
}

impl LookupRequest {
    /// Asks for the job's `R`, decoded.
    pub fn r(id: JobId) -> Self {
        LookupRequest { id, keys: ["R"], flags: JSON_DECODE }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a lookup request always serializes")
    }
}

#[derive(Debug, Deserialize)]
pub struct RLookupReply {
    #[serde(rename = "R")]
    pub r: ResourceSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_r_decoded_and_reads_its_shares() {
        assert_eq!(LookupRequest::r(JobId(7)).to_json(), r#"{"id":7,"keys":["R"],"flags":1}"#);
        let reply = r#"{"id":7,"R":{"version":1,"execution":{"R_lite":[]},"scheduling":{"graph":{"nodes":[
            {"id":"3","metadata":{"type":"ssd","size":453,"paths":{"containment":"/c/rack0/ssd0"}}}]}}}}"#;
        let reply: RLookupReply = serde_json::from_str(reply).unwrap();
        assert_eq!(reply.r.ssd_shares().collect::<Vec<_>>(), [("/c/rack0/ssd0", 453)]);
    }
}
