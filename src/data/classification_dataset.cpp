#include "hemapath/data/classification_dataset.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "hemapath/core/error.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/io/image_io.h"

namespace hemapath {

// Heap-held so the dataset stays movable: mutexes and atomics are not.
struct ClassificationDataset::Cache {
  explicit Cache(size_t n) : crops(n), locks(n), ready(new std::atomic<bool>[n]) {
    for (size_t i = 0; i < n; ++i) ready[i].store(false);
  }
  std::vector<cv::Mat> crops;
  std::vector<std::mutex> locks;  // one per sample: loads of different samples run in parallel
  std::unique_ptr<std::atomic<bool>[]> ready;
};

ClassificationDataset::ClassificationDataset(std::vector<Sample> samples, ClassificationDataOptions options)
    : samples_(std::move(samples)), options_(std::move(options)), cache_(new Cache(samples_.size())) {}

ClassificationDataset::~ClassificationDataset() = default;
ClassificationDataset::ClassificationDataset(ClassificationDataset&&) noexcept = default;
ClassificationDataset& ClassificationDataset::operator=(ClassificationDataset&&) noexcept = default;

const Sample& ClassificationDataset::sample(size_t i) const {
  HP_CHECK(i < samples_.size(), InputError, "dataset index ", i, " is out of range: the dataset has ",
           samples_.size(), " samples");
  return samples_[i];
}

const cv::Mat& ClassificationDataset::crop(size_t i) const {
  const Sample& s = sample(i);
  if (cache_->ready[i].load(std::memory_order_acquire)) return cache_->crops[i];
  std::lock_guard<std::mutex> lock(cache_->locks[i]);
  if (!cache_->ready[i].load(std::memory_order_relaxed)) {
    const cv::Mat image = read_image_rgb(s.image_path);
    cv::Mat out = s.mask_path.empty()
                      ? fit_to_size(image, options_.crop)
                      : crop_cell(image, read_mask(s.mask_path), options_.crop, s.mask_path);
    cache_->crops[i] = out;
    cache_->ready[i].store(true, std::memory_order_release);
  }
  return cache_->crops[i];
}

void ClassificationDataset::preload(int threads) const {
  const size_t n = samples_.size();
  const size_t count = std::min(n, size_t(std::max(1, threads)));
  if (count <= 1) {
    for (size_t i = 0; i < n; ++i) crop(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        crop(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // stop handing out work
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < count; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

torch::Tensor ClassificationDataset::image(size_t i, bool augment_it, uint64_t seed) const {
  const cv::Mat& cached = crop(i);
  if (!augment_it || !options_.augment.enabled) return image_to_tensor(cached, options_.normalization);
  cv::Mat img = cached.clone();
  Rng rng(seed);
  augment(img, nullptr, options_.augment, rng);
  return image_to_tensor(img, options_.normalization);
}

void ClassificationDataset::set_normalization(const Normalization& normalization) {
  options_.normalization = normalization;
}

}  // namespace hemapath
