#pragma once
/// Segmentation of whole images of any size with a model file: the image is rescaled to the
/// model's working scale, padded to its output stride (or cut into overlapping tiles when
/// large), and the class probabilities come back at the image's own size.
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/core/tensor_function.h"
#include "hemapath/infer/inference_engine.h"
#include "hemapath/infer/instances.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/segmenter.h"

namespace hemapath {

/// Class probabilities [C,H,W] (float, CPU) of a normalised image [3,H,W] (at the model's
/// scale): softmax over the classes, or (1 - p, p) for a binary network. The image is padded to
/// the output stride (stride_padding.h); when larger than `tile` px on a side it is processed
/// in tiles of `tile` px whose outer `overlap` px are discarded where a neighbour covers them,
/// so memory stays bounded and, with an overlap beyond the receptive field, the result equals
/// the whole-image one. `network` gives logits of a batch; `stride` is its output stride.
/// InputError for a wrong shape; ConfigError unless tile and overlap are multiples of the
/// stride, tile > 2 overlap.
torch::Tensor segment_probabilities(const TensorFunction& network, int64_t stride, bool binary,
                                    const torch::Tensor& image, int64_t tile = 1024, int64_t overlap = 64);

/// segment_probabilities of `model` itself, in eval and inference mode on `device` (as
/// validation during training runs it).
torch::Tensor segment_probabilities(SegmenterImpl& model, bool binary, const torch::Tensor& image,
                                    const c10::Device& device, int64_t tile = 1024, int64_t overlap = 64);

/// A segmented image at its own size.
struct SegmentationMaps {
  std::vector<cv::Mat> probabilities;  ///< one CV_32F map per class
  cv::Mat classes;                     ///< CV_8U most probable class per pixel
  /// CV_32F probability of any non-background class (1 - p(background)): what cells are cut from.
  cv::Mat foreground() const;
};

/// The argmax class map (CV_8U) of per-class probability maps (CV_32F, same size).
cv::Mat most_probable_class(const std::vector<cv::Mat>& probabilities);

/// The most probable class (uint8, contiguous) along `class_dim` of class scores, e.g. [N,C,H,W]
/// with class_dim 1. Through `max`: LibTorch's argmax over a dimension that is not the innermost
/// is about 20 times slower (34 against 1.9 ms for one 3x512x512 tile on 2 cores).
torch::Tensor most_probable_class(const torch::Tensor& scores, int64_t class_dim);

/// The cells (instance map, CV_32S) of segmented maps of a model with `target` ("classes",
/// "foreground" or "boundary"; see SegmenterHeader): for a boundary model with `watershed` and
/// `interior_seeds` on, grown from the predicted cell interiors (class 1) over the foreground;
/// otherwise cut from the foreground probability (distance-transform watershed, or connected
/// components).
cv::Mat cells_from_maps(const SegmentationMaps& maps, const std::string& target, const InstanceOptions& options);

class SegmentationPredictor {
 public:
  /// Loads the model file (ModelFileError when unusable) into an inference engine.
  SegmentationPredictor(const std::string& model_path, const InferenceOptions& inference);
  SegmentationPredictor(const std::string& model_path, const c10::Device& device)
      : SegmentationPredictor(model_path, InferenceOptions{device}) {}
  const SegmenterHeader& header() const { return loaded_.header; }
  /// The instance options the model was trained with (its config's `instances`).
  InstanceOptions instance_options() const;

  /// Segments a CV_8UC3 RGB image. InputError for another type or an empty image.
  SegmentationMaps predict(const cv::Mat& rgb) const;
  /// The cells of a segmented image: cells_from_maps with this model's target.
  cv::Mat cells(const SegmentationMaps& maps, const InstanceOptions& options) const;
  /// How cells() separates touching cells with `options`, in words for reports.
  std::string cell_separation(const InstanceOptions& options) const;

 private:
  LoadedSegmenter loaded_;
  InferenceEngine engine_;
};

}  // namespace hemapath
