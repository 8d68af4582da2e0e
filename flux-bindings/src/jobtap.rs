//! Jobtap plugins (feature `jobtap`): `flux_plugin_t` inside the job-manager.
//!
//! A jobtap plugin is a `.so` the job-manager `dlopen`s and calls
//! `flux_plugin_init(p)` on (reference §2).  The `flux_jobtap_*` functions are
//! exported by `job-manager.so` itself, so this module exists only with the
//! `jobtap` feature, and no test binary may *call* into it (it would not link;
//! merely enabling the feature is fine, unreferenced code is discarded).
//!
//! Lifetime rules this module enforces (§2.8): `flux jobtap remove` destroys
//! the plugin's aux list and then `dlclose`s the `.so`.  So every closure
//! registered here ([`Plugin::add_handler`], [`Plugin::service_register`]) and
//! the plugin state ([`Plugin::set_state`]) is owned by the plugin's aux list
//! and freed on unload; nothing is leaked or kept in statics.  When the state
//! is torn down its value is dropped even if closures still hold
//! [`State`] clones, which breaks `Rc` cycles: watchers and futures kept in
//! the state are destroyed before the code they call is unmapped.
//!
//! Re-entrancy (§2.7): posting an event to a job that is not in a callback
//! (`raise_exception`, `prolog_finish`, `event_post`, …) runs every plugin's
//! callbacks *synchronously*, including this plugin's.  Job callbacks are
//! therefore `Fn` (they may be re-entered), and [`State`] borrows must be short:
//! never hold one across a `Plugin` call that posts an event.
//!
//! Never block here: no `flux_future_get` (not offered by this crate), no
//! uncached `attr_get` in job callbacks (§2.6).
//!
//! The plugin's `flux_plugin_init` is one line:
//!
//! ```ignore
//! use std::ffi::c_int;
//! use flux_bindings::raw::flux_plugin_t;
//!
//! #[unsafe(no_mangle)]
//! pub extern "C" fn flux_plugin_init(p: *mut flux_plugin_t) -> c_int {
//!     // SAFETY: called by the job-manager with a live plugin handle.
//!     unsafe { flux_bindings::jobtap::init(p, "emu-jobtap", crate::init) }
//! }
//!
//! // fn init(p: flux_bindings::jobtap::Plugin) -> flux_bindings::Result<()>
//! ```

use std::any::Any;
use std::cell::{Ref, RefCell, RefMut};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::Rc;

use tracing::level_filters::LevelFilter;

use crate::error::{FluxError, Result};
use crate::guard::{self, Reentry, Slot, call_guarded};
use crate::handle::{Flux, LogLevel, cstring};
use crate::handler::msg_trampoline;
use crate::logging;
use crate::message::MsgRef;
use crate::sys;

/// The job whose callback is running (`FLUX_JOBTAP_CURRENT_JOB`; bindgen types
/// the macro as `i32 = -1`).  Only meaningful inside a job callback: service
/// handlers, timers and continuations must pass an explicit id.
pub const CURRENT_JOB: u64 = u64::MAX;

const STATE_KEY: &CStr = c"flux-bindings::state";

/// Job states (`flux_job_state_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    New,
    Depend,
    Priority,
    Sched,
    Run,
    Cleanup,
    Inactive,
}

impl JobState {
    pub fn from_raw(state: i32) -> Option<JobState> {
        Some(match state {
            1 => JobState::New,
            2 => JobState::Depend,
            4 => JobState::Priority,
            8 => JobState::Sched,
            16 => JobState::Run,
            32 => JobState::Cleanup,
            64 => JobState::Inactive,
            _ => return None,
        })
    }
}

/// A job's result (`flux_job_result_t`), available from CLEANUP on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobResult {
    Completed,
    Failed,
    Canceled,
    Timeout,
}

impl JobResult {
    pub fn from_raw(r: u32) -> Option<JobResult> {
        Some(match r {
            sys::flux_job_result_t_FLUX_JOB_RESULT_COMPLETED => JobResult::Completed,
            sys::flux_job_result_t_FLUX_JOB_RESULT_FAILED => JobResult::Failed,
            sys::flux_job_result_t_FLUX_JOB_RESULT_CANCELED => JobResult::Canceled,
            sys::flux_job_result_t_FLUX_JOB_RESULT_TIMEOUT => JobResult::Timeout,
            _ => return None,
        })
    }
}

