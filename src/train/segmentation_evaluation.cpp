#include "hemapath/train/segmentation_evaluation.h"

#include <chrono>
#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/core/json_number.h"
#include "hemapath/core/progress.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

double finite_or_zero(double v) { return std::isfinite(v) ? v : 0; }

// The truth value the figures skip: the unknown pixels of partly labelled masks.
int ignored_target(const SegmentationDataSpec& spec) { return spec.unlabelled_id ? kUnlabelledTarget : -1; }

}  // namespace

double foreground_mean_iou(const SegmentationConfusion& confusion) {
  const std::vector<double> iou = confusion.iou();
  double sum = 0;
  int n = 0;
  for (size_t c = 1; c < iou.size(); ++c)
    if (std::isfinite(iou[c])) sum += iou[c], ++n;
  return n ? sum / n : std::nan("");
}

double segmentation_metric(const SegmentationConfusion& confusion, const std::string& monitor) {
  if (monitor == "foreground_miou") return foreground_mean_iou(confusion);
  if (monitor == "mean_iou") return confusion.mean_iou();
  if (monitor == "mean_dice") return confusion.mean_dice();
  HP_CHECK(monitor == "pixel_accuracy", ConfigError, "unknown segmentation metric '", monitor,
           "': expected foreground_miou, mean_iou, mean_dice or pixel_accuracy");
  return confusion.pixel_accuracy();
}

SegmentationValidation validate_segmenter(SegmenterImpl& model, bool binary, const SegmentationDataset& data,
                                          const std::vector<size_t>& indices, const c10::Device& device) {
  HP_CHECK(!indices.empty(), InputError, "validation: no images to evaluate");
  const auto start = std::chrono::steady_clock::now();
  SegmentationValidation v{SegmentationConfusion(static_cast<int>(data.num_classes()), ignored_target(data.spec())), 0};
  for (size_t i : indices) {
    const torch::Tensor p = segment_probabilities(model, binary, data.whole(i).first, device);
    const torch::Tensor classes = most_probable_class(p, 0);
    const cv::Mat pred(static_cast<int>(classes.size(0)), static_cast<int>(classes.size(1)), CV_8U,
                       classes.data_ptr<uint8_t>());
    v.confusion.add(data.target(i), pred);
  }
  v.seconds = seconds_since(start);
  return v;
}

nlohmann::json SegmentationEvaluation::to_json(const std::vector<std::string>& classes) const {
  nlohmann::json j = {{"images", per_image.size()},
                      {"pixels", confusion.to_json(classes)},
                      {"foreground_miou", number_or_null(foreground_mean_iou(confusion))},
                      {"foreground_iou", number_or_null(foreground.iou()[1])},
                      {"images_per_second", images_per_second}};
  if (instances) j["instances"] = instances->to_json();
  return j;
}

SegmentationEvaluation evaluate_segmentation(const SegmentationPredictor& predictor,
                                             const std::vector<SegmentationPair>& pairs,
                                             const SegmentationDataSpec& spec, const InstanceOptions& instance_options) {
  HP_CHECK(!pairs.empty(), InputError, "evaluation: no image + mask pairs to evaluate");
  const auto& classes = predictor.header().classes;
  HP_CHECK(spec.classes == classes, InputError, "the evaluation data has ", spec.num_classes(),
           " classes but the model was trained on ", classes.size(), " (",
           nlohmann::json(classes).dump(), "): expected the same classes");
  validate(instance_options);
  const auto start = std::chrono::steady_clock::now();
  SegmentationEvaluation e;
  e.confusion = SegmentationConfusion(static_cast<int>(classes.size()), ignored_target(spec));
  e.foreground = SegmentationConfusion(2, ignored_target(spec));
  // Instances are scored against fully labelled masks only: an unlabelled cell is no error.
  const bool with_instances = spec.mask_kind == "instance" && spec.unlabelled_id == 0;
  InstanceMetricsAccumulator all_instances;
  for (const SegmentationPair& pair : pairs) {
    const cv::Mat rgb = read_image_rgb(pair.image_path);
    const cv::Mat mask = read_mask(pair.mask_path);
    const cv::Mat target = segmentation_target(mask, pair, spec, rgb.size());
    const SegmentationMaps maps = predictor.predict(rgb);
    SegmentationConfusion one(static_cast<int>(classes.size()), ignored_target(spec));
    one.add(target, maps.classes);
    e.confusion.add(target, maps.classes);
    cv::Mat foreground_truth = (target != 0) / 255, foreground_predicted = (maps.classes != 0) / 255;
    if (spec.unlabelled_id) foreground_truth.setTo(kUnlabelledTarget, target == kUnlabelledTarget);
    e.foreground.add(foreground_truth, foreground_predicted);
    ImageSegmentationScore score{pair.image_path, finite_or_zero(one.pixel_accuracy()), foreground_mean_iou(one), {}};
    if (with_instances) {
      const cv::Mat cells = predictor.cells(maps, instance_options);
      score.instances = evaluate_instances(mask, cells);
      all_instances.add(mask, cells);
    }
    e.per_image.push_back(std::move(score));
  }
  if (with_instances) e.instances = all_instances.result();
  e.seconds = seconds_since(start);
  e.images_per_second = e.seconds > 0 ? pairs.size() / e.seconds : 0;
  return e;
}

}  // namespace hemapath
