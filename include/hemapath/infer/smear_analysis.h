#pragma once
/// Two-stage blood-smear analysis: segmenters find the red and the white cells, classifiers
/// type each one (red-cell morphology from a crop centred on the cell; white-cell type from
/// the cell cut out with its outline), all in one instance map.
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <opencv2/core.hpp>

#include "hemapath/infer/cell_measurements.h"
#include "hemapath/infer/inference_options.h"

namespace hemapath {

struct SmearModelPaths {
  std::string red_segmenter, red_classifier, white_segmenter, white_classifier;
};

struct SmearOptions {
  InferenceOptions inference;  ///< device and plan of every model's inference engine
  int batch_size = 64;
  /// A red-cell candidate with more than this share of its pixels inside a white cell is part
  /// of that white cell (the red-cell segmenter has never been taught white cells), not a red cell.
  double white_overlap = 0.3;
  /// Smears are resized by this factor for the red-cell stages, so that their red cells have
  /// the size in px the red-cell models learnt (about 40 px across in the Chula smears): for
  /// a smear at another magnification or camera resolution.
  double red_scale = 1;
  /// Views of each red-cell crop averaged by the red-cell classifier (PredictorOptions::symmetries):
  /// 8 (flips and quarter turns) was best on the bundled classifier's validation crops.
  int red_symmetries = 8;
};

enum class CellKind { red, white };

/// "red" or "white".
const char* kind_name(CellKind kind);

struct SmearCell {
  CellKind kind = CellKind::red;
  int class_index = 0;               ///< into the classes of its kind
  std::vector<float> probabilities;  ///< one per class of its kind
  CellMeasurement measurement;       ///< measurement.id is the cell's id in the instance map
};

/// Seconds spent in each stage on one image.
struct StageSeconds {
  double red_segmentation = 0, red_classification = 0, white_segmentation = 0, white_classification = 0;
  double total() const { return red_segmentation + red_classification + white_segmentation + white_classification; }
  StageSeconds& operator+=(const StageSeconds& o) {
    red_segmentation += o.red_segmentation, red_classification += o.red_classification;
    white_segmentation += o.white_segmentation, white_classification += o.white_classification;
    return *this;
  }
};

struct SmearResult {
  /// CV_32S: red cells 1..R, then white cells R+1..R+W, 0 background.
  cv::Mat labels;
  std::vector<SmearCell> cells;  ///< ascending by id
  StageSeconds seconds;
  size_t count(CellKind kind) const;
};

class SmearAnalyzer {
 public:
  /// Loads the four models. ModelFileError naming the file when one is missing or damaged, or of
  /// the wrong task (a segmenter where a classifier is expected, and so on).
  SmearAnalyzer(const SmearModelPaths& paths, const SmearOptions& options);
  ~SmearAnalyzer();
  SmearAnalyzer(const SmearAnalyzer&) = delete;
  SmearAnalyzer& operator=(const SmearAnalyzer&) = delete;

  const std::vector<std::string>& classes(CellKind kind) const;
  /// Smallest side (px) an image needs: the segmenters must see at least a few cells' width.
  static constexpr int kMinSide = 32;

  /// Both stages on one CV_8UC3 RGB smear. InputError for another type or a side below kMinSide.
  SmearResult analyze(const cv::Mat& rgb) const;

 private:
  struct Models;
  std::unique_ptr<Models> models_;
  SmearOptions options_;
};

}  // namespace hemapath
