#pragma once
/// "Precise BatchNorm" (Wu & Johnson, "Rethinking BatchNorm", 2021): before a model is
/// evaluated, its batch norms' running statistics are re-estimated as exact averages over
/// training images, instead of the exponential moving average training leaves. Short
/// schedules and slow momenta (torchvision's MobileNetV3 uses 0.01) otherwise leave the
/// statistics far from the data, and eval-mode predictions collapse to one class.
#include <torch/torch.h>

#include <functional>
#include <optional>

namespace hemapath {

/// Resets the running statistics of every BatchNorm module of `model` that is in training
/// mode (frozen ones, in eval mode, keep theirs) and re-estimates them from the batches
/// `next_batch` yields ([N,C,H,W] on the model's device; nullopt ends), run forward without
/// gradients. Momenta and training modes are restored afterwards. Returns the images seen;
/// with none, the statistics are left as they were.
int64_t recalibrate_batch_norm(torch::nn::Module& model,
                               const std::function<std::optional<torch::Tensor>()>& next_batch,
                               const std::function<torch::Tensor(const torch::Tensor&)>& forward);

}  // namespace hemapath
