#include "hemapath/core/memory.h"

#include <climits>

#include <malloc.h>

namespace hemapath {

void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_MAX, 0);              // large blocks from the heap, not one mmap each
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // and the heap's free top is not handed back
}

void release_free_memory() { malloc_trim(0); }

}  // namespace hemapath
