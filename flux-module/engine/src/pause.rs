//! When a replay stops between steps: the user's pause, resume and step requests, and
//! `--pause-at`.
//!
//! A pause takes effect only at a step boundary, after a step's barrier completed and
//! before simulated time moves on, so the instance is quiescent while the replay waits.
//! The engine asks [`PauseRule::holds`] at every boundary; everything else here only
//! records what the user asked for.

use ff_inputs::SimTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PauseRule {
    /// Stop once this many steps are complete (a pause request, or the end of `step N`).
    after_steps: Option<u64>,
    /// Stop before the first step later than this simulated time (`--pause-at`), once.
    after_time: Option<SimTime>,
}

impl PauseRule {
    pub fn new(pause_at: Option<SimTime>) -> Self {
        PauseRule { after_steps: None, after_time: pause_at }
    }

    /// Stop at the next boundary (the current step, if any, is completed first).
    pub fn pause(&mut self, steps_done: u64) {
        let at = self.after_steps.map_or(steps_done, |s| s.min(steps_done));
        self.after_steps = Some(at);
    }

    /// Run `n` more steps from a boundary where `steps_done` steps are complete, then stop.
    pub fn step(&mut self, steps_done: u64, n: u64) -> u64 {
        let target = steps_done + n;
        self.after_steps = Some(target);
        target
    }

    /// Run on without stopping (a `--pause-at` already reached is forgotten too).
    pub fn resume(&mut self) {
        *self = PauseRule::default();
    }

    /// Whether a stop is due or pending: the replay is paused or will pause at a boundary.
    pub fn requested(&self) -> bool {
        self.after_steps.is_some()
    }

    /// At a boundary with `steps_done` steps complete and the next step at `next`: stop?
    /// Reaching `--pause-at` turns into a plain pause, so the replay stays stopped until
    /// resumed or stepped.
    pub fn holds(&mut self, steps_done: u64, next: SimTime) -> bool {
        if self.after_time.is_some_and(|t| next > t) {
            self.after_time = None;
            self.after_steps = Some(steps_done);
        }
        self.after_steps.is_some_and(|s| steps_done >= s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_holds_from_the_next_boundary_until_resumed() {
        let mut p = PauseRule::default();
        assert!(!p.holds(3, SimTime(10)));
        p.pause(3);
        assert!(p.requested());
        assert!(p.holds(3, SimTime(10)));
        assert!(p.holds(3, SimTime(10)), "a pause does not wear off");
        p.resume();
        assert!(!p.holds(3, SimTime(10)));
        assert!(!p.requested());
    }

    #[test]
    fn a_second_pause_request_does_not_postpone_the_first() {
        let mut p = PauseRule::default();
        p.pause(3);
        p.pause(5);
        assert!(p.holds(3, SimTime(10)));
    }

    #[test]
    fn step_runs_exactly_n_steps_then_holds() {
        let mut p = PauseRule::default();
        p.pause(4);
        assert_eq!(p.step(4, 2), 6);
        assert!(!p.holds(4, SimTime(10)));
        assert!(!p.holds(5, SimTime(20)));
        assert!(p.holds(6, SimTime(30)));
    }

    #[test]
    fn pause_at_stops_before_the_first_later_step_once() {
        let mut p = PauseRule::new(Some(SimTime(20)));
        assert!(!p.requested());
        assert!(!p.holds(0, SimTime(10)));
        assert!(!p.holds(1, SimTime(20)), "steps at the pause time itself run");
        assert!(p.holds(2, SimTime(30)));
        assert!(p.requested());
        p.resume();
        assert!(!p.holds(2, SimTime(30)));
        assert!(!p.holds(3, SimTime(40)));
    }
}
