#pragma once
/// Attention modules that re-weight a residual branch's output before the shortcut is added,
/// as the CBAM paper places them in ResNet blocks: squeeze-excitation (Hu et al. 2018),
/// CBAM (Woo et al. 2018: channel then spatial attention) and ECA (Wang et al. 2020: a 1-D
/// convolution across the pooled channels instead of SE's two fully connected layers).
/// Each maps [N, C, H, W] -> [N, C, H, W].
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hemapath/models/layers.h"

namespace hemapath {

enum class AttentionKind { kNone, kSE, kCBAM, kECA };

/// "none", "se", "cbam" or "eca" -> the kind; ConfigError naming `option` and listing them otherwise.
AttentionKind parse_attention(const std::string& name, const std::string& option = "attention");
std::string attention_name(AttentionKind kind);

/// Base of the attention modules, so a block can hold any of them.
class AttentionImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

/// CBAM (Woo et al. 2018). Channel gate: average- and max-pooled descriptors through one
/// shared MLP (`mlp.0`: C -> C/r, ReLU, `mlp.2`: C/r -> C, with biases), summed, sigmoid.
/// Spatial gate: channel-wise mean and max stacked, `spatial` 7x7 convolution 2 -> 1 (no bias;
/// the paper's BatchNorm after it is left out: a single-channel gate gains nothing from it),
/// sigmoid. Parameters: 2*C*C/r + C/r + C + 98.
class CBAMImpl : public AttentionImpl {
 public:
  CBAMImpl(int64_t channels, int64_t reduction);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  torch::nn::Sequential mlp_{nullptr};
  torch::nn::Conv2d spatial_{nullptr};
};

/// ECA (Wang et al. 2020): global average pool, `conv` a 1-D convolution of odd size k over the
/// channel axis (no bias), sigmoid. k = |log2(C)/2 + 1/2| rounded up to odd (gamma 2, b 1, as
/// the paper), so C = 64 gives 3 and C = 512 gives 5. Parameters: k.
class ECAImpl : public AttentionImpl {
 public:
  explicit ECAImpl(int64_t channels);
  torch::Tensor forward(torch::Tensor x) override;
  /// The kernel size the paper's rule gives for `channels`.
  static int64_t kernel_size(int64_t channels);

 private:
  torch::nn::Conv1d conv_{nullptr};
};

/// Squeeze-excitation as an attention module: layers.h's `SqueezeExcitation` with C/r
/// squeeze channels. Parameters: 2*C*C/r + C/r + C.
class SEAttentionImpl : public AttentionImpl {
 public:
  SEAttentionImpl(int64_t channels, int64_t reduction);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  SqueezeExcitation se_{nullptr};
};

/// The module of `kind` for `channels` channels (`reduction` r for SE and CBAM, at least one
/// hidden unit); nullptr for kNone.
std::shared_ptr<AttentionImpl> make_attention(AttentionKind kind, int64_t channels, int64_t reduction = 16);

}  // namespace hemapath
