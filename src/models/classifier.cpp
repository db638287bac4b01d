#include "hemapath/models/classifier.h"

#include "hemapath/core/error.h"

namespace hemapath {

std::vector<ClassifierImpl::Stage> ClassifierImpl::stages() const {
  const std::string head_module = head_prefix().substr(0, head_prefix().find('.'));
  std::vector<Stage> result;
  for (const auto& child : named_children()) {
    if (child.key() == head_module || child.value()->parameters().empty()) continue;
    if (child.key() != "features") {
      result.push_back({child.key()});
      continue;
    }
    for (const auto& block : child.value()->named_children())
      if (!block.value()->parameters().empty()) result.push_back({"features." + block.key()});
  }
  return result;
}

std::vector<torch::Tensor> ClassifierImpl::forward_stage_features(torch::Tensor /*x*/) {
  // name() is the demangled class, e.g. "hemapath::DenseNetImpl": enough to tell which one.
  throw ConfigError(name() + " cannot serve as a U-Net encoder: it does not expose its stage features "
                    "(expected resnet18, resnet34, resnet50 or efficientnet_b0)");
}

}  // namespace hemapath
