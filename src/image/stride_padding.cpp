#include "hemapath/image/stride_padding.h"

#include "hemapath/core/error.h"

namespace hemapath {

Padding padding_to_multiple(int64_t height, int64_t width, int64_t stride) {
  HP_CHECK(stride >= 1, InputError, "stride ", stride, ": expected at least 1");
  HP_CHECK(height >= 1 && width >= 1, InputError, "cannot pad an empty image (", height, " x ", width, " px)");
  const int64_t extra_h = (stride - height % stride) % stride, extra_w = (stride - width % stride) % stride;
  return {extra_h / 2, extra_h - extra_h / 2, extra_w / 2, extra_w - extra_w / 2};
}

torch::Tensor pad_image(const torch::Tensor& image, const Padding& padding) {
  HP_CHECK(image.dim() == 3 || image.dim() == 4, InputError, "pad_image: expected [C,H,W] or [N,C,H,W], got ",
           image.sizes());
  if (padding.empty()) return image;
  const bool batched = image.dim() == 4;
  const torch::Tensor x = batched ? image : image.unsqueeze(0);
  const int64_t h = x.size(2), w = x.size(3);
  // Reflection needs each pad smaller than the side it mirrors.
  const bool reflect = padding.top < h && padding.bottom < h && padding.left < w && padding.right < w;
  namespace F = torch::nn::functional;
  F::PadFuncOptions options({padding.left, padding.right, padding.top, padding.bottom});
  if (reflect)
    options.mode(torch::kReflect);
  else
    options.mode(torch::kReplicate);
  const torch::Tensor padded = F::pad(x, options);
  return batched ? padded : padded.squeeze(0);
}

torch::Tensor crop_padding(const torch::Tensor& map, const Padding& padding) {
  HP_CHECK(map.dim() >= 2, InputError, "crop_padding: expected at least 2 dimensions, got ", map.sizes());
  const int64_t h = map.size(-2), w = map.size(-1);
  HP_CHECK(padding.top + padding.bottom < h && padding.left + padding.right < w, InputError, "crop_padding: a ", h,
           " x ", w, " map cannot lose ", padding.top + padding.bottom, " x ", padding.left + padding.right, " px");
  return map.slice(-2, padding.top, h - padding.bottom).slice(-1, padding.left, w - padding.right);
}

}  // namespace hemapath
