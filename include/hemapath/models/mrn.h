#pragma once
/// Multi-resolution network (MRN; Gu, Chen, Jiang, Sun, Sheng 2018, "Multi-resolution networks
/// for semantic segmentation in whole slide images"): a U-Net on a fine-resolution patch plus a
/// context encoder on a coarser patch around the same centre. At each encoder level the context
/// features are cropped to the fine patch's field of view, resized to the fine features' size
/// and joined to the U-Net's skip connection, so the decoder sees what lies around the patch.
///
/// Input: one tensor [N, 2C, H, W]: channels 0..C-1 the fine patch, C..2C-1 the context patch of
/// the same H x W px at `context_ratio` times the fine mpp (so it spans context_ratio times the
/// field of view), centred on the same point. H, W multiples of 2^depth.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "hemapath/models/layers.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/unet.h"

namespace hemapath {

struct MrnOptions {
  TORCH_ARG(int64_t, num_classes) = 1;
  TORCH_ARG(int64_t, in_channels) = 3;   ///< per patch (the input has twice this)
  TORCH_ARG(int64_t, depth) = 4;         ///< 2x downsamplings of both encoders (1..8)
  TORCH_ARG(int64_t, width) = 32;        ///< fine channels at level 0, doubled per level
  /// Context encoder channels at level 0 (doubled per level); 0 = the same as width.
  TORCH_ARG(int64_t, context_width) = 0;
  /// Context mpp / fine mpp (> 1): the part of the context maps that the fine patch covers is
  /// their central 1/context_ratio.
  TORCH_ARG(double, context_ratio) = 4.0;
  TORCH_ARG(UpsamplingKind, upsampling) = UpsamplingKind::kBilinear;
};

/// MRN segmenter: [N, 2 * in_channels, H, W] -> logits [N, num_classes, H, W].
/// `down.l` / `context.l` = unet_double_conv of the fine / context encoder at level l (/2^l);
/// `up.l` = UNetUp to level l whose skip is the fine features joined with the cropped, resized
/// context features of that level; the bottleneck joins them too; `head` = 1x1 conv.
class MrnImpl : public SegmenterImpl {
 public:
  explicit MrnImpl(const MrnOptions& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  int64_t output_stride() const override { return int64_t{1} << options_.depth(); }
  const MrnOptions& options() const { return options_; }

 private:
  /// The central 1/context_ratio of `context` ([N, C, h, w]) resized to `size` (bilinear).
  torch::Tensor context_view(const torch::Tensor& context, at::IntArrayRef size) const;

  MrnOptions options_;
  torch::nn::ModuleList down_list_{nullptr}, context_list_{nullptr}, up_list_{nullptr};
  std::vector<SequentialBlock> down_, context_;
  std::vector<UNetUp> up_;
  torch::nn::Conv2d bottleneck_{nullptr};
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(Mrn);

}  // namespace hemapath