/// The body of `flux_plugin_init` (see the module docs for the exact shape).
///
/// Sets the plugin name (services become `job-manager.<name>.<method>`),
/// creates a [`crate::FluxLogLayer`] dispatcher on the job-manager's handle
/// with lines prefixed `"<name>: "` (INFO; see [`logging::set_max_level`]),
/// and runs `f` under the panic guard within it; every callback registered
/// from `f` (and, transitively, from those callbacks) logs through it.
/// An `Err` or a panic is logged and fails the load (-1).
///
/// # Safety
/// `p` must be the plugin handle the job-manager passed to `flux_plugin_init`.
pub unsafe fn init<F>(p: *mut sys::flux_plugin_t, name: &str, f: F) -> c_int
where
    F: FnOnce(Plugin) -> Result<()>,
{
    let Some(p) = NonNull::new(p) else { return -1 };
    let plugin = Plugin { p };
    let Ok(flux) = plugin.flux() else { return -1 };
    if let Err(e) = plugin.set_name(name) {
        flux.log(LogLevel::Err, &format!("{name}: flux_plugin_set_name: {e}"));
        return -1;
    }
    let dispatch = logging::dispatch_with_prefix(flux, LevelFilter::INFO, name);
    let r = call_guarded(flux, "jobtap plugin init", || tracing::dispatcher::with_default(&dispatch, || f(plugin)));
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            flux.log(LogLevel::Err, &format!("{name}: init failed: {e}"));
            -1
        }
        Err(_panic) => -1,
    }
}

/// A borrowed plugin handle (`Copy`; valid while the plugin is loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plugin {
    p: NonNull<sys::flux_plugin_t>,
}

impl Plugin {
    /// # Safety
    /// `p` must be a live plugin handle of a plugin loaded in the job-manager,
    /// used only on the job-manager thread while the plugin is loaded.
    pub unsafe fn from_raw(p: *mut sys::flux_plugin_t) -> Plugin {
        Plugin { p: NonNull::new(p).expect("Plugin::from_raw: NULL") }
    }

    pub fn as_ptr(self) -> *mut sys::flux_plugin_t {
        self.p.as_ptr()
    }

    /// Sets the name used in service topics (`job-manager.<name>.<method>`);
    /// must not contain `.` or `/`.  [`init`] already does this.
    pub fn set_name(self, name: &str) -> Result<()> {
        let c = cstring(name)?;
        // SAFETY: live plugin; the name is copied.
        if unsafe { sys::flux_plugin_set_name(self.as_ptr(), c.as_ptr()) } < 0 {
            return Err(FluxError::last_os("flux_plugin_set_name"));
        }
        Ok(())
    }

