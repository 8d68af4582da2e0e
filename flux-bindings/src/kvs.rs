//! The two KVS operations ff-emu needs for its housekeeping: look up a directory (to see
//! whether it is empty) and commit a transaction that unlinks keys. Both asynchronous:
//! complete them with [`Future::then`].

use std::ffi::c_int;

use crate::error::{FluxError, Result};
use crate::future::{Future, FutureRef};
use crate::handle::{Flux, cstring};
use crate::sys;

/// `FLUX_KVS_READDIR` of `enum kvs_op` in flux-core's `kvs.h` (bindgen skips the enum).
const KVS_READDIR: c_int = 1;

impl Flux {
    /// Looks up directory `key` in the primary namespace (`flux_kvs_lookup` with
    /// `FLUX_KVS_READDIR`); read the result with [`FutureRef::kvs_dir_size`].
    pub fn kvs_lookup_dir(self, key: &str) -> Result<Future> {
        let key_c = cstring(key)?;
        // SAFETY: valid handle; NULL namespace means the default one; the key is copied.
        let f = unsafe { sys::flux_kvs_lookup(self.as_ptr(), std::ptr::null(), KVS_READDIR, key_c.as_ptr()) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_kvs_lookup {key}")) }
    }

    /// Commits one transaction that unlinks every key of `keys` (a directory with all it
    /// holds). The future is fulfilled when the commit is applied; `rpc_get` tells an error.
    pub fn kvs_unlink(self, keys: &[String]) -> Result<Future> {
        // SAFETY: creates a transaction we own until the destroy below.
        let txn = unsafe { sys::flux_kvs_txn_create() };
        if txn.is_null() {
            return Err(FluxError::last_os("flux_kvs_txn_create"));
        }
        let commit = (|| {
            for key in keys {
                let key_c = cstring(key)?;
                // SAFETY: live transaction; the key is copied.
                if unsafe { sys::flux_kvs_txn_unlink(txn, 0, key_c.as_ptr()) } < 0 {
                    return Err(FluxError::last_os(&format!("flux_kvs_txn_unlink {key}")));
                }
            }
            // SAFETY: valid handle and transaction (the commit request copies its operations).
            let f = unsafe { sys::flux_kvs_commit(self.as_ptr(), std::ptr::null(), 0, txn) };
            // SAFETY: a fresh future we now own.
            unsafe { Future::from_new(f, || "flux_kvs_commit".to_string()) }
        })();
        // SAFETY: the transaction is ours and no longer used.
        unsafe { sys::flux_kvs_txn_destroy(txn) };
        commit
    }
}

impl FutureRef<'_> {
    /// How many entries the directory found by [`Flux::kvs_lookup_dir`] holds; `ENOENT` if it
    /// does not exist, `ENOTDIR` if the key is not a directory.
    pub fn kvs_dir_size(&self) -> Result<usize> {
        self.rpc_get()?;
        let mut dir: *const sys::flux_kvsdir_t = std::ptr::null();
        // SAFETY: live, ready lookup future (rpc_get checked it): does not block.
        if unsafe { sys::flux_kvs_lookup_get_dir(self.as_ptr(), &mut dir) } < 0 || dir.is_null() {
            // SAFETY: the get just failed on this live future.
            return Err(unsafe { FluxError::from_future(self.as_ptr()) });
        }
        // SAFETY: the directory belongs to the future, which outlives this call.
        let size = unsafe { sys::flux_kvsdir_get_size(dir) };
        usize::try_from(size).map_err(|_| FluxError::new(libc::EPROTO, "flux_kvsdir_get_size failed"))
    }
}
