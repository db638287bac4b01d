#include "hemapath/train/freezing.h"

#include <algorithm>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

bool under_any(const std::string& name, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return name == p || name.rfind(p + ".", 0) == 0; });
}

}  // namespace

std::vector<std::string> frozen_prefixes(const ClassifierImpl& model, const FreezeConfig& freeze) {
  if (freeze.stages == 0) return {};
  const auto stages = model.stages();
  const size_t count = freeze.stages == FreezeConfig::kBackbone ? stages.size() : static_cast<size_t>(freeze.stages);
  HP_CHECK(count <= stages.size(), ConfigError, "train.freeze.stages is ", freeze.stages, " but this architecture has ",
           stages.size(), " stages: expected at most ", stages.size(), " or 'backbone'");
  std::vector<std::string> prefixes;
  for (size_t s = 0; s < count; ++s) prefixes.insert(prefixes.end(), stages[s].begin(), stages[s].end());
  return prefixes;
}

std::vector<std::string> frozen_prefixes(const SegmenterImpl& model, const FreezeConfig& freeze) {
  if (freeze.stages == 0) return {};
  const ClassifierPtr encoder = model.encoder();
  HP_CHECK(encoder != nullptr, ConfigError,
           "train.freeze.stages is set but this segmentation architecture has no classifier backbone to freeze "
           "(a U-Net needs model.extra.encoder)");
  std::vector<std::string> prefixes = frozen_prefixes(*encoder, freeze);
  for (auto& p : prefixes) p = model.encoder_prefix() + "." + p;
  return prefixes;
}

ParameterPartition partition_parameters(const torch::nn::Module& model, const std::vector<std::string>& prefixes) {
  ParameterPartition parts;
  for (const auto& item : model.named_parameters())
    (under_any(item.key(), prefixes) ? parts.frozen : parts.trainable).push_back(item.value());
  return parts;
}

bool frozen_in_epoch(const FreezeConfig& freeze, int epoch) {
  return freeze.stages != 0 && (freeze.unfreeze_epoch == 0 || epoch + 1 < freeze.unfreeze_epoch);
}

void set_frozen(torch::nn::Module& model, const std::vector<std::string>& prefixes, bool frozen) {
  for (auto& item : model.named_parameters())
    if (under_any(item.key(), prefixes)) item.value().requires_grad_(!frozen);
  if (!frozen) return;
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    if (under_any(item.key(), prefixes)) item.value()->eval();
}

}  // namespace hemapath
