//! The process allocator: the system allocator, except that on Linux a
//! block of 64 MiB or more (a per-row array of a registry-scale cohort:
//! 10^7 rows of `f64` are 80 MB) is its own anonymous mapping with
//! transparent huge pages asked for (`madvise(MADV_HUGEPAGE)`).
//!
//! glibc maps such blocks afresh too and returns them on free, so every
//! large array faults its memory in again; with 4 KiB pages a 10^7-patient
//! run spent more time in page faults than in half of its analyses. Huge
//! pages cut the faults 512-fold (the zeroing of fresh memory stays), at no
//! cost in resident memory: only blocks this large are affected, and each
//! is unmapped when freed, as before. Smaller data never reach this path.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are mapped here.
const BIG: usize = 64 << 20;

/// The allocator (see the module docs).
pub struct Allocator;

#[cfg(target_os = "linux")]
mod big {
    /// Page-rounded length of a mapping of `size` bytes.
    fn len(size: usize) -> usize {
        size.div_ceil(4096) * 4096
    }

    /// Huge pages for the mapping at `p` (advice only: failures are ignored).
    unsafe fn advise(p: *mut libc::c_void, size: usize) {
        unsafe { libc::madvise(p, len(size), libc::MADV_HUGEPAGE) };
    }

    /// A fresh zeroed mapping of `size` bytes, or null.
    pub unsafe fn map(size: usize) -> *mut u8 {
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len(size),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        unsafe { advise(p, size) };
        p.cast()
    }

    pub unsafe fn unmap(p: *mut u8, size: usize) {
        unsafe { libc::munmap(p.cast(), len(size)) };
    }

    /// The mapping at `p` resized (moved if need be, without copying
    /// pages), or null with `p` left as it was.
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        let q = unsafe { libc::mremap(p.cast(), len(old), len(new), libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        unsafe { advise(q, new) };
        q.cast()
    }
}

#[cfg(not(target_os = "linux"))]
mod big {
    use std::alloc::{GlobalAlloc, Layout, System};
    pub unsafe fn map(size: usize) -> *mut u8 {
        unsafe { System.alloc_zeroed(Layout::from_size_align_unchecked(size, 4096)) }
    }
    pub unsafe fn unmap(p: *mut u8, size: usize) {
        unsafe { System.dealloc(p, Layout::from_size_align_unchecked(size, 4096)) }
    }
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        unsafe { System.realloc(p, Layout::from_size_align_unchecked(old, 4096), new) }
    }
}

/// Give the allocator's free memory back to the system (glibc keeps what
/// a stage freed in its arenas, resident, and a later stage's blocks
/// rarely fit those holes: without this the report stage of a 10^6-patient
/// run grew the resident set past the analyses' peak). A few milliseconds;
/// called between the stages of `run`.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's heaps
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether a block of this layout is mapped here (page alignment at most:
/// mappings are page-aligned).
fn is_big(size: usize, align: usize) -> bool {
    size >= BIG && align <= 4096
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if is_big(l.size(), l.align()) {
            unsafe { big::map(l.size()) }
        } else {
            unsafe { System.alloc(l) }
        }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if is_big(l.size(), l.align()) {
            // fresh mappings are zeroed
            unsafe { big::map(l.size()) }
        } else {
            unsafe { System.alloc_zeroed(l) }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if is_big(l.size(), l.align()) {
            unsafe { big::unmap(p, l.size()) }
        } else {
            unsafe { System.dealloc(p, l) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        match (is_big(l.size(), l.align()), is_big(new, l.align())) {
            (true, true) => unsafe { big::remap(p, l.size(), new) },
            (false, false) => unsafe { System.realloc(p, l, new) },
            _ => {
                // across the threshold: a new block, the bytes copied
                let Ok(nl) = Layout::from_size_align(new, l.align()) else {
                    return std::ptr::null_mut();
                };
                let q = unsafe { self.alloc(nl) };
                if !q.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(p, q, l.size().min(new));
                        self.dealloc(p, l);
                    }
                }
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small and large blocks, growing and shrinking across the threshold:
    /// contents kept, zeroed blocks zero.
    #[test]
    fn blocks_keep_their_bytes_across_sizes() {
        let a = Allocator;
        unsafe {
            for &(from, to) in &[
                (1 << 10, 1 << 20),
                (1 << 20, BIG + 1),
                (BIG + 1, 2 * BIG + 12_345),
                (2 * BIG + 12_345, BIG),
                (BIG, 4096),
            ] {
                let l = Layout::from_size_align(from, 8).unwrap();
                let p = a.alloc_zeroed(l);
                assert!(!p.is_null());
                assert!((0..from).step_by(4093).all(|i| *p.add(i) == 0));
                for i in (0..from).step_by(4093) {
                    *p.add(i) = (i % 251) as u8;
                }
                let q = a.realloc(p, l, to);
                assert!(!q.is_null());
                for i in (0..from.min(to)).step_by(4093) {
                    assert_eq!(*q.add(i), (i % 251) as u8, "{from} -> {to} at {i}");
                }
                a.dealloc(q, Layout::from_size_align(to, 8).unwrap());
            }
        }
    }
}
