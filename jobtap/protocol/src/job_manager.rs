//! `job-manager.raise`: raising an exception on a job, as `flux cancel` does
//! (flux-core `src/modules/job-manager/raise.c`). A severity 0 exception is fatal: a
//! waiting job becomes inactive, a running one is killed by its exec service.

use serde::Serialize;

use crate::JobId;

pub const RAISE_TOPIC: &str = "job-manager.raise";

#[derive(Debug, Serialize)]
pub struct RaiseRequest<'a> {
    pub id: JobId,
    pub severity: i32,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub note: &'a str,
}

impl<'a> RaiseRequest<'a> {
    /// What `flux cancel` sends.
    pub fn cancel(id: JobId, note: &'a str) -> Self {
        RaiseRequest { id, severity: 0, kind: "cancel", note }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("raise requests serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_is_what_flux_cancel_sends() {
        assert_eq!(
            RaiseRequest::cancel(JobId(42), "why").to_json(),
            r#"{"id":42,"severity":0,"type":"cancel","note":"why"}"#
        );
    }
}
