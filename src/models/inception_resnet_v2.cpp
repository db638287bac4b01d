#include "hemapath/models/inception_resnet_v2.h"

#include <utility>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {
namespace {

constexpr double kInceptionBnEps = 1e-3;

// A plain function, unlike BasicConv2d's forwarding constructor, accepts braced {h, w} sizes.
BasicConv2d basic_conv(int64_t in, int64_t out, torch::ExpandingArray<2> kernel, int64_t stride = 1,
                       torch::ExpandingArray<2> padding = 0) {
  return BasicConv2d(in, out, kernel, stride, padding);
}

SequentialBlock chain(std::initializer_list<BasicConv2d> convs) {
  SequentialBlock seq;
  for (const auto& conv : convs) seq->push_back(conv);
  return seq;
}

torch::nn::MaxPool2d max_pool_3x3_s2() {
  return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2));
}

// Registers `module` under `name` and appends it to `order`, so a forward can run modules
// that are registered by name rather than kept in a Sequential.
template <typename Holder>
void add(torch::nn::Module& parent, std::vector<torch::nn::AnyModule>& order,
         const std::string& name, Holder module) {
  order.emplace_back(parent.register_module(name, std::move(module)));
}

}  // namespace

BasicConv2dImpl::BasicConv2dImpl(int64_t in_channels, int64_t out_channels,
                                 torch::ExpandingArray<2> kernel, int64_t stride,
                                 torch::ExpandingArray<2> padding) {
  conv_ = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                                    .stride(stride)
                                    .padding(padding)
                                    .bias(false)));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels).eps(kInceptionBnEps)));
}

torch::Tensor BasicConv2dImpl::forward(torch::Tensor x) {
  return torch::relu(bn_->forward(conv_->forward(x)));
}

InceptionResNetBlockImpl::InceptionResNetBlockImpl(InceptionResNetBlockKind kind, double scale,
                                                   bool relu)
    : scale_(scale), relu_(relu) {
  int64_t channels = 0;
  int64_t concat = 0;
  switch (kind) {
    case InceptionResNetBlockKind::k35:
      channels = 320;
      add(*this, branches_, "branch0", basic_conv(320, 32, 1));
      add(*this, branches_, "branch1",
          chain({basic_conv(320, 32, 1), basic_conv(32, 32, 3, 1, 1)}));
      add(*this, branches_, "branch2",
          chain(
              {basic_conv(320, 32, 1), basic_conv(32, 48, 3, 1, 1), basic_conv(48, 64, 3, 1, 1)}));
      concat = 32 + 32 + 64;
      break;
    case InceptionResNetBlockKind::k17:
      channels = 1088;
      add(*this, branches_, "branch0", basic_conv(1088, 192, 1));
      add(*this, branches_, "branch1",
          chain({basic_conv(1088, 128, 1), basic_conv(128, 160, {1, 7}, 1, {0, 3}),
                 basic_conv(160, 192, {7, 1}, 1, {3, 0})}));
      concat = 192 + 192;
      break;
    case InceptionResNetBlockKind::k8:
      channels = 2080;
      add(*this, branches_, "branch0", basic_conv(2080, 192, 1));
      add(*this, branches_, "branch1",
          chain({basic_conv(2080, 192, 1), basic_conv(192, 224, {1, 3}, 1, {0, 1}),
                 basic_conv(224, 256, {3, 1}, 1, {1, 0})}));
      concat = 192 + 256;
      break;
  }
  conv2d_ =
      register_module("conv2d", torch::nn::Conv2d(torch::nn::Conv2dOptions(concat, channels, 1)));
}

torch::Tensor InceptionResNetBlockImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> outputs;
  for (auto& branch : branches_) outputs.push_back(branch.forward(x));
  auto out = conv2d_->forward(torch::cat(outputs, 1)) * scale_ + x;
  return relu_ ? torch::relu(out) : out;
}

