#pragma once
/// Pixel-wise segmentation losses and their weighted sum, as a config chooses them:
///   loss: {cross_entropy: 1, dice: 1, focal: 0, focal_gamma: 2, class_weights: [..], ignore_index: 255}
/// Binary networks (1 output channel) use the sigmoid forms (BCE with a positive-class weight),
/// multi-class networks the softmax forms. L2 weight decay is the optimiser's (train.optimizer).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/core/config.h"

namespace hemapath {

struct SegmentationLossConfig {
  double cross_entropy = 1;  ///< weight of cross-entropy (BCE for binary networks)
  double dice = 0;           ///< weight of the soft Dice loss
  double focal = 0;          ///< weight of the focal loss
  double focal_gamma = 2;    ///< focusing exponent; 0 makes focal equal cross-entropy
  /// Per-class weights of cross-entropy and focal (one per class; for a binary network one
  /// value, the positive class's weight). Empty: all 1.
  std::vector<double> class_weights;
  int64_t ignore_index = -1;  ///< target value excluded from every term (-1: none)

  /// Keys as above; weights >= 0 with a positive sum, gamma in [0, 10]. ConfigError naming the key.
  static SegmentationLossConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
};

/// Cross-entropy (softmax, C > 1) or binary cross-entropy (sigmoid, C == 1) of logits
/// [N,C,H,W] against int64 class indices [N,H,W] over pixels not equal to `ignore_index`,
/// reduced as PyTorch does: with class weights, cross_entropy(weight=w) (divided by the sum of
/// the pixels' weights), binary_cross_entropy_with_logits(pos_weight=w) (divided by the count).
torch::Tensor pixel_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                  const std::vector<double>& class_weights, int64_t ignore_index);

/// 1 - soft Dice, averaged over classes (the foreground only for a binary network):
/// Dice_c = (2 sum p_c y_c + 1) / (sum p_c + sum y_c + 1) over the non-ignored pixels of
/// the batch, p the softmax (sigmoid) probabilities and y the one-hot targets.
torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index);

/// Focal loss (Lin et al. 2017): -w_t (1 - p_t)^gamma log p_t per pixel, p_t the probability of
/// the true class, reduced as pixel_cross_entropy; with gamma 0 it equals pixel_cross_entropy.
torch::Tensor focal_loss(const torch::Tensor& logits, const torch::Tensor& targets, double gamma,
                         const std::vector<double>& class_weights, int64_t ignore_index);

/// The weighted sum the config asks for. InputError when shapes disagree ([N,C,H,W] vs
/// [N,H,W]), a target lies outside 0..C-1 (binary: 0..1) other than ignore_index, or the
/// class weights do not match C.
torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                                const SegmentationLossConfig& config);

}  // namespace hemapath
