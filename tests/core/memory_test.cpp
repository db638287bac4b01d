// Freed tensor memory is reused by the next allocation instead of being faulted in afresh.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>

#include <torch/torch.h>

#include "hemapath/core/memory.h"

namespace hemapath {
namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Minor page faults of allocating and writing a 64 MiB tensor (16384 pages of 4 KiB).
long faults_of_one_batch() {
  const long before = minor_faults();
  torch::Tensor activations = torch::empty({16 * 1024 * 1024}, torch::kFloat);
  activations.fill_(1);
  return minor_faults() - before;
}

TEST(Memory, FreedActivationsAreReusedWithoutFaultingPagesIn) {
  keep_freed_memory_for_reuse();
  // The heap grows over the first batches, then batches of one size reuse it. Where a freed
  // block lands depends on the small allocations around it, which other threads of the process
  // make at times of their own, so a later batch may still find the heap grown once more: the
  // check is that batches do reuse it, not that every one does. Without the setting every batch
  // maps its block afresh and faults all 16384 pages in.
  for (int warm_up = 0; warm_up < 3; ++warm_up) faults_of_one_batch();
  long fewest = faults_of_one_batch();
  for (int batch = 1; batch < 5; ++batch) fewest = std::min(fewest, faults_of_one_batch());
  EXPECT_LT(fewest, 1600) << "each of 5 more 64 MiB batches faulted at least " << fewest
                          << " pages in: their memory was not reused";
}

}  // namespace
}  // namespace hemapath
