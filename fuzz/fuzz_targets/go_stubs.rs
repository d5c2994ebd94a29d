// The bridge library calls these Go functions; a fuzz target links it
// without Go. None is reached by the code under test (the context decoder
// and the processors never call into Go), so each only has to exist.

#[no_mangle]
extern "C" fn CGoBridge_release(_: *const u8) {}
#[no_mangle]
extern "C" fn CGoBridge_wake(_: *const u8) {}
#[no_mangle]
extern "C" fn CGoBridge_log(_: *const u8) {}
#[no_mangle]
extern "C" fn CGoBridge_span_start(_: *const u8, _: *mut u8, _: *mut u8) {}
#[no_mangle]
extern "C" fn CGoBridge_span_end(_: *const u8) {}
#[no_mangle]
extern "C" fn otelcolRustGoRegexNormalize(
    _: *const u8,
    _: usize,
    _: *mut *mut u8,
    _: *mut usize,
) -> i32 {
    unreachable!("patterns are compiled without Go in the fuzz targets")
}
