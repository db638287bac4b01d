#include "hemapath/infer/segmentation_predictor.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/image/stride_padding.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/train/segmentation_config.h"

namespace hemapath {
namespace {

// Probabilities [C,h,w] of an image [3,h,w] whose sides are multiples of the stride.
torch::Tensor probabilities(const TensorFunction& network, bool binary, const torch::Tensor& image) {
  const torch::Tensor logits = network(image.unsqueeze(0))[0].to(torch::kFloat);
  const torch::Tensor p =
      binary ? torch::cat({1 - torch::sigmoid(logits), torch::sigmoid(logits)}) : torch::softmax(logits, 0);
  return p.to(torch::kCPU);
}

// A tile along one side: where it starts and the [begin, end) part of it that is kept.
struct TileSpan {
  int64_t start, keep_begin, keep_end;
};

// Tiles of `tile` px, `tile - 2 * overlap` apart, the last one flush with the end; each keeps
// its part more than `overlap` px from an inner edge. With tile and overlap multiples of the
// stride every start is one, so tiles see the pooling grid the whole image would.
std::vector<TileSpan> tile_spans(int64_t size, int64_t tile, int64_t overlap) {
  if (size <= tile) return {{0, 0, size}};
  std::vector<TileSpan> spans;
  for (int64_t start = 0;; start += tile - 2 * overlap) {
    const int64_t s = std::min(start, size - tile);
    const bool last = s + tile >= size;
    spans.push_back({s, s == 0 ? 0 : s + overlap, last ? size : s + tile - overlap});
    if (last) return spans;
  }
}

}  // namespace

torch::Tensor segment_probabilities(SegmenterImpl& model, bool binary, const torch::Tensor& image,
                                    const c10::Device& device, int64_t tile, int64_t overlap) {
  model.eval();
  return segment_probabilities([&](const torch::Tensor& x) { return model.forward(x.to(device)); },
                               model.output_stride(), binary, image, tile, overlap);
}

torch::Tensor segment_probabilities(const TensorFunction& network, int64_t stride, bool binary,
                                    const torch::Tensor& image, int64_t tile, int64_t overlap) {
  HP_CHECK(image.dim() == 3 && image.size(0) >= 1 && image.size(1) >= 1 && image.size(2) >= 1, InputError,
           "segmentation input: expected an image tensor [C,H,W], got ", image.sizes());
  HP_CHECK(tile % stride == 0 && overlap % stride == 0 && overlap >= 0 && tile > 2 * overlap, ConfigError,
           "tile ", tile, " px with overlap ", overlap, " px: both must be multiples of the network's stride ", stride,
           " and the tile larger than twice the overlap");
  torch::InferenceMode guard;
  const Padding padding = padding_to_multiple(image.size(1), image.size(2), stride);
  const torch::Tensor padded = pad_image(image, padding);
  const int64_t height = padded.size(1), width = padded.size(2);
  if (height <= tile && width <= tile) return crop_padding(probabilities(network, binary, padded), padding);
  torch::Tensor out;
  for (const TileSpan& y : tile_spans(height, tile, overlap)) {
    for (const TileSpan& x : tile_spans(width, tile, overlap)) {
      const int64_t h = std::min(tile, height), w = std::min(tile, width);
      const torch::Tensor p = probabilities(network, binary, padded.narrow(1, y.start, h).narrow(2, x.start, w));
      if (!out.defined()) out = torch::empty({p.size(0), height, width}, torch::kFloat);
      out.narrow(1, y.keep_begin, y.keep_end - y.keep_begin)
          .narrow(2, x.keep_begin, x.keep_end - x.keep_begin)
          .copy_(p.narrow(1, y.keep_begin - y.start, y.keep_end - y.keep_begin)
                     .narrow(2, x.keep_begin - x.start, x.keep_end - x.keep_begin));
    }
  }
  return crop_padding(out, padding);
}

cv::Mat most_probable_class(const std::vector<cv::Mat>& probabilities) {
  HP_CHECK(!probabilities.empty() && probabilities.size() <= 256, InputError,
           "class probabilities: expected 1 to 256 maps, got ", probabilities.size());
  cv::Mat best = probabilities[0].clone(), classes(best.size(), CV_8U, cv::Scalar(0));
  for (size_t c = 1; c < probabilities.size(); ++c) {
    HP_CHECK(probabilities[c].size() == best.size() && probabilities[c].type() == CV_32F, InputError,
             "class probabilities: every map must be CV_32F of one size");
    const cv::Mat higher = probabilities[c] > best;
    probabilities[c].copyTo(best, higher);
    classes.setTo(static_cast<int>(c), higher);
  }
  return classes;
}

torch::Tensor most_probable_class(const torch::Tensor& scores, int64_t class_dim) {
  HP_CHECK(scores.size(class_dim) <= 256, InputError, "class scores: at most 256 classes fit a uint8 map, got ",
           scores.size(class_dim));
  return std::get<1>(scores.max(class_dim)).to(torch::kUInt8).contiguous();
}

cv::Mat SegmentationMaps::foreground() const {
  HP_CHECK(!probabilities.empty(), InputError, "segmentation maps: no probabilities");
  cv::Mat p = 1 - probabilities[0];
  return p;
}

SegmentationPredictor::SegmentationPredictor(const std::string& model_path, const InferenceOptions& inference)
    : loaded_(load_segmenter(model_path, inference.device)),
      engine_(loaded_.model, [model = loaded_.model](const torch::Tensor& x) { return model->forward(x); }, inference) {}

InstanceOptions SegmentationPredictor::instance_options() const {
  return instance_options_from_json(loaded_.header.instances);
}

SegmentationMaps SegmentationPredictor::predict(const cv::Mat& rgb) const {
  HP_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, InputError, "segmentation: expected an 8-bit RGB image");
  const SegmenterHeader& h = loaded_.header;
  cv::Mat input = rgb;
  if (h.scale != 1)
    cv::resize(rgb, input, scaled_size(rgb.size(), h.scale), 0, 0, h.scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const torch::Tensor p =
      segment_probabilities(engine_.function(), h.output_stride, h.binary(), image_to_tensor(input, h.normalization))
          .contiguous();
  SegmentationMaps maps;
  for (int64_t c = 0; c < p.size(0); ++c) {
    cv::Mat map(static_cast<int>(p.size(1)), static_cast<int>(p.size(2)), CV_32F, p[c].data_ptr<float>());
    if (map.size() != rgb.size())
      cv::resize(map, map, rgb.size(), 0, 0, cv::INTER_LINEAR);
    else
      map = map.clone();
    maps.probabilities.push_back(map);
  }
  maps.classes = most_probable_class(maps.probabilities);
  return maps;
}

cv::Mat cells_from_maps(const SegmentationMaps& maps, const std::string& target, const InstanceOptions& options) {
  if (target == "boundary" && options.watershed && options.interior_seeds)
    return extract_instances_from_seeds(foreground_from_probability(maps.foreground(), options.threshold),
                                        maps.classes == 1, options);
  return extract_instances_from_probability(maps.foreground(), options);
}

cv::Mat SegmentationPredictor::cells(const SegmentationMaps& maps, const InstanceOptions& options) const {
  return cells_from_maps(maps, loaded_.header.target, options);
}

std::string SegmentationPredictor::cell_separation(const InstanceOptions& options) const {
  if (!options.watershed) return "connected components";
  return loaded_.header.target == "boundary" && options.interior_seeds ? "grown from predicted interiors"
                                                                        : "distance-transform watershed";
}

}  // namespace hemapath
