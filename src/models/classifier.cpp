#include "hemapath/models/classifier.h"

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

}  // namespace hemapath
