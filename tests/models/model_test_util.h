#pragma once
// Helpers shared by the model tests.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace hemapath::testing {

inline int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

// Parameters and buffers by name, as torchvision's state_dict() lists them.
inline std::map<std::string, std::vector<int64_t>> state_dict_shapes(
    const torch::nn::Module& module) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : module.named_parameters()) {
    shapes[item.key()] = item.value().sizes().vec();
  }
  for (const auto& item : module.named_buffers()) shapes[item.key()] = item.value().sizes().vec();
  return shapes;
}

}  // namespace hemapath::testing