InceptionMixedImpl::InceptionMixedImpl(const std::string& name) {
  if (name == "mixed_5b") {
    add(*this, branches_, "branch0", basic_conv(192, 96, 1));
    add(*this, branches_, "branch1", chain({basic_conv(192, 48, 1), basic_conv(48, 64, 5, 1, 2)}));
    add(*this, branches_, "branch2",
        chain({basic_conv(192, 64, 1), basic_conv(64, 96, 3, 1, 1), basic_conv(96, 96, 3, 1, 1)}));
    SequentialBlock pool_branch;
    pool_branch->push_back(torch::nn::AvgPool2d(
        torch::nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)));
    pool_branch->push_back(basic_conv(192, 64, 1));
    add(*this, branches_, "branch3", pool_branch);
  } else if (name == "mixed_6a") {
    add(*this, branches_, "branch0", basic_conv(320, 384, 3, 2));
    add(*this, branches_, "branch1",
        chain(
            {basic_conv(320, 256, 1), basic_conv(256, 256, 3, 1, 1), basic_conv(256, 384, 3, 2)}));
    add(*this, branches_, "branch2", max_pool_3x3_s2());
  } else if (name == "mixed_7a") {
    add(*this, branches_, "branch0", chain({basic_conv(1088, 256, 1), basic_conv(256, 384, 3, 2)}));
    add(*this, branches_, "branch1", chain({basic_conv(1088, 256, 1), basic_conv(256, 288, 3, 2)}));
    add(*this, branches_, "branch2",
        chain(
            {basic_conv(1088, 256, 1), basic_conv(256, 288, 3, 1, 1), basic_conv(288, 320, 3, 2)}));
    add(*this, branches_, "branch3", max_pool_3x3_s2());
  } else {
    HP_CHECK(false, ConfigError, "unknown Inception mixed block '", name,
             "': expected mixed_5b, mixed_6a or mixed_7a");
  }
}

torch::Tensor InceptionMixedImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> outputs;
  for (auto& branch : branches_) outputs.push_back(branch.forward(x));
  return torch::cat(outputs, 1);
}

InceptionResNetV2Impl::InceptionResNetV2Impl(const InceptionResNetV2Options& options)
    : options_(options) {
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());
  add(*this, stages_, "conv2d_1a", basic_conv(options.in_channels(), 32, 3, 2));
  add(*this, stages_, "conv2d_2a", basic_conv(32, 32, 3));
  add(*this, stages_, "conv2d_2b", basic_conv(32, 64, 3, 1, 1));
  add(*this, stages_, "maxpool_3a", max_pool_3x3_s2());
  add(*this, stages_, "conv2d_3b", basic_conv(64, 80, 1));
  add(*this, stages_, "conv2d_4a", basic_conv(80, 192, 3));
  add(*this, stages_, "maxpool_5a", max_pool_3x3_s2());
  add(*this, stages_, "mixed_5b", InceptionMixed("mixed_5b"));
  auto repeat = [](InceptionResNetBlockKind kind, int count, double scale) {
    SequentialBlock seq;
    for (int i = 0; i < count; ++i) seq->push_back(InceptionResNetBlock(kind, scale));
    return seq;
  };
  add(*this, stages_, "repeat", repeat(InceptionResNetBlockKind::k35, 10, 0.17));
  add(*this, stages_, "mixed_6a", InceptionMixed("mixed_6a"));
  add(*this, stages_, "repeat_1", repeat(InceptionResNetBlockKind::k17, 20, 0.10));
  add(*this, stages_, "mixed_7a", InceptionMixed("mixed_7a"));
  add(*this, stages_, "repeat_2", repeat(InceptionResNetBlockKind::k8, 9, 0.20));
  add(*this, stages_, "block8",
      InceptionResNetBlock(InceptionResNetBlockKind::k8, 1.0, /*relu=*/false));
  add(*this, stages_, "conv2d_7b", basic_conv(2080, 1536, 1));
  classif_ = register_module("classif", torch::nn::Linear(1536, options.num_classes()));
  init_weights(*this, LinearInit::kDefault);
}

torch::Tensor InceptionResNetV2Impl::forward_features(torch::Tensor x) {
  HP_CHECK(x.dim() == 4 && x.size(2) >= 75 && x.size(3) >= 75, InputError,
           "Inception-ResNet-v2 needs images of at least 75x75 px, got ", x.sizes());
  for (auto& stage : stages_) x = stage.forward(x);
  return x;
}

torch::Tensor InceptionResNetV2Impl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {1, 1}).flatten(1);
  if (options_.dropout() > 0.0) x = torch::dropout(x, options_.dropout(), is_training());
  return classif_->forward(x);
}

}  // namespace hemapath
