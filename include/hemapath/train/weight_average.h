#pragma once
/// An exponential moving average of a model's weights over the optimiser's steps (Polyak
/// averaging, the "model EMA" of timm and YOLO): late in training the weights wander around a
/// minimum with the noise of each batch, and their average tends to sit nearer its centre, so
/// it generalises a little better and varies less from run to run than the last step's weights.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace hemapath {

class WeightAverage {
 public:
  /// Starts the average at `model`'s current parameters and floating-point buffers (batch-norm
  /// statistics are averaged too, so they match the averaged weights). `decay` in (0, 1).
  WeightAverage(torch::nn::Module& model, double decay);

  /// Starts the average afresh at the model's current weights, with no steps counted.
  void reset();

  /// After each optimiser step: average = d * average + (1 - d) * weights, where
  /// d = min(decay, (1 + steps) / (10 + steps)) so the first steps are not outweighed by the
  /// starting weights.
  void update();
  int64_t steps() const { return steps_; }
  /// Exchanges the model's weights with the averages; a second call restores them.
  void swap();

  /// The averages and the step count, under "weight_average" in a checkpoint.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<torch::Tensor> live_;  // the model's own tensors, updated by training
  std::vector<torch::Tensor> average_;
  double decay_;
  int64_t steps_ = 0;
};

/// While alive, the model holds the averaged weights (no effect with a null average).
class AveragedWeightsScope {
 public:
  explicit AveragedWeightsScope(WeightAverage* average) : average_(average) {
    if (average_) average_->swap();
  }
  ~AveragedWeightsScope() {
    if (average_) average_->swap();
  }
  AveragedWeightsScope(const AveragedWeightsScope&) = delete;
  AveragedWeightsScope& operator=(const AveragedWeightsScope&) = delete;

 private:
  WeightAverage* average_;
};

}  // namespace hemapath
