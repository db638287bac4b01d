#pragma once
/// Three stages over a list of inputs, each on its own thread, so that reading the next input
/// and writing the last result overlap with computing the current one: throughput approaches
/// the slowest stage's (the network's) instead of the sum of all three.
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "hemapath/core/bounded_queue.h"

namespace hemapath {

/// Calls read(i) for i = 0..n-1 on a reader thread, process(i, read's value) on the calling
/// thread and write(i, process's value) on a writer thread, in input order, with at most
/// `depth` items waiting between two stages. An exception in any stage stops the others and is
/// rethrown here once every thread has finished.
template <typename Read, typename Process, typename Write>
void run_overlapped(size_t n, size_t depth, Read read, Process process, Write write) {
  using Input = decltype(read(size_t{0}));
  using Output = decltype(process(size_t{0}, std::declval<Input>()));
  BoundedQueue<std::pair<size_t, Input>> inputs(depth);
  BoundedQueue<std::pair<size_t, Output>> outputs(depth);
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto fail = [&](std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = e;
    }
    inputs.close();
    outputs.close();
  };
  std::thread reader([&] {
    try {
      for (size_t i = 0; i < n; ++i)
        if (!inputs.push({i, read(i)})) return;
      inputs.close();
    } catch (...) {
      fail(std::current_exception());
    }
  });
  std::thread writer([&] {
    try {
      while (auto item = outputs.pop()) write(item->first, std::move(item->second));
    } catch (...) {
      fail(std::current_exception());
    }
  });
  try {
    while (auto item = inputs.pop()) {
      if (!outputs.push({item->first, process(item->first, std::move(item->second))})) break;
    }
    outputs.close();
  } catch (...) {
    fail(std::current_exception());
  }
  reader.join();
  writer.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace hemapath
