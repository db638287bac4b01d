#pragma once
/// Background batch assembly so the model never waits for decoding and augmentation.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "hemapath/data/classification_dataset.h"

namespace hemapath {

struct Batch {
  torch::Tensor images;         ///< [B,3,S,S] float, normalised
  torch::Tensor labels;         ///< [B] int64 class labels, or [B,H,W] int64 class maps (segmentation)
  std::vector<size_t> indices;  ///< dataset index of each row
};

/// Which share of each batch a loader yields: part `index` of `count` near-equal consecutive
/// parts, as a data-parallel rank's share of the global batch (count 1: the whole batch).
struct BatchPart {
  int index = 0;
  int count = 1;
};

/// Rows [first, second) of part `part` of `n` rows split into near-equal consecutive parts.
std::pair<size_t, size_t> part_bounds(size_t n, const BatchPart& part);

/// One example of a data set: (image [3,H,W], target: a 0-d label or an [H,W] map), for
/// dataset index `i`, augmented from `seed` when `augment`. Called from worker threads.
using ExampleFn = std::function<std::pair<torch::Tensor, torch::Tensor>(size_t i, bool augment, uint64_t seed)>;

/// Produces batches over `order` (dataset indices) in order. Each batch is assembled by one
/// of `workers` background threads, at most a few batches ahead of the consumer
/// (max(2, 2*workers)); workers <= 0 assembles in next() on the calling thread. Sample
/// augmentation seeds are derive_seed(seed, {epoch, position in order}), so batches are
/// identical whatever the thread count or timing, and a `part` of a batch holds exactly the
/// rows, augmented alike, that it holds in the whole batch. An exception while assembling a
/// batch is rethrown from the next() that would have returned it.
class BatchLoader {
 public:
  BatchLoader(const ClassificationDataset& dataset, std::vector<size_t> order, int batch_size, bool augment,
              uint64_t seed, int epoch, int workers, bool drop_last = false, BatchPart part = {});
  /// Batches of any data set of `dataset_size` examples served by `example` (whose images, and
  /// targets, must have one shape within a batch to be stacked).
  BatchLoader(ExampleFn example, size_t dataset_size, std::vector<size_t> order, int batch_size, bool augment,
              uint64_t seed, int epoch, int workers, bool drop_last = false, BatchPart part = {});
  /// Stops and joins the threads, also when not fully consumed.
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// The next batch, or nullopt after the last one.
  std::optional<Batch> next();
  size_t num_batches() const { return num_batches_; }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  Batch make_batch(size_t b) const;
  void work();

  ExampleFn example_;
  std::vector<size_t> order_;
  size_t batch_size_;
  bool augment_;
  uint64_t seed_;
  int epoch_;
  BatchPart part_;
  size_t num_batches_;
  size_t capacity_;

  std::mutex mutex_;
  std::condition_variable ready_cv_;  // a batch was finished
  std::condition_variable space_cv_;  // the consumer took a batch, or stop
  std::map<size_t, Slot> ready_;
  size_t next_to_make_ = 0;
  size_t next_to_return_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace hemapath
