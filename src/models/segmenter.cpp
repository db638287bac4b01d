#include "hemapath/models/segmenter.h"

#include <algorithm>

#include "hemapath/core/error.h"

namespace hemapath {

ClassifierPtr SegmenterImpl::encoder() const {
  const std::string prefix = encoder_prefix();
  if (prefix.empty()) return nullptr;
  for (const auto& child : named_children()) {
    if (child.key() == prefix) return std::dynamic_pointer_cast<ClassifierImpl>(child.value());
  }
  return nullptr;
}

void SegmenterImpl::check_input(const torch::Tensor& x, int64_t in_channels) const {
  HP_CHECK(x.dim() == 4 && x.size(1) == in_channels, InputError, "segmentation input has shape ", x.sizes(),
           ": expected [N, ", in_channels, ", H, W]");
  const int64_t stride = output_stride();
  const int64_t h = x.size(2), w = x.size(3);
  auto up = [stride](int64_t v) { return (std::max<int64_t>(v, 1) + stride - 1) / stride * stride; };
  HP_CHECK(h > 0 && w > 0 && h % stride == 0 && w % stride == 0, InputError, "segmentation input is ", h, "x",
           w, " px: height and width must be multiples of the network's output stride ", stride,
           " (pad it to ", up(h), "x", up(w), ")");
}

ClassifierPtr strip_classifier_head(ClassifierPtr classifier) {
  const std::string head = classifier->head_prefix();
  HP_CHECK(head.find('.') == std::string::npos, ConfigError, classifier->name(),
           " cannot serve as a segmentation backbone: its head '", head, "' is not a submodule of its own");
  classifier->unregister_module(head);
  return classifier;
}

}  // namespace hemapath
