//! Go's `regexp` as the judge of the patterns in processor configurations.
//!
//! The engine's [`GoRegex`](otelcol_rust_engine::go_regex::GoRegex) takes
//! a normalizer that parses a pattern as Go does; in the collector it is
//! Go itself (`components/bridge/regex.go`), so a pattern is accepted or
//! refused exactly as contrib's processors accept or refuse it. It is
//! installed before the first configuration is built and called only while
//! configurations are validated or created.

#[cfg(not(test))]
mod go {
    use std::ffi::{c_char, c_int, c_void};

    extern "C" {
        fn otelcolRustGoRegexNormalize(
            pattern: *const u8,
            len: usize,
            out: *mut *mut c_char,
            out_len: *mut usize,
        ) -> c_int;
        fn free(ptr: *mut c_void);
    }

    pub(super) fn normalize(pattern: &str) -> Result<String, String> {
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: the pattern's bytes are valid for the call, which Go
        // only reads; Go writes a malloc'd buffer of `len` bytes (or null
        // for an empty text) into `out`, which is copied here and freed
        // exactly once.
        let ok = unsafe {
            otelcolRustGoRegexNormalize(pattern.as_ptr(), pattern.len(), &mut out, &mut len)
        };
        let text = if out.is_null() || len == 0 {
            String::new()
        } else {
            // SAFETY: see above; Go wrote `len` bytes at `out`.
            let bytes = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) };
            String::from_utf8_lossy(bytes).into_owned()
        };
        if !out.is_null() {
            // SAFETY: C.CBytes allocated it with malloc.
            unsafe { free(out.cast()) };
        }
        if ok != 0 {
            Ok(text)
        } else {
            Err(text)
        }
    }
}

/// Makes every pattern compiled from now on follow Go's parser. Rust's unit
/// tests link without Go and keep the engine's stand-in.
pub(crate) fn install() {
    #[cfg(not(test))]
    otelcol_rust_engine::go_regex::set_normalizer(go::normalize);
}
