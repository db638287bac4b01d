#include "hemapath/infer/smear_analysis.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/core/progress.h"
#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/infer/predictor.h"
#include "hemapath/infer/segmentation_predictor.h"

namespace hemapath {

const char* kind_name(CellKind kind) { return kind == CellKind::red ? "red" : "white"; }

size_t SmearResult::count(CellKind kind) const {
  size_t n = 0;
  for (const auto& cell : cells) n += cell.kind == kind;
  return n;
}

struct SmearAnalyzer::Models {
  SegmentationPredictor red_segmenter, white_segmenter;
  ClassifierPredictor red_classifier, white_classifier;
};

namespace {

using Clock = std::chrono::steady_clock;

// Gives each cell its class and probabilities from rows of `probabilities` [N, C].
void assign_classes(std::vector<SmearCell>& cells, const torch::Tensor& probabilities) {
  auto p = probabilities.accessor<float, 2>();
  for (size_t i = 0; i < cells.size(); ++i) {
    cells[i].probabilities.assign(p[i].data(), p[i].data() + p.size(1));
    cells[i].class_index = static_cast<int>(
        std::max_element(cells[i].probabilities.begin(), cells[i].probabilities.end()) - cells[i].probabilities.begin());
  }
}

// Red-cell candidates minus white-cell pixels; a candidate with more than `white_overlap` of
// its area in a white cell is dropped. The rest are numbered 1..R into `labels`.
std::vector<SmearCell> keep_red_cells(const cv::Mat& candidates, const cv::Mat& white, double white_overlap,
                                      const cv::Mat& rgb, cv::Mat& labels) {
  std::map<int, std::pair<int64_t, int64_t>> area;  // id -> (pixels, pixels inside a white cell)
  for (int y = 0; y < candidates.rows; ++y)
    for (int x = 0; x < candidates.cols; ++x)
      if (const int id = candidates.at<int>(y, x)) {
        ++area[id].first;
        area[id].second += white.at<int>(y, x) != 0;
      }
  cv::Mat kept = cv::Mat::zeros(candidates.size(), CV_32S);
  for (int y = 0; y < candidates.rows; ++y)
    for (int x = 0; x < candidates.cols; ++x) {
      const int id = candidates.at<int>(y, x);
      if (id && !white.at<int>(y, x) && area[id].second <= white_overlap * static_cast<double>(area[id].first))
        kept.at<int>(y, x) = id;
    }
  std::vector<SmearCell> cells;
  for (CellMeasurement m : measure_instances(kept, rgb)) {
    const cv::Mat inside = kept(m.bbox) == m.id;
    m.id = static_cast<int>(cells.size()) + 1;
    labels(m.bbox).setTo(m.id, inside);
    cells.push_back({CellKind::red, 0, {}, m});
  }
  return cells;
}

}  // namespace

SmearAnalyzer::SmearAnalyzer(const SmearModelPaths& paths, const SmearOptions& options)
    : models_(new Models{
          SegmentationPredictor(paths.red_segmenter, options.inference),
          SegmentationPredictor(paths.white_segmenter, options.inference),
          ClassifierPredictor(paths.red_classifier, {options.inference, options.batch_size, 1, options.red_symmetries}),
          ClassifierPredictor(paths.white_classifier, {options.inference, options.batch_size, 1})}),
      options_(options) {}

SmearAnalyzer::~SmearAnalyzer() = default;

const std::vector<std::string>& SmearAnalyzer::classes(CellKind kind) const {
  return kind == CellKind::red ? models_->red_classifier.header().classes : models_->white_classifier.header().classes;
}

SmearResult SmearAnalyzer::analyze(const cv::Mat& rgb) const {
  HP_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, InputError, "smear analysis needs an 8-bit RGB image");
  HP_CHECK(rgb.cols >= kMinSide && rgb.rows >= kMinSide, InputError, "image is ", rgb.cols, "x", rgb.rows,
           " px: a smear needs at least ", kMinSide, " px on each side");
  SmearResult result;
  const Models& m = *models_;

  auto start = Clock::now();
  const SegmentationPredictor& ws = m.white_segmenter;
  const cv::Mat white = ws.cells(ws.predict(rgb), ws.instance_options());
  result.seconds.white_segmentation = seconds_since(start);

  start = Clock::now();
  const SegmentationPredictor& rs = m.red_segmenter;
  const double f = options_.red_scale;
  cv::Mat red_input = rgb;
  if (f != 1) cv::resize(rgb, red_input, scaled_size(rgb.size(), f), 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat red_candidates = rs.cells(rs.predict(red_input), rs.instance_options());
  if (f != 1) cv::resize(red_candidates, red_candidates, rgb.size(), 0, 0, cv::INTER_NEAREST);
  result.labels = cv::Mat::zeros(rgb.size(), CV_32S);
  std::vector<SmearCell> red = keep_red_cells(red_candidates, white, options_.white_overlap, rgb, result.labels);
  result.seconds.red_segmentation = seconds_since(start);

  start = Clock::now();
  // Crops come from the rescaled smear: the classifier learnt cells of the training smears' size.
  const int red_side = m.red_classifier.header().crop.centred_side();
  std::vector<cv::Mat> crops;
  for (const auto& cell : red)
    crops.push_back(crop_centred(red_input, {cell.measurement.centroid_x * f, cell.measurement.centroid_y * f}, red_side));
  assign_classes(red, m.red_classifier.classify(crops));
  result.seconds.red_classification = seconds_since(start);

  start = Clock::now();
  std::vector<SmearCell> whites;
  crops.clear();
  for (CellMeasurement cell : measure_instances(white, rgb)) {
    const cv::Mat mask = white == cell.id;
    crops.push_back(crop_cell(rgb, mask, m.white_classifier.header().crop, "white cell"));
    cell.id = static_cast<int>(red.size() + whites.size()) + 1;
    result.labels.setTo(cell.id, mask);
    whites.push_back({CellKind::white, 0, {}, cell});
  }
  assign_classes(whites, m.white_classifier.classify(crops));
  result.seconds.white_classification = seconds_since(start);

  result.cells = std::move(red);
  result.cells.insert(result.cells.end(), whites.begin(), whites.end());
  return result;
}

}  // namespace hemapath
