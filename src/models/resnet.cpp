#include "hemapath/models/resnet.h"

#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride, int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3)
                               .stride(stride)
                               .padding(dilation)
                               .dilation(dilation)
                               .bias(false));
}

torch::nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

// The projection shortcut, only where the residual changes resolution or width.
torch::nn::Sequential make_downsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return torch::nn::Sequential(nullptr);
  return torch::nn::Sequential(conv1x1(in, out, stride), torch::nn::BatchNorm2d(out));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride, int64_t dilation,
                               AttentionKind attention, int64_t reduction) {
  conv1_ = register_module("conv1", conv3x3(in_channels, planes, stride, dilation));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1, dilation));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  auto downsample = make_downsample(in_channels, planes * kExpansion, stride);
  if (!downsample.is_empty()) downsample_ = register_module("downsample", downsample);
  if (auto module = make_attention(attention, planes * kExpansion, reduction))
    attention_ = register_module("attention", module);
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  if (attention_) out = attention_->forward(out);
  auto identity = downsample_.is_empty() ? x : downsample_->forward(x);
  return torch::relu(out + identity);
}

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride, int64_t dilation,
                               AttentionKind attention, int64_t reduction) {
  conv1_ = register_module("conv1", conv1x1(in_channels, planes));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, stride, dilation));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3_ = register_module("conv3", conv1x1(planes, planes * kExpansion));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion));
  auto downsample = make_downsample(in_channels, planes * kExpansion, stride);
  if (!downsample.is_empty()) downsample_ = register_module("downsample", downsample);
  if (auto module = make_attention(attention, planes * kExpansion, reduction))
    attention_ = register_module("attention", module);
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_->forward(conv1_->forward(x)));
  out = torch::relu(bn2_->forward(conv2_->forward(out)));
  out = bn3_->forward(conv3_->forward(out));
  if (attention_) out = attention_->forward(out);
  auto identity = downsample_.is_empty() ? x : downsample_->forward(x);
  return torch::relu(out + identity);
}

// torchvision's _make_layer: a dilated stage trades its stride for dilation; its first block
// still runs at the previous dilation, the later ones at the new one.
template <typename Block>
torch::nn::Sequential ResNetImpl::make_stage(int64_t& in_channels, int64_t& dilation, int64_t planes,
                                             int64_t blocks, int64_t stride, bool dilate) {
  const int64_t previous_dilation = dilation;
  if (dilate) {
    dilation *= stride;
    stride = 1;
  }
  torch::nn::Sequential stage;
  for (int64_t i = 0; i < blocks; ++i) {
    stage->push_back(std::make_shared<Block>(in_channels, planes, i == 0 ? stride : 1,
                                             i == 0 ? previous_dilation : dilation, options_.attention(),
                                             options_.attention_reduction()));
    in_channels = planes * Block::kExpansion;
  }
  return stage;
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  std::vector<int64_t> blocks;
  bool bottleneck = false;
  switch (options.depth()) {
    case 18: blocks = {2, 2, 2, 2}; break;
    case 34: blocks = {3, 4, 6, 3}; break;
    case 50: blocks = {3, 4, 6, 3}; bottleneck = true; break;
    case 101: blocks = {3, 4, 23, 3}; bottleneck = true; break;
    case 152: blocks = {3, 8, 36, 3}; bottleneck = true; break;
    default:
      HP_CHECK(false, ConfigError, "ResNet depth ", options.depth(),
               " is not supported: expected 18, 34, 50, 101 or 152");
  }
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());
  HP_CHECK(options.replace_stride_with_dilation().size() == 3, ConfigError,
           "ResNet replace_stride_with_dilation has ", options.replace_stride_with_dilation().size(),
           " entries: expected 3 (layer2, layer3, layer4)");

  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(), 64, 7)
                                     .stride(2)
                                     .padding(3)
                                     .bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t channels = 64;
  int64_t dilation = 1;
  const int64_t planes[4] = {64, 128, 256, 512};
  torch::nn::Sequential stages[4];
  for (int i = 0; i < 4; ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    const bool dilate = i > 0 && options.replace_stride_with_dilation()[i - 1];
    stages[i] = bottleneck
                    ? make_stage<BottleneckImpl>(channels, dilation, planes[i], blocks[i], stride, dilate)
                    : make_stage<BasicBlockImpl>(channels, dilation, planes[i], blocks[i], stride, dilate);
  }
  layer1_ = register_module("layer1", stages[0]);
  layer2_ = register_module("layer2", stages[1]);
  layer3_ = register_module("layer3", stages[2]);
  layer4_ = register_module("layer4", stages[3]);
  fc_ = register_module("fc", torch::nn::Linear(channels, options.num_classes()));
  if (options.loss_net()) {
    const int64_t e = bottleneck ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
    loss_net_ = register_module(
        "loss_net", LossNet(std::vector<int64_t>{64 * e, 128 * e, 256 * e, 512 * e}, options.loss_net_width()));
  }

  init_weights(*this, LinearInit::kDefault);
  if (options.zero_init_residual()) {
    torch::NoGradGuard no_grad;
    for (const auto& module : modules(/*include_self=*/false)) {
      if (auto* block = module->as<BasicBlock>()) block->last_bn()->weight.zero_();
      if (auto* block = module->as<Bottleneck>()) block->last_bn()->weight.zero_();
    }
  }
}

torch::Tensor ResNetImpl::forward_features(torch::Tensor x) {
  x = torch::relu(bn1_->forward(conv1_->forward(x)));
  x = torch::max_pool2d(x, 3, 2, 1);
  return layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(x))));
}

std::vector<torch::Tensor> ResNetImpl::forward_stage_features(torch::Tensor x) {
  std::vector<torch::Tensor> features;
  x = torch::relu(bn1_->forward(conv1_->forward(x)));
  features.push_back(x);
  x = layer1_->forward(torch::max_pool2d(x, 3, 2, 1));
  features.push_back(x);
  for (auto* layer : {&layer2_, &layer3_, &layer4_}) {
    x = (*layer)->forward(x);
    features.push_back(x);
  }
  return features;
}

std::vector<ClassifierImpl::Stage> ResNetImpl::stages() const {
  return {{"conv1", "bn1"}, {"layer1"}, {"layer2"}, {"layer3"}, {"layer4"}};
}

// Features trained in oneDNN's blocked layout (train.memory_format mkldnn) come back plain
// here: LibTorch's linear layer has no kernel for that layout.
torch::Tensor ResNetImpl::pooled(const torch::Tensor& features) {
  torch::Tensor p = torch::adaptive_avg_pool2d(features, {1, 1});
  return (p.is_mkldnn() ? p.to_dense() : p).flatten(1);
}

torch::Tensor ResNetImpl::classify_embedding(const torch::Tensor& embedding, bool sample_dropout) {
  if (options_.dropout() <= 0.0) return fc_->forward(embedding);
  return fc_->forward(torch::dropout(embedding, options_.dropout(), sample_dropout || is_training()));
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  return classify_embedding(pooled(forward_features(std::move(x))), false);
}

ResNetOutputs ResNetImpl::forward_all(torch::Tensor x) {
  std::vector<torch::Tensor> features = forward_stage_features(std::move(x));
  ResNetOutputs out;
  out.stages.assign(features.begin() + 1, features.end());
  out.embedding = pooled(out.stages.back());
  out.logits = classify_embedding(out.embedding, false);
  return out;
}

}  // namespace hemapath
