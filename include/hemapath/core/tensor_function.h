#pragma once
/// A network as inference loops see it: one float tensor in, one tensor out, batch first
/// (a module's forward, or an InferenceEngine).
#include <functional>

#include <torch/torch.h>

namespace hemapath {

using TensorFunction = std::function<torch::Tensor(const torch::Tensor&)>;

}  // namespace hemapath
