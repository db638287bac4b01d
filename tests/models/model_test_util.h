#pragma once
// Helpers shared by the model tests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include <map>
#include <string>
#include <vector>

#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/weight_import.h"

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

// Runs `forward` (an eval-mode model) on the input of `dir`/ARCH_io.pt, which the torchvision
// export scripts write with logits scaled to peak at 1, and expects its reference output within
// 1e-4. `min_std` guards against a degenerate reference (two zero maps would also agree).
inline void expect_reference_output(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                    const std::filesystem::path& dir, const std::string& arch, double min_std) {
  const hemapath::StateDict io = hemapath::read_state_dict((dir / (arch + "_io.pt")).string());
  const torch::Tensor input = io.at("input");
  const torch::Tensor expected = io.at("output");
  torch::NoGradGuard no_grad;
  const torch::Tensor output = forward(input);
  ASSERT_EQ(output.sizes(), expected.sizes());
  EXPECT_NEAR(expected.abs().max().item<double>(), 1.0, 1e-5);
  EXPECT_GT(expected.std().item<double>(), min_std);
  const double diff = (output - expected).abs().max().item<double>();
  std::cout << "[ parity   ] " << arch << ": max abs diff " << diff << " (input " << input.size(2) << "x"
            << input.size(3) << ")\n";
  EXPECT_LE(diff, 1e-4) << arch;
}

}  // namespace hemapath::testing
