#pragma once
/// Training in channels-last (NHWC) memory format. oneDNN's convolutions and their gradients
/// run faster on NHWC activations and weights on CPUs than on the default NCHW (bench/run
/// measures it), and the numbers are the same up to float rounding.
#include <torch/torch.h>

namespace hemapath {

/// Re-lays every 4-D parameter and buffer of `module` out channels-last, in place (the
/// tensors stay the same objects, so an optimiser built before or after sees them).
void use_channels_last(torch::nn::Module& module);

/// A 4-D batch laid out channels-last; other tensors as they are.
torch::Tensor to_channels_last(const torch::Tensor& batch);

}  // namespace hemapath
