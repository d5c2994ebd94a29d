//! Freeing the answers of Go's control calls into Rust.
//!
//! A `g2r` function of rust2go (0.4.3, the latest release) returns its
//! answer to Go in a leaked box: the answer, its C view and the buffer the
//! view points into, `Box<(T, T::Ref, Vec<u8>)>`. Go copies the answer
//! out and then hands the box back to rust2go's `c_rust2go_internal_drop`,
//! but the generated code passed it a thin pointer that had lost the
//! answer's type, and that function rebuilds it as a `Box<dyn Any>` of `()`:
//! nothing is dropped and nothing is freed. Every control call leaked its
//! answer, and the Collector reads every Rust component's counters on each
//! metrics collection, so a long-running collector grew without bound.
//!
//! Here each answer type has its own drop function, which knows the box's
//! type; `make generate` (`scripts/generate-ffi.sh`) makes each generated
//! Go call free its answer through the function of its type. A type
//! without one fails to link. `TestControlCallsFreeTheirAnswers` holds
//! Rust's live heap flat over many calls of each kind.

use rust2go::ToRef;

use crate::ffi::{BridgeStats, ControlResponse, CounterValues, EffectiveConfig, Registry};

/// The storage rust2go's generated `g2r` code boxes and leaks for an
/// answer of type `T` (`rust2go-common`'s `G2RTraitRepr::generate_rs`).
type AnswerStorage<T> = (T, <T as ToRef>::Ref, Vec<u8>);

macro_rules! answer_drops {
    ($($ty:ident),* $(,)?) => {$(
        const _: () = {
            /// Frees the answer storage of a control call that returned a
            #[doc = concat!("`", stringify!($ty), "`.")]
            ///
            /// # Safety
            ///
            /// `storage` is the drop pointer (the second slot) a generated
            /// `g2r` call of this answer type left for Go, passed once.
            #[export_name = concat!("c_otelcol_rust_drop_", stringify!($ty))]
            unsafe extern "C" fn drop_answer(storage: *mut ()) {
                // SAFETY: the generated code made `storage` with
                // `Box::leak(Box::new(AnswerStorage::<$ty>) as Box<dyn Any>)`
                // cast to a thin pointer: the address of a live
                // `Box<AnswerStorage<$ty>>` allocation that nothing else
                // frees, and the caller passes it once.
                drop(unsafe { Box::from_raw(storage.cast::<AnswerStorage<$ty>>()) });
            }
        };
    )*};
}

answer_drops!(
    Registry,
    ControlResponse,
    EffectiveConfig,
    BridgeStats,
    CounterValues
);
