// Freed tensor memory is reused by the next allocation instead of being faulted in afresh.
#include <gtest/gtest.h>

#include <sys/resource.h>

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
  // The heap grows over the first batches (where a freed block lands depends on the small
  // allocations around it), then batches of one size reuse it.
  for (int warm_up = 0; warm_up < 3; ++warm_up) faults_of_one_batch();
  const long again = faults_of_one_batch();
  EXPECT_LT(again, 1600) << "a second 64 MiB batch faulted " << again << " pages in: its memory was not reused";
}

}  // namespace
}  // namespace hemapath
