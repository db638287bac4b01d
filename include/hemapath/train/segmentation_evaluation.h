#pragma once
/// Scoring a segmentation network: pixel figures during training (at the model's working
/// scale), and the full evaluation of a model file on image + mask files (at the images' own
/// size, cells cut out as `predict` does, object figures against instance masks).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/infer/instances.h"
#include "hemapath/infer/segmentation_predictor.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/train/segmentation_metrics.h"

namespace hemapath {

/// Mean IoU over the non-background classes (1..C-1) whose IoU is defined; NaN when none is.
/// For a binary problem this is the foreground IoU.
double foreground_mean_iou(const SegmentationConfusion& confusion);

/// The validation figure `monitor` (segmentation_monitor_names()) of a confusion matrix.
double segmentation_metric(const SegmentationConfusion& confusion, const std::string& monitor);

struct SegmentationValidation {
  SegmentationConfusion confusion;
  double seconds = 0;
};

/// Pixel figures of `model` over `indices` of a loaded data set, each image whole (padded to
/// the stride), at the data set's scale. InputError when `indices` is empty.
SegmentationValidation validate_segmenter(SegmenterImpl& model, bool binary, const SegmentationDataset& data,
                                          const std::vector<size_t>& indices, const c10::Device& device);

/// Figures of one evaluated image.
struct ImageSegmentationScore {
  std::string image;
  double pixel_accuracy = 0, foreground_miou = 0;
  std::optional<InstanceMetrics> instances;
};

struct SegmentationEvaluation {
  SegmentationConfusion confusion{2};
  /// Cell (any non-background class) against background: foreground.iou()[1] is the
  /// foreground IoU whatever the classes.
  SegmentationConfusion foreground{2};
  /// Object figures, when the masks are instance masks.
  std::optional<InstanceMetrics> instances;
  std::vector<ImageSegmentationScore> per_image;
  double seconds = 0, images_per_second = 0;

  /// {"images", "pixels": confusion.to_json(classes), "foreground_miou", "foreground_iou",
  /// "instances", "images_per_second"}.
  nlohmann::json to_json(const std::vector<std::string>& classes) const;
};

/// Evaluates a model file on `pairs` (read with `spec`'s mask kind and target, which must give
/// the model's classes): pixel figures against the class targets, and for instance masks the
/// object figures of the cells cut from the predicted foreground with `instance_options`.
/// InputError when `pairs` is empty, the classes differ, or a file is unusable.
SegmentationEvaluation evaluate_segmentation(const SegmentationPredictor& predictor,
                                             const std::vector<SegmentationPair>& pairs,
                                             const SegmentationDataSpec& spec, const InstanceOptions& instance_options);

}  // namespace hemapath
