//! `flux-fiction-rpc TOPIC [JSON]`: sends one request to the Flux instance at `FLUX_URI`
//! and prints the answer's payload.
//!
//! flux-core 0.88 has no command that sends an arbitrary request (`flux module stats`
//! only reaches a module's `stats-get`), and the project's tools do not depend on
//! Flux's Python bindings, so `flux-fiction-ctl` sends its requests with this.
//! Exit status: 0 answered, 1 an error answer (its message on stderr), 2 bad usage.

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;

use flux_bindings::handle::NODEID_ANY;
use flux_bindings::{Connection, FluxError};

/// Seconds to wait for the answer: the controls answer at once.
const TIMEOUT: f64 = 30.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (topic, payload) = match args.as_slice() {
        [topic] => (topic.as_str(), None),
        [topic, payload] => (topic.as_str(), Some(payload.as_str())),
        _ => {
            eprintln!("usage: flux-fiction-rpc TOPIC [JSON-PAYLOAD]  (to the instance at FLUX_URI)");
            return ExitCode::from(2);
        }
    };
    match request(topic, payload) {
        Ok(answer) => {
            println!("{}", answer.unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{topic}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The answer's payload (None: an empty answer).
type Answer = Result<Option<String>, FluxError>;

fn request(topic: &str, payload: Option<&str>) -> Answer {
    let conn = Connection::open(None)?;
    let h = conn.flux();
    let answer: Rc<RefCell<Option<Answer>>> = Rc::default();
    let future = h.rpc(topic, payload, NODEID_ANY, 0)?;
    {
        let answer = answer.clone();
        future.then(Some(TIMEOUT), move |f| {
            *answer.borrow_mut() = Some(f.rpc_get().map(|p| p.map(str::to_string)));
            if let Err(e) = f.flux().reactor_stop() {
                eprintln!("flux-fiction-rpc: {e}");
            }
        })?;
    }
    h.reactor_run()?;
    drop(future);
    answer.take().unwrap_or_else(|| Err(FluxError::new(libc::ETIMEDOUT, "no answer")))
}
