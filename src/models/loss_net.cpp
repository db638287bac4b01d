#include "hemapath/models/loss_net.h"

#include <string>

#include "hemapath/core/error.h"

namespace hemapath {

LossNetImpl::LossNetImpl(std::vector<int64_t> stage_channels, int64_t width)
    : stage_channels_(std::move(stage_channels)) {
  HP_CHECK(!stage_channels_.empty(), ConfigError, "a loss-prediction head needs at least one stage");
  HP_CHECK(width >= 1, ConfigError, "loss-prediction head width ", width, " must be at least 1");
  fc_ = register_module("fc", torch::nn::ModuleList());
  for (int64_t channels : stage_channels_) fc_->push_back(torch::nn::Linear(channels, width));
  out_ = register_module("out", torch::nn::Linear(width * static_cast<int64_t>(stage_channels_.size()), 1));
}

torch::Tensor LossNetImpl::forward(const std::vector<torch::Tensor>& stage_features) {
  HP_CHECK(stage_features.size() == stage_channels_.size(), InputError, "the loss-prediction head takes ",
           stage_channels_.size(), " stage feature maps, got ", stage_features.size());
  std::vector<torch::Tensor> branches;
  for (size_t i = 0; i < stage_features.size(); ++i) {
    const auto pooled = stage_features[i].mean({2, 3});
    branches.push_back(torch::relu(fc_[i]->as<torch::nn::Linear>()->forward(pooled)));
  }
  return out_->forward(torch::cat(branches, 1)).squeeze(1);
}

torch::Tensor loss_ranking_loss(const torch::Tensor& predicted, const torch::Tensor& target, double margin) {
  HP_CHECK(predicted.dim() == 1 && target.dim() == 1 && predicted.size(0) == target.size(0), InputError,
           "loss ranking: predicted and target losses must be vectors of one length");
  const int64_t pairs = predicted.size(0) / 2;
  HP_CHECK(pairs >= 1, InputError, "loss ranking needs a batch of at least 2 samples, got ", predicted.size(0));
  const auto first = torch::indexing::Slice(0, pairs);
  const auto p = (predicted - predicted.flip(0)).index({first});
  const auto l = (target - target.flip(0)).detach().index({first});
  const auto sign = torch::where(l > 0, torch::ones_like(l), -torch::ones_like(l));
  return torch::clamp_min(margin - sign * p, 0).mean();
}

}  // namespace hemapath
