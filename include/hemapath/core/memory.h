#pragma once
/// Process-wide memory settings for running networks.

namespace hemapath {

/// Keeps memory that tensors free in the process's heap for the next batch to reuse. By
/// default glibc serves every block over 128 KB with its own mmap and unmaps it on free, so
/// each forward pass faults its activations in afresh, page by page: on 512 px tiles through
/// a U-Net that costs 6x the throughput (bench/run, bench/results/). Call once at start-up,
/// before any threads; resident memory then stays at the run's peak instead of dropping back.
void keep_freed_memory_for_reuse();

/// Hands the heap's free pages back to the system (they are faulted in again when next used):
/// after a phase whose allocations the next one will not reuse.
void release_free_memory();

}  // namespace hemapath
