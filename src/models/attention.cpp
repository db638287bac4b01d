#include "hemapath/models/attention.h"

#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {

AttentionKind parse_attention(const std::string& name, const std::string& option) {
  if (name == "none") return AttentionKind::kNone;
  if (name == "se") return AttentionKind::kSE;
  if (name == "cbam") return AttentionKind::kCBAM;
  if (name == "eca") return AttentionKind::kECA;
  throw ConfigError("unknown " + option + " '" + name + "': expected one of none, se, cbam, eca");
}

std::string attention_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kSE: return "se";
    case AttentionKind::kCBAM: return "cbam";
    case AttentionKind::kECA: return "eca";
    case AttentionKind::kNone: break;
  }
  return "none";
}

namespace {
int64_t hidden_units(int64_t channels, int64_t reduction) {
  HP_CHECK(reduction >= 1, ConfigError, "attention reduction ", reduction, " must be at least 1");
  return std::max<int64_t>(1, channels / reduction);
}
}  // namespace

CBAMImpl::CBAMImpl(int64_t channels, int64_t reduction) {
  const int64_t hidden = hidden_units(channels, reduction);
  mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(channels, hidden), torch::nn::ReLU(),
                                                      torch::nn::Linear(hidden, channels)));
  spatial_ = register_module("spatial",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 1, 7).padding(3).bias(false)));
}

torch::Tensor CBAMImpl::forward(torch::Tensor x) {
  const auto avg = x.mean({2, 3});
  const auto max = x.amax({2, 3});
  const auto channel_gate = torch::sigmoid(mlp_->forward(avg) + mlp_->forward(max));
  x = x * channel_gate.unsqueeze(-1).unsqueeze(-1);
  const auto pooled = torch::cat({x.mean(1, /*keepdim=*/true), x.amax(1, /*keepdim=*/true)}, 1);
  return x * torch::sigmoid(spatial_->forward(pooled));
}

int64_t ECAImpl::kernel_size(int64_t channels) {
  const auto t = static_cast<int64_t>(std::abs((std::log2(static_cast<double>(channels)) + 1.0) / 2.0));
  return t % 2 ? t : t + 1;
}

ECAImpl::ECAImpl(int64_t channels) {
  const int64_t k = kernel_size(channels);
  conv_ = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 1, k).padding(k / 2).bias(false)));
}

torch::Tensor ECAImpl::forward(torch::Tensor x) {
  const auto descriptor = x.mean({2, 3}).unsqueeze(1);  // [N, 1, C]: channels as a sequence
  const auto gate = torch::sigmoid(conv_->forward(descriptor)).squeeze(1);
  return x * gate.unsqueeze(-1).unsqueeze(-1);
}

SEAttentionImpl::SEAttentionImpl(int64_t channels, int64_t reduction) {
  se_ = register_module("se", SqueezeExcitation(SqueezeExcitationOptions(channels, hidden_units(channels, reduction))));
}

torch::Tensor SEAttentionImpl::forward(torch::Tensor x) { return se_->forward(x); }

std::shared_ptr<AttentionImpl> make_attention(AttentionKind kind, int64_t channels, int64_t reduction) {
  switch (kind) {
    case AttentionKind::kSE: return std::make_shared<SEAttentionImpl>(channels, reduction);
    case AttentionKind::kCBAM: return std::make_shared<CBAMImpl>(channels, reduction);
    case AttentionKind::kECA: return std::make_shared<ECAImpl>(channels);
    case AttentionKind::kNone: break;
  }
  return nullptr;
}

}  // namespace hemapath