    /// The plugin name.
    pub fn name(self) -> Option<String> {
        // SAFETY: live plugin; the string is owned by it and copied.
        let s = unsafe { sys::flux_plugin_get_name(self.as_ptr()) };
        (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }

    /// The load-time config as a compact JSON object string
    /// (`flux jobtap load x.so a=1` → `{"a":1}`), or `None`.
    pub fn conf(self) -> Option<String> {
        // SAFETY: live plugin; the string is owned by it and copied.
        let s = unsafe { sys::flux_plugin_get_conf(self.as_ptr()) };
        (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }

    /// The job-manager's handle (`flux_jobtap_get_flux`); never close it.
    pub fn flux(self) -> Result<Flux> {
        // SAFETY: live plugin.
        let h = unsafe { sys::flux_jobtap_get_flux(self.as_ptr()) };
        if h.is_null() {
            return Err(FluxError::last_os("flux_jobtap_get_flux"));
        }
        // SAFETY: the job-manager's handle outlives the plugin.
        Ok(unsafe { Flux::from_raw(h) })
    }

    /// Hands `ptr` to the plugin's aux list, to be freed with `free` on unload.
    fn aux_own(self, ptr: *mut c_void, free: unsafe extern "C" fn(*mut c_void)) -> Result<()> {
        // SAFETY: live plugin; NULL key with a destructor is allowed (plugin.h).
        if unsafe { sys::flux_plugin_aux_set(self.as_ptr(), std::ptr::null(), ptr, Some(free)) } < 0 {
            let e = FluxError::last_os("flux_plugin_aux_set");
            // SAFETY: not stored: still ours to free.
            unsafe { free(ptr) };
            return Err(e);
        }
        Ok(())
    }

    /// Registers a job callback for topics matching `topic_glob`
    /// (`job.new`, `job.state.*`, `job.event.*`, …).  Only the *first*
    /// matching handler of a plugin is called.  Return 0, or -1 (rejects the
    /// job in `job.validate`/`job.create`).  A panic is logged and returns -1.
    /// The closure lives until the plugin is unloaded.
    pub fn add_handler<F>(self, topic_glob: &str, cb: F) -> Result<()>
    where
        F: Fn(Plugin, &str, Args<'_>) -> c_int + 'static,
    {
        let glob = cstring(topic_glob)?;
        let slot = Slot::into_raw(self.flux()?, "jobtap callback", cb);
        self.aux_own(slot as *mut c_void, guard::release::<F>)?;
        // SAFETY: live plugin; topic copied; trampoline type matches the slot.
        let rc = unsafe {
            sys::flux_plugin_add_handler(self.as_ptr(), glob.as_ptr(), Some(plugin_trampoline::<F>), slot as *mut c_void)
        };
        if rc < 0 {
            return Err(FluxError::last_os("flux_plugin_add_handler"));
        }
        Ok(())
    }

    /// Registers a request handler for `job-manager.<name>.<method>`
    /// (`flux_jobtap_service_register_ex`).  `rolemask` is added to owner
    /// (pass [`crate::handle::role::USER`] to admit guests, 0 for owner only).
    /// A panic is logged and answered with an error response.
    pub fn service_register<F>(self, method: &str, rolemask: u32, cb: F) -> Result<()>
    where
        F: FnMut(Flux, MsgRef<'_>) + 'static,
    {
        let m = cstring(method)?;
        let slot = Slot::into_raw(self.flux()?, "jobtap service handler", cb);
        self.aux_own(slot as *mut c_void, guard::release::<F>)?;
        // SAFETY: live plugin; method copied; the message handler is owned by
        // the plugin's aux list; trampoline type matches the slot.
        let rc = unsafe {
            sys::flux_jobtap_service_register_ex(
                self.as_ptr(),
                m.as_ptr(),
                rolemask,
                Some(msg_trampoline::<F>),
                slot as *mut c_void,
            )
        };
        if rc < 0 {
            return Err(FluxError::last_os("flux_jobtap_service_register_ex"));
        }
        Ok(())
    }

    /// Stores the plugin state (replacing and tearing down any previous one);
    /// it is dropped on unload.  Returns a handle to it; clone that into closures.
    pub fn set_state<T: 'static>(self, value: T) -> Result<State<T>> {
        let cell = Rc::new(StateCell { value: RefCell::new(Some(value)) });
        let aux = Box::new(StateAux {
            flux: self.flux()?,
            cell: cell.clone(),
            teardown: teardown::<T>,
            dispatch: guard::current_dispatch(),
        });
        let ptr = Box::into_raw(aux) as *mut c_void;
        // SAFETY: live plugin; the destructor matches the pointer type.
        if unsafe { sys::flux_plugin_aux_set(self.as_ptr(), STATE_KEY.as_ptr(), ptr, Some(state_aux_free)) } < 0 {
            let e = FluxError::last_os("flux_plugin_aux_set");
            // SAFETY: not stored: still ours.
            drop(unsafe { Box::from_raw(ptr as *mut StateAux) });
            return Err(e);
        }
        Ok(State(cell))
    }

    /// The state stored by [`Plugin::set_state`], if it has type `T`.
    pub fn state<T: 'static>(self) -> Option<State<T>> {
        // SAFETY: live plugin; the value under STATE_KEY is always a StateAux.
        let p = unsafe { sys::flux_plugin_aux_get(self.as_ptr(), STATE_KEY.as_ptr()) } as *const StateAux;
        if p.is_null() {
            return None;
        }
        // SAFETY: non-NULL StateAux owned by the aux list.
        let aux = unsafe { &*p };
        aux.cell.clone().downcast::<StateCell<T>>().ok().map(State)
    }

    /// Subscribes to `job.event.*` callbacks for job `id` (active jobs only;
    /// [`CURRENT_JOB`] in `job.new`).
    pub fn job_subscribe(self, id: u64) -> Result<()> {
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_job_subscribe(self.as_ptr(), id) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_job_subscribe"));
        }
        Ok(())
    }

    pub fn job_unsubscribe(self, id: u64) {
        // SAFETY: live plugin.
        unsafe { sys::flux_jobtap_job_unsubscribe(self.as_ptr(), id) }
    }

    /// The result of a job in CLEANUP or INACTIVE (`flux_jobtap_get_job_result`).
    pub fn job_result(self, id: u64) -> Result<JobResult> {
        let mut r: sys::flux_job_result_t = 0;
        // SAFETY: live plugin, valid out-pointer.
        if unsafe { sys::flux_jobtap_get_job_result(self.as_ptr(), id, &mut r) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_get_job_result"));
        }
        JobResult::from_raw(r).ok_or_else(|| FluxError::new(libc::EPROTO, format!("unknown job result {r}")))
    }

    /// Holds the current job's start request (call from `job.state.run` or
    /// `job.event.alloc`) until [`Plugin::prolog_finish`].
    pub fn prolog_start(self, description: &str) -> Result<()> {
        let d = cstring(description)?;
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_prolog_start(self.as_ptr(), d.as_ptr()) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_prolog_start"));
        }
        Ok(())
    }

