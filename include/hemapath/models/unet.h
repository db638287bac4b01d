#pragma once
/// U-Net (Ronneberger et al. 2015) with BatchNorm: a contracting path of double 3x3 convolutions
/// and 2x2 max-pooling, an expanding path that upsamples (bilinear or transposed convolution),
/// concatenates the skip connection of the same resolution and convolves again. Optionally the
/// contracting path is a registered classifier (ResNet-18/34/50, EfficientNet-B0) under the
/// submodule "encoder", whose parameter names below it are the classifier's (torchvision's),
/// as in hemapath's autoencoder, so converted torchvision weights or a pretrained autoencoder's
/// encoder can start it.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"
#include "hemapath/models/layers.h"
#include "hemapath/models/segmenter.h"

namespace hemapath {

/// How a decoder level doubles the resolution.
enum class UpsamplingKind {
  kBilinear,    ///< bilinear x2 (align_corners=false), no parameters; the conv block sees all channels
  kTransposed,  ///< 2x2 transposed convolution, stride 2, to the level's width (the original U-Net)
};

/// Options of `UNet`.
struct UNetOptions {
  TORCH_ARG(int64_t, num_classes) = 1;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Number of 2x downsamplings (1..8); inputs must be multiples of 2^depth. Ignored with an
  /// encoder, whose five stages fix it at 5 (the registry rejects another value).
  TORCH_ARG(int64_t, depth) = 4;
  /// Channels at full resolution (level 0), doubled per level: width * 2^l at level l (/2^l).
  /// With an encoder: the decoder's channels, width * 2^l at /2^l, l = 0..4.
  TORCH_ARG(int64_t, width) = 32;
  TORCH_ARG(UpsamplingKind, upsampling) = UpsamplingKind::kBilinear;
  /// "" (the classic U-Net) or a classifier whose `forward_stage_features` gives /2 .. /32
  /// features: resnet18, resnet34, resnet50, efficientnet_b0.
  TORCH_ARG(std::string, encoder) = "";
};

/// Two conv3x3 (no bias) - BatchNorm - ReLU, in -> out -> out channels, size-preserving:
/// Sequential {0: {0: conv, 1: bn, 2: relu}, 1: {0: conv, 1: bn, 2: relu}}.
SequentialBlock unet_double_conv(int64_t in_channels, int64_t out_channels);

/// One decoder level: x [N, in, h, w] (+ skip [N, skip, 2h, 2w]) -> [N, out, 2h, 2w].
/// `up` (transposed only): ConvTranspose2d(in, out, 2, stride 2) with bias; then the skip is
/// concatenated after the upsampled x, and `conv` = unet_double_conv(up channels + skip, out).
class UNetUpImpl : public torch::nn::Module {
 public:
  UNetUpImpl(int64_t in_channels, int64_t skip_channels, int64_t out_channels, UpsamplingKind kind);
  /// `skip` may be undefined (the encoder U-Net's full-resolution level has none).
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& skip = {});

 private:
  torch::nn::ConvTranspose2d up_{nullptr};
  SequentialBlock conv_{nullptr};
};
TORCH_MODULE(UNetUp);

/// U-Net segmenter: [N, in_channels, H, W] (H, W multiples of 2^depth, or 32 with an encoder)
/// -> logits [N, num_classes, H, W].
///
/// Classic: `down.l` = unet_double_conv at level l (/2^l, width * 2^l channels, l = 0..depth;
/// levels after 0 max-pool first), `up.l` = UNetUp to level l (l = depth-1 .. 0), `head` = 1x1
/// conv (bias) to num_classes.
/// With an encoder: `encoder` = the classifier without its head, its stage features f_0..f_4 at
/// /2../32; `up.l` (l = 4..0) upsamples to /2^l and concatenates f_{l-1} (none at l = 0);
/// `head` as above.
class UNetImpl : public SegmenterImpl {
 public:
  explicit UNetImpl(const UNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  int64_t output_stride() const override;
  std::string encoder_prefix() const override { return encoder_ ? "encoder" : ""; }
  const UNetOptions& options() const { return options_; }

 private:
  UNetOptions options_;
  ClassifierPtr encoder_;
  torch::nn::ModuleList down_list_{nullptr}, up_list_{nullptr};
  std::vector<SequentialBlock> down_;
  std::vector<UNetUp> up_;  ///< up_[l] produces level l
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace hemapath
