#pragma once
/// Padding images to a multiple of a network's stride and cropping its output back, so that
/// any image size can be segmented and the map matches the input pixel for pixel.
#include <torch/torch.h>

#include <cstdint>

namespace hemapath {

/// Pixels added on each side (px).
struct Padding {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  bool empty() const { return top == 0 && bottom == 0 && left == 0 && right == 0; }
};

/// The padding that brings height x width up to multiples of `stride`, split evenly between
/// the two sides (the extra pixel going to the bottom / right) so the image stays centred.
/// InputError for a stride < 1 or an empty size.
Padding padding_to_multiple(int64_t height, int64_t width, int64_t stride);

/// Pads images [N,C,H,W] (or [C,H,W]) by `padding`: reflected where the image is large enough
/// (no artificial edge for the network to see), edge-replicated otherwise.
torch::Tensor pad_image(const torch::Tensor& image, const Padding& padding);

/// The inverse: crops maps [..., H + top + bottom, W + left + right] back to [..., H, W].
torch::Tensor crop_padding(const torch::Tensor& map, const Padding& padding);

}  // namespace hemapath