    /// Ends a prolog started with the same description (`status` 0 = success).
    pub fn prolog_finish(self, id: u64, description: &str, status: i32) -> Result<()> {
        let d = cstring(description)?;
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_prolog_finish(self.as_ptr(), id, d.as_ptr(), status) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_prolog_finish"));
        }
        Ok(())
    }

    /// Holds the current job's `free` (call from `job.state.cleanup`) until
    /// [`Plugin::epilog_finish`].
    pub fn epilog_start(self, description: &str) -> Result<()> {
        let d = cstring(description)?;
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_epilog_start(self.as_ptr(), d.as_ptr()) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_epilog_start"));
        }
        Ok(())
    }

    pub fn epilog_finish(self, id: u64, description: &str, status: i32) -> Result<()> {
        let d = cstring(description)?;
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_epilog_finish(self.as_ptr(), id, d.as_ptr(), status) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_epilog_finish"));
        }
        Ok(())
    }

    /// Order of `job.create`/`job.new` for jobs active at load: "none", "state", "-state".
    pub fn set_load_sort_order(self, mode: &str) -> Result<()> {
        let m = cstring(mode)?;
        // SAFETY: live plugin.
        if unsafe { sys::flux_jobtap_set_load_sort_order(self.as_ptr(), m.as_ptr()) } < 0 {
            return Err(FluxError::last_os("flux_jobtap_set_load_sort_order"));
        }
        Ok(())
    }
}

