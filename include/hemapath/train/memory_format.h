#pragma once
/// The memory layout a network trains in (config key `train.memory_format`). oneDNN's
/// convolutions and their gradients are fastest in channels-last (NHWC) for the classifiers
/// (EfficientNet's depthwise convolutions most of all), while the U-Net and MRN, with their
/// thin layers, upsampling and concatenations, train faster in the default NCHW layout
/// (bench/run measures both; docs/speed.md). The numbers agree up to float rounding.
#include <string>

#include <torch/torch.h>

namespace hemapath {

/// The torch layout named `name` (one of training_memory_formats(), train_config.h; std::invalid_argument
/// otherwise: configs are checked when read).
torch::MemoryFormat training_memory_format(const std::string& name);

/// Re-lays every 4-D parameter and buffer of `module` out in `format`, in place (the tensors
/// stay the same objects, so an optimiser built before or after sees them).
void use_memory_format(torch::nn::Module& module, torch::MemoryFormat format);

/// A 4-D batch laid out in `format`; other tensors as they are.
torch::Tensor to_memory_format(const torch::Tensor& batch, torch::MemoryFormat format);

}  // namespace hemapath
