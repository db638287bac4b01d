// The three stages really overlap (the next input is read, and the last result written, while
// one is computed), keep input order, and a failing stage stops the run with its exception.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hemapath/core/overlapped_pipeline.h"

namespace hemapath {
namespace {

// Waits up to 10 s for `flag`: true once another thread has set it.
bool eventually(const std::atomic<bool>& flag) {
  for (int i = 0; i < 1000 && !flag; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return flag;
}

TEST(OverlappedPipeline, ReadsAheadAndWritesBehindTheComputation) {
  std::atomic<bool> read_second{false}, wrote_first{false};
  std::vector<int> written;
  bool read_ahead = false, wrote_behind = false;
  run_overlapped(
      6, 2,
      [&](size_t i) {
        if (i == 1) read_second = true;
        return static_cast<int>(i) * 10;
      },
      [&](size_t i, int value) {
        if (i == 0) read_ahead = eventually(read_second);   // input 1 is read while 0 computes
        if (i == 1) wrote_behind = eventually(wrote_first);  // output 0 is written while 1 computes
        return value + 1;
      },
      [&](size_t i, int value) {
        written.push_back(value);
        if (i == 0) wrote_first = true;
      });
  EXPECT_TRUE(read_ahead);
  EXPECT_TRUE(wrote_behind);
  EXPECT_EQ(written, (std::vector<int>{1, 11, 21, 31, 41, 51}));
}

TEST(OverlappedPipeline, AFailingStageStopsTheRunAndItsErrorComesBack) {
  for (int failing = 0; failing < 3; ++failing) {
    std::atomic<int> writes{0};
    auto run = [&] {
      run_overlapped(
          100, 2,
          [&](size_t i) {
            if (failing == 0 && i == 5) throw std::runtime_error("read failed");
            return i;
          },
          [&](size_t i, size_t v) {
            if (failing == 1 && i == 5) throw std::runtime_error("process failed");
            return v;
          },
          [&](size_t i, size_t) {
            if (failing == 2 && i == 5) throw std::runtime_error("write failed");
            ++writes;
          });
    };
    EXPECT_THROW(run(), std::runtime_error) << "stage " << failing;
    EXPECT_LE(writes.load(), 5) << "stage " << failing << ": the run went on after the failure";
  }
}

}  // namespace
}  // namespace hemapath