/// The one trampoline for `flux_plugin_f`.
unsafe extern "C" fn plugin_trampoline<F>(
    p: *mut sys::flux_plugin_t,
    topic: *const c_char,
    args: *mut sys::flux_plugin_arg_t,
    data: *mut c_void,
) -> c_int
where
    F: Fn(Plugin, &str, Args<'_>) -> c_int + 'static,
{
    let (Some(p), Some(args)) = (NonNull::new(p), NonNull::new(args)) else { return -1 };
    if topic.is_null() || data.is_null() {
        return -1;
    }
    // SAFETY: NUL-terminated topic owned by the caller for this call.
    let topic = unsafe { CStr::from_ptr(topic) }.to_str().unwrap_or("");
    let plugin = Plugin { p };
    let a = Args { a: args, _args: PhantomData };
    // SAFETY: `data` is the Slot<F> registered with this trampoline instance;
    // F is Fn, so re-entrant calls only create shared references.
    match unsafe { guard::enter(data as *mut Slot<F>, Reentry::Allow, |f| (*f)(plugin, topic, a)) } {
        Some(Ok(rc)) => rc,
        _ => -1,
    }
}

/// Plugin state: shared, `RefCell`-checked access to the value stored with
/// [`Plugin::set_state`].  Keep borrows short (see the module docs on
/// re-entrancy); borrowing after the plugin state was torn down panics
/// (caught and logged by the callback guard).
pub struct State<T>(Rc<StateCell<T>>);

impl<T> Clone for State<T> {
    fn clone(&self) -> State<T> {
        State(self.0.clone())
    }
}

struct StateCell<T> {
    value: RefCell<Option<T>>,
}

impl<T> State<T> {
    /// Panics if mutably borrowed (re-entrancy) or torn down.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::map(self.0.value.borrow(), |v| v.as_ref().expect("jobtap state used after teardown"))
    }

    /// Panics if already borrowed (re-entrancy) or torn down.
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        RefMut::map(self.0.value.borrow_mut(), |v| v.as_mut().expect("jobtap state used after teardown"))
    }

    /// `None` if already borrowed or torn down.
    pub fn try_borrow_mut(&self) -> Option<RefMut<'_, T>> {
        let r = self.0.value.try_borrow_mut().ok()?;
        RefMut::filter_map(r, |v| v.as_mut()).ok()
    }

    /// Runs `f` with a short mutable borrow.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

struct StateAux {
    flux: Flux,
    cell: Rc<dyn Any>,
    teardown: fn(&dyn Any),
    /// The dispatcher current at `set_state`, so `Drop` impls can log on unload.
    dispatch: Option<tracing::Dispatch>,
}

fn teardown<T: 'static>(cell: &dyn Any) {
    if let Some(c) = cell.downcast_ref::<StateCell<T>>() {
        let value = c.value.try_borrow_mut().ok().and_then(|mut v| v.take());
        drop(value);
    }
}

unsafe extern "C" fn state_aux_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: set_state stored a Box<StateAux> under this destructor.
    let aux = unsafe { Box::from_raw(p as *mut StateAux) };
    let flux = aux.flux;
    let _ = call_guarded(flux, "jobtap state teardown", move || {
        let dispatch = aux.dispatch.clone();
        let run = move || {
            (aux.teardown)(&*aux.cell);
            drop(aux);
        };
        match dispatch {
            Some(d) => tracing::dispatcher::with_default(&d, run),
            None => run(),
        }
    });
}

/// The arguments of a job callback (`flux_plugin_arg_t`), borrowed for the call.
///
/// Hot-path accessors go through the fixed-signature wrappers of shim.c (one constant
/// `flux_plugin_arg_unpack` format each, type-checked by the C compiler); [`Args::json`]
/// dumps the whole IN object
/// (jobspec and R included: ~1 KB) for rare use.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a> {
    a: NonNull<sys::flux_plugin_arg_t>,
    _args: PhantomData<&'a sys::flux_plugin_arg_t>,
}

/// The fields of `end_event` (the event that moved a job to CLEANUP).
#[derive(Clone, Debug, PartialEq)]
pub struct EndEvent {
    /// `"finish"` or `"exception"`.
    pub name: String,
    pub timestamp: f64,
    /// `finish`: the wait status.
    pub status: Option<i64>,
    /// `exception`: type (e.g. `"cancel"`), severity and note.
    pub exception_type: Option<String>,
    pub severity: Option<i64>,
    pub note: Option<String>,
}

const ARG_IN: c_int = sys::FLUX_PLUGIN_ARG_IN as c_int;
const ARG_OUT: c_int = sys::FLUX_PLUGIN_ARG_OUT as c_int;

