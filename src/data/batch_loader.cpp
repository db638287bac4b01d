#include "hemapath/data/batch_loader.h"

#include <algorithm>

#include "hemapath/core/error.h"

namespace hemapath {

BatchLoader::BatchLoader(const ClassificationDataset& dataset, std::vector<size_t> order, int batch_size, bool augment,
                         uint64_t seed, int epoch, int workers, bool drop_last, BatchPart part)
    : BatchLoader(
          [&dataset](size_t i, bool augment_example, uint64_t example_seed) {
            return std::make_pair(dataset.image(i, augment_example, example_seed),
                                  torch::scalar_tensor(dataset.sample(i).label, torch::kInt64));
          },
          dataset.size(), std::move(order), batch_size, augment, seed, epoch, workers, drop_last, part) {}

BatchLoader::BatchLoader(ExampleFn example, size_t dataset_size, std::vector<size_t> order, int batch_size,
                         bool augment, uint64_t seed, int epoch, int workers, bool drop_last, BatchPart part)
    : example_(std::move(example)),
      order_(std::move(order)),
      batch_size_(size_t(std::max(batch_size, 1))),
      augment_(augment),
      seed_(seed),
      epoch_(epoch),
      part_(part),
      num_batches_(0),
      capacity_(size_t(std::max(2, 2 * workers))) {
  HP_CHECK(batch_size >= 1, ConfigError, "batch size ", batch_size, " is invalid: expected at least 1");
  for (size_t i : order_)
    HP_CHECK(i < dataset_size, InputError, "batch order contains index ", i, " but the dataset has ", dataset_size,
             " samples");
  num_batches_ = drop_last ? order_.size() / batch_size_ : (order_.size() + batch_size_ - 1) / batch_size_;
  HP_CHECK(part.count >= 1 && part.index >= 0 && part.index < part.count, InputError, "batch part ", part.index, " of ",
           part.count, " is invalid");
  const size_t last_batch = num_batches_ ? std::min(batch_size_, order_.size() - (num_batches_ - 1) * batch_size_) : 0;
  HP_CHECK(num_batches_ == 0 || last_batch >= size_t(part.count), InputError, "a batch of ", last_batch,
           " samples cannot be split among ", part.count, " parts: every part needs at least one");
  const size_t n_threads = std::min(size_t(std::max(workers, 0)), num_batches_);
  for (size_t t = 0; t < n_threads; ++t) threads_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::pair<size_t, size_t> part_bounds(size_t n, const BatchPart& part) {
  return {n * size_t(part.index) / size_t(part.count), n * size_t(part.index + 1) / size_t(part.count)};
}

Batch BatchLoader::make_batch(size_t b) const {
  const size_t batch_begin = b * batch_size_, batch_end = std::min(order_.size(), batch_begin + batch_size_);
  const auto [first, last] = part_bounds(batch_end - batch_begin, part_);
  const size_t begin = batch_begin + first, end = batch_begin + last;
  Batch batch;
  std::vector<torch::Tensor> images, targets;
  for (size_t pos = begin; pos < end; ++pos) {
    if (stop_) throw Error("batch loader stopped");  // only seen by a worker being joined
    const size_t i = order_[pos];
    auto [image, target] = example_(i, augment_, derive_seed(seed_, {uint64_t(epoch_), uint64_t(pos)}));
    images.push_back(std::move(image));
    targets.push_back(std::move(target));
    batch.indices.push_back(i);
  }
  batch.images = torch::stack(images);
  batch.labels = torch::stack(targets);
  return batch;
}

void BatchLoader::work() {
  for (;;) {
    size_t b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stop_ || next_to_make_ >= num_batches_ || next_to_make_ < next_to_return_ + capacity_;
      });
      if (stop_ || next_to_make_ >= num_batches_) return;
      b = next_to_make_++;
    }
    Slot slot;
    try {
      slot.batch = make_batch(b);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(b, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  if (next_to_return_ >= num_batches_) return std::nullopt;
  if (threads_.empty()) return make_batch(next_to_return_++);
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_to_return_) > 0; });
    auto it = ready_.find(next_to_return_);
    slot = std::move(it->second);
    ready_.erase(it);
    ++next_to_return_;
  }
  space_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

}  // namespace hemapath
