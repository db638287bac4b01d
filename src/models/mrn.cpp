#include "hemapath/models/mrn.h"

#include <algorithm>
#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {

MrnImpl::MrnImpl(const MrnOptions& options) : options_(options) {
  HP_CHECK(options.num_classes() >= 1 && options.in_channels() >= 1 && options.width() >= 1, ConfigError,
           "MRN needs num_classes, in_channels and width of at least 1");
  HP_CHECK(options.depth() >= 1 && options.depth() <= 8, ConfigError, "MRN depth is ", options.depth(),
           ": expected 1 to 8 downsamplings");
  HP_CHECK(options.context_ratio() > 1, ConfigError, "MRN context_ratio is ", options.context_ratio(),
           ": expected > 1 (the context patch's mpp over the fine patch's)");
  HP_CHECK(options.context_width() >= 0, ConfigError, "MRN context_width must be >= 0");
  const int64_t width = options.width();
  const int64_t context_width = options.context_width() > 0 ? options.context_width() : width;
  down_list_ = torch::nn::ModuleList();
  context_list_ = torch::nn::ModuleList();
  up_list_ = torch::nn::ModuleList();
  for (int64_t level = 0; level <= options.depth(); ++level) {
    down_.push_back(unet_double_conv(level == 0 ? options.in_channels() : width << (level - 1), width << level));
    down_list_->push_back(down_.back());
    context_.push_back(
        unet_double_conv(level == 0 ? options.in_channels() : context_width << (level - 1), context_width << level));
    context_list_->push_back(context_.back());
  }
  for (int64_t level = 0; level < options.depth(); ++level) {
    up_.push_back(UNetUp(width << (level + 1), (width + context_width) << level, width << level, options.upsampling()));
    up_list_->push_back(up_.back());
  }
  register_module("down", down_list_);
  register_module("context", context_list_);
  // The bottleneck's joined fine + context features back to the fine width, so every decoder
  // level is a plain U-Net level.
  bottleneck_ = register_module(
      "bottleneck", torch::nn::Conv2d(torch::nn::Conv2dOptions((width + context_width) << options.depth(),
                                                               width << options.depth(), 1)));
  register_module("up", up_list_);
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, options.num_classes(), 1)));
  init_weights(*down_list_, LinearInit::kDefault);
  init_weights(*context_list_, LinearInit::kDefault);
  init_weights(*up_list_, LinearInit::kDefault);
  torch::NoGradGuard no_grad;
  for (auto* conv : {&bottleneck_, &head_}) {
    torch::nn::init::kaiming_normal_((*conv)->weight, 0.0, torch::kFanOut, torch::kReLU);
    (*conv)->bias.zero_();
  }
}

torch::Tensor MrnImpl::context_view(const torch::Tensor& context, at::IntArrayRef size) const {
  namespace F = torch::nn::functional;
  const int64_t h = context.size(2), w = context.size(3);
  const int64_t ch = std::max<int64_t>(1, std::llround(h / options_.context_ratio()));
  const int64_t cw = std::max<int64_t>(1, std::llround(w / options_.context_ratio()));
  const torch::Tensor centre = context.narrow(2, (h - ch) / 2, ch).narrow(3, (w - cw) / 2, cw);
  return F::interpolate(centre, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{size[0], size[1]})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

torch::Tensor MrnImpl::forward(torch::Tensor x) {
  check_input(x, 2 * options_.in_channels());
  const int64_t c = options_.in_channels();
  torch::Tensor fine = x.narrow(1, 0, c), context = x.narrow(1, c, c);
  std::vector<torch::Tensor> skips;
  for (size_t level = 0; level < down_.size(); ++level) {
    if (level > 0) {
      fine = torch::max_pool2d(fine, 2, 2);
      context = torch::max_pool2d(context, 2, 2);
    }
    fine = down_[level]->forward(fine);
    context = context_[level]->forward(context);
    skips.push_back(torch::cat({fine, context_view(context, {fine.size(2), fine.size(3)})}, 1));
  }
  torch::Tensor y = bottleneck_->forward(skips.back());
  for (int64_t level = options_.depth() - 1; level >= 0; --level) y = up_[level]->forward(y, skips[level]);
  return head_->forward(y);
}

}  // namespace hemapath
