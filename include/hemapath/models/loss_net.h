#pragma once
/// Learning loss for active learning (Yoo & Kweon, CVPR 2019): a small head that predicts, from
/// a backbone's intermediate features, the loss the classifier will make on a sample. Pool
/// samples with the highest predicted loss are the ones worth labelling.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace hemapath {

/// One branch per backbone stage: global average pool, `fc.{i}` (C_i -> width) and ReLU; the
/// branches are concatenated and `out` (stages * width -> 1) gives the predicted loss.
/// forward: stage feature maps [N, C_i, H_i, W_i], as many as `stage_channels` -> [N].
class LossNetImpl : public torch::nn::Module {
 public:
  LossNetImpl(std::vector<int64_t> stage_channels, int64_t width = 128);
  torch::Tensor forward(const std::vector<torch::Tensor>& stage_features);

 private:
  std::vector<int64_t> stage_channels_;
  torch::nn::ModuleList fc_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(LossNet);

/// The paper's loss-prediction loss: a margin ranking loss over pairs. The batch's first half
/// is paired with its second half reversed (sample i with sample B-1-i, an odd middle sample is
/// left out); for each pair with true losses (l_i, l_j) and predictions (p_i, p_j) the term is
/// max(0, margin - s * (p_i - p_j)) with s = +1 when l_i > l_j, else -1; the mean over pairs.
/// Only the order of the true losses is learnt, not their scale, which drifts during training.
/// `predicted`, `target`: [B] with B >= 2 (InputError otherwise); `target` is not differentiated.
torch::Tensor loss_ranking_loss(const torch::Tensor& predicted, const torch::Tensor& target, double margin = 1.0);

}  // namespace hemapath
