#pragma once
/// Image classification dataset: samples -> (normalised image tensor, label).
#include <memory>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/data/sample.h"
#include "hemapath/image/augment.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/normalization.h"

namespace hemapath {

struct ClassificationDataOptions {
  CropOptions crop;
  AugmentOptions augment;
  Normalization normalization;
};

/// Decoding + cropping happens once per sample (cached as CV_8UC3 size x size crops),
/// augmentation each time an image is asked for. Movable, not copyable.
class ClassificationDataset {
 public:
  ClassificationDataset(std::vector<Sample> samples, ClassificationDataOptions options);
  ~ClassificationDataset();
  ClassificationDataset(ClassificationDataset&&) noexcept;
  ClassificationDataset& operator=(ClassificationDataset&&) noexcept;

  size_t size() const { return samples_.size(); }
  const Sample& sample(size_t i) const;
  /// The cropped, size x size RGB crop of sample i (decoded on first call, cached;
  /// thread-safe). InputError naming the file when missing/corrupt; a failed load is
  /// retried on the next call.
  const cv::Mat& crop(size_t i) const;
  /// Decodes and caches all crops using `threads` worker threads; the first error is
  /// rethrown after all threads finished.
  void preload(int threads) const;
  /// Float [3,size,size] normalised; augmented with an Rng seeded by `seed` when `augment`
  /// is true (and options().augment.enabled). Thread-safe.
  torch::Tensor image(size_t i, bool augment, uint64_t seed) const;

  const ClassificationDataOptions& options() const { return options_; }
  /// Not to be called while another thread reads images.
  void set_normalization(const Normalization& normalization);

 private:
  struct Cache;
  std::vector<Sample> samples_;
  ClassificationDataOptions options_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace hemapath
