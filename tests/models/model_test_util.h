#pragma once
// Helpers shared by the model tests.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"

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

// A classification model file of `arch` with `classes` generic class names and the
// architecture's fresh initialisation (seed it first for reproducible weights); returns `path`.
inline std::string save_classifier(const std::string& path, const std::string& arch, int64_t classes) {
  ClassifierHeader h;
  h.arch = arch;
  h.options.num_classes = classes;
  for (int64_t c = 0; c < classes; ++c) h.classes.push_back("c" + std::to_string(c));
  auto model = create_classifier(arch, h.options);
  save_model_file(path, h.to_json(), *model);
  return path;
}

}  // namespace hemapath::testing
