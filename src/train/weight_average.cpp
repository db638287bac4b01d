#include "hemapath/train/weight_average.h"

#include <algorithm>

#include "hemapath/core/error.h"

namespace hemapath {

WeightAverage::WeightAverage(torch::nn::Module& model, double decay) : decay_(decay) {
  HP_CHECK(decay > 0 && decay < 1, ConfigError, "train.optimizer.ema_decay must lie in (0, 1); got ", decay);
  for (const torch::Tensor& p : model.parameters()) live_.push_back(p);
  // Integer buffers (batch norms' batch counts) are counters, not weights: left as they are.
  for (const torch::Tensor& b : model.buffers())
    if (b.is_floating_point()) live_.push_back(b);
  reset();
}

void WeightAverage::reset() {
  average_.clear();
  for (const torch::Tensor& t : live_) average_.push_back(t.detach().clone());
  steps_ = 0;
}

void WeightAverage::update() {
  torch::NoGradGuard no_grad;
  const double d = std::min(decay_, (1.0 + static_cast<double>(steps_)) / (10.0 + static_cast<double>(steps_)));
  for (size_t i = 0; i < live_.size(); ++i) average_[i].mul_(d).add_(live_[i].detach(), 1 - d);
  ++steps_;
}

void WeightAverage::swap() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_.size(); ++i) {
    const torch::Tensor held = live_[i].detach().clone();
    live_[i].detach().copy_(average_[i]);
    average_[i].copy_(held);
  }
}

void WeightAverage::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive own;
  for (size_t i = 0; i < average_.size(); ++i) own.write(std::to_string(i), average_[i]);
  own.write("steps", torch::tensor(steps_));
  archive.write("weight_average", own);
}

void WeightAverage::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive own;
  archive.read("weight_average", own);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < average_.size(); ++i) {
    torch::Tensor saved;
    own.read(std::to_string(i), saved);
    HP_CHECK(saved.sizes() == average_[i].sizes(), InputError,
             "the checkpoint's weight average does not match the model (tensor ", i, ")");
    average_[i].copy_(saved);
  }
  torch::Tensor steps;
  own.read("steps", steps);
  steps_ = steps.item<int64_t>();
}

}  // namespace hemapath