impl<'a> Args<'a> {
    /// # Safety
    /// `args` must be live for `'a` and used only on this thread.
    pub unsafe fn from_raw(args: *mut sys::flux_plugin_arg_t) -> Args<'a> {
        Args { a: NonNull::new(args).expect("Args::from_raw: NULL"), _args: PhantomData }
    }

    pub fn as_ptr(&self) -> *mut sys::flux_plugin_arg_t {
        self.a.as_ptr()
    }

    fn unpack_error(&self, what: &str) -> FluxError {
        let errnum = std::io::Error::last_os_error().raw_os_error().filter(|&e| e != 0).unwrap_or(libc::EPROTO);
        // SAFETY: live args; the string is owned by them and copied.
        let s = unsafe { sys::flux_plugin_arg_strerror(self.as_ptr()) };
        let detail = if s.is_null() { String::new() } else { unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned() };
        FluxError::new(errnum, format!("{what}: {detail}"))
    }

    /// An integer key (`"{s:I}"`, via the C shim).
    fn int(&self, key: &CStr) -> Result<i64> {
        let mut v: i64 = 0;
        // SAFETY: live args; NUL-terminated key; valid out-pointer.
        let rc = unsafe { sys::ffb_arg_int(self.as_ptr(), key.as_ptr(), &mut v) };
        if rc < 0 {
            return Err(self.unpack_error(&format!("unpack {}", key.to_string_lossy())));
        }
        Ok(v)
    }

    /// A number key (`"{s:F}"`: integer or real, as double; via the C shim).
    fn number(&self, key: &CStr) -> Result<f64> {
        let mut v: f64 = 0.0;
        // SAFETY: live args; NUL-terminated key; valid out-pointer.
        let rc = unsafe { sys::ffb_arg_real(self.as_ptr(), key.as_ptr(), &mut v) };
        if rc < 0 {
            return Err(self.unpack_error(&format!("unpack {}", key.to_string_lossy())));
        }
        Ok(v)
    }

    /// The job id.
    pub fn id(&self) -> Result<u64> {
        self.int(c"id").map(|v| v as u64)
    }

    /// The job's current state.
    pub fn state(&self) -> Result<JobState> {
        let s = self.int(c"state")?;
        JobState::from_raw(s as i32).ok_or_else(|| FluxError::new(libc::EPROTO, format!("unknown job state {s}")))
    }

    /// The previous state (`job.state.*` callbacks only).
    pub fn prev_state(&self) -> Result<JobState> {
        let s = self.int(c"prev_state")?;
        JobState::from_raw(s as i32).ok_or_else(|| FluxError::new(libc::EPROTO, format!("unknown job state {s}")))
    }

    pub fn userid(&self) -> Result<u32> {
        self.int(c"userid").map(|v| v as u32)
    }

    pub fn urgency(&self) -> Result<i32> {
        self.int(c"urgency").map(|v| v as i32)
    }

    pub fn priority(&self) -> Result<u32> {
        self.int(c"priority").map(|v| v as u32)
    }

    pub fn t_submit(&self) -> Result<f64> {
        self.number(c"t_submit")
    }

    /// `entry.timestamp`: the time of the event that triggered a
    /// `job.state.*`/`job.event.*` callback.
    pub fn entry_timestamp(&self) -> Result<f64> {
        let mut v: f64 = 0.0;
        // SAFETY: live args; NUL-terminated keys; valid out-pointer.
        let rc = unsafe { sys::ffb_arg_nested_real(self.as_ptr(), c"entry".as_ptr(), c"timestamp".as_ptr(), &mut v) };
        if rc < 0 {
            return Err(self.unpack_error("unpack entry.timestamp"));
        }
        Ok(v)
    }

    /// `entry.name`: the name of that event (borrowed from the args).
    pub fn entry_name(&self) -> Result<&'a str> {
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live args; NUL-terminated keys; valid out-pointer; the string points
        // into the args object, alive for 'a.
        let rc = unsafe { sys::ffb_arg_nested_string(self.as_ptr(), c"entry".as_ptr(), c"name".as_ptr(), &mut s) };
        if rc < 0 || s.is_null() {
            return Err(self.unpack_error("unpack entry.name"));
        }
        // SAFETY: non-NULL, NUL-terminated, alive for 'a.
        unsafe { CStr::from_ptr(s) }.to_str().map_err(|_| FluxError::new(libc::EPROTO, "entry.name is not UTF-8"))
    }

    /// `entry.context` as compact JSON text, `None` when the event has no context.
    pub fn entry_context_json(&self) -> Result<Option<String>> {
        let mut s: *mut c_char = std::ptr::null_mut();
        // SAFETY: live args; NUL-terminated keys; valid out-pointer. The result is malloc'd.
        let rc = unsafe { sys::ffb_arg_nested_json(self.as_ptr(), c"entry".as_ptr(), c"context".as_ptr(), &mut s) };
        if rc < 0 {
            return Err(self.unpack_error("unpack entry.context"));
        }
        if s.is_null() {
            return Ok(None);
        }
        // SAFETY: non-NULL, NUL-terminated; copied before it is freed.
        let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
        // SAFETY: allocated by jansson with malloc.
        unsafe { libc::free(s as *mut c_void) };
        Ok(Some(text))
    }

    /// The whole IN object (`flux_plugin_arg_get`): for rare use.
    pub fn json(&self) -> Result<serde_json::Value> {
        let mut s: *mut c_char = std::ptr::null_mut();
        // SAFETY: live args; the result is malloc'd and freed below.
        if unsafe { sys::flux_plugin_arg_get(self.as_ptr(), ARG_IN, &mut s) } < 0 || s.is_null() {
            return Err(self.unpack_error("flux_plugin_arg_get"));
        }
        // SAFETY: non-NULL NUL-terminated string.
        let parsed = serde_json::from_slice(unsafe { CStr::from_ptr(s) }.to_bytes());
        // SAFETY: allocated by jansson with malloc.
        unsafe { libc::free(s as *mut c_void) };
        Ok(parsed?)
    }

    /// `end_event` (present from CLEANUP on), via [`Args::json`]; `None` if absent.
    pub fn end_event(&self) -> Result<Option<EndEvent>> {
        let v = self.json()?;
        Ok(parse_end_event(&v["end_event"]))
    }

    /// Merges the JSON object `json` into the OUT arguments
    /// (`flux_plugin_arg_set`, e.g. `{"annotations":{...}}` or `{"priority":N}`).
    pub fn set_out(&self, json: &str) -> Result<()> {
        let c = cstring(json)?;
        // SAFETY: live args; the string is parsed and copied.
        if unsafe { sys::flux_plugin_arg_set(self.as_ptr(), ARG_OUT, c.as_ptr()) } < 0 {
            return Err(self.unpack_error("flux_plugin_arg_set"));
        }
        Ok(())
    }
}

