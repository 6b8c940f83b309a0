//! An `UnsafeCell` with loom's closure API (`with` / `with_mut`), for std and shuttle builds.
//!
//! Shuttle has no `UnsafeCell` of its own, so both non-loom backends use this one.

/// `core::cell::UnsafeCell` behind loom's API, so the same code builds for every backend.
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Gives `f` a shared pointer to the value; the caller upholds the aliasing rules.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Gives `f` an exclusive pointer to the value; the caller upholds the aliasing rules.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// A leak-tracking token; zero-sized outside loom (see the loom backend).
#[derive(Debug, Default)]
pub(crate) struct Tracked;

impl Tracked {
    pub(crate) fn new() -> Self {
        Tracked
    }
}
