#include "hemapath/image/tensor_convert.h"

#include <vector>

#include "hemapath/core/error.h"

namespace hemapath {

torch::Tensor image_to_tensor(const cv::Mat& rgb, const Normalization& norm) {
  HP_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, InputError,
           "image_to_tensor: expected a non-empty 8-bit RGB image (CV_8UC3)");
  std::array<double, 3> scale, offset;
  norm.affine(scale, offset);
  // Done in OpenCV rather than torch ops: no intra-op thread pool is touched, so loader
  // threads can call this freely, and split() writes straight into the tensor's planes.
  cv::Mat f;
  rgb.convertTo(f, CV_32F);
  cv::multiply(f, cv::Scalar(scale[0], scale[1], scale[2]), f);
  cv::add(f, cv::Scalar(offset[0], offset[1], offset[2]), f);
  torch::Tensor t = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat);
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) planes.emplace_back(rgb.rows, rgb.cols, CV_32F, t[c].data_ptr<float>());
  cv::split(f, planes);
  // split() must have filled the wrapped planes, not reallocated them.
  for (int c = 0; c < 3; ++c)
    HP_CHECK(planes[c].data == reinterpret_cast<uchar*>(t[c].data_ptr<float>()), Error,
             "image_to_tensor: internal error, channel plane was reallocated");
  return t;
}

cv::Mat tensor_to_image(const torch::Tensor& chw, const Normalization& norm) {
  HP_CHECK(chw.dim() == 3 && chw.size(0) == 3, InputError, "tensor_to_image: expected a [3,H,W] tensor, got ",
           chw.sizes());
  std::array<double, 3> scale, offset;
  norm.affine(scale, offset);
  torch::Tensor t = chw.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const int h = int(t.size(1)), w = int(t.size(2));
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) {
    cv::Mat p(h, w, CV_32F, t[c].data_ptr<float>());
    cv::Mat raw;
    p.convertTo(raw, CV_32F, 1.0 / scale[c], -offset[c] / scale[c]);  // back to [0,255]
    planes.push_back(raw);
  }
  cv::Mat merged, out;
  cv::merge(planes, merged);
  merged.convertTo(out, CV_8U);  // rounds and saturates
  return out;
}

}  // namespace hemapath