fn parse_end_event(v: &serde_json::Value) -> Option<EndEvent> {
    let name = v.get("name")?.as_str()?.to_string();
    let ctx = v.get("context");
    let field = |k: &str| ctx.and_then(|c| c.get(k));
    Some(EndEvent {
        name,
        timestamp: v.get("timestamp").and_then(|t| t.as_f64()).unwrap_or(0.0),
        status: field("status").and_then(|s| s.as_i64()),
        exception_type: field("type").and_then(|s| s.as_str()).map(str::to_string),
        severity: field("severity").and_then(|s| s.as_i64()),
        note: field("note").and_then(|s| s.as_str()).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    // Pure helpers only.  `cargo test --features jobtap` links because nothing
    // reachable from a test calls flux_jobtap_* (defined only in job-manager.so);
    // a test that did would fail to link.
    use super::*;

    #[test]
    fn end_event_parsing() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"timestamp":1.5,"name":"exception","context":{"type":"cancel","severity":0,"userid":0,"note":"bye"}}"#,
        )
        .unwrap();
        let e = parse_end_event(&v).unwrap();
        assert_eq!(e.exception_type.as_deref(), Some("cancel"));
        assert_eq!(e.note.as_deref(), Some("bye"));
        assert_eq!(e.severity, Some(0));
        assert!(parse_end_event(&serde_json::Value::Null).is_none());
    }

    #[test]
    fn states() {
        assert_eq!(JobState::from_raw(16), Some(JobState::Run));
        assert_eq!(JobState::from_raw(3), None);
    }
}
