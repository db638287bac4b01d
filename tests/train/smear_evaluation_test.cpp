// Scoring analyze's cells against red-cell points and white-cell labels and masks.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/train/smear_evaluation.h"

namespace hemapath {
namespace {

SmearCell make_cell(int id, CellKind kind, int class_index, int64_t area) {
  SmearCell cell;
  cell.kind = kind;
  cell.class_index = class_index;
  cell.measurement.id = id;
  cell.measurement.area = area;
  return cell;
}

// Red cells 1 (class 0) and 2 (class 1) side by side, white cell 3 (class 1) below.
SmearResult example() {
  SmearResult r;
  r.labels = cv::Mat::zeros(60, 60, CV_32S);
  cv::rectangle(r.labels, cv::Rect(0, 0, 20, 20), cv::Scalar(1), cv::FILLED);
  cv::rectangle(r.labels, cv::Rect(30, 0, 20, 20), cv::Scalar(2), cv::FILLED);
  cv::rectangle(r.labels, cv::Rect(10, 30, 30, 25), cv::Scalar(3), cv::FILLED);
  r.cells = {make_cell(1, CellKind::red, 0, 400), make_cell(2, CellKind::red, 1, 400),
             make_cell(3, CellKind::white, 1, 750)};
  return r;
}

TEST(RedCellEvaluation, MatchesPointsToRedCellsOnlyAndScoresTheirClasses) {
  // Point classes: normal, uncategorised, target; the model knows normal and target.
  RedCellEvaluation eval({"normal", "uncategorised", "target"}, {"normal", "target"});
  // Cell 1: a normal point (right); cell 2: a normal point (wrong class); a point on the white
  // cell (not a red-cell match); an uncategorised point on background.
  eval.add(example(), {{{5, 5}, 0}, {{35, 5}, 0}, {{20, 40}, 2}, {{55, 55}, 1}});
  const DetectionScore& d = eval.detection();
  EXPECT_EQ(d.cells, 2);
  EXPECT_EQ(d.points, 4);
  EXPECT_EQ(d.matched, 2);
  // Both red cells touch the border: away from it, only the two points off red cells remain.
  const DetectionScore& inner = eval.inner_detection();
  EXPECT_EQ(inner.cells, 0);
  EXPECT_EQ(inner.points, 2);
  EXPECT_EQ(inner.matched, 0);
  EXPECT_TRUE(eval.to_json().contains("detection_away_from_border"));
  const auto report = eval.classes();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->confusion.total(), 2);
  EXPECT_EQ(report->confusion.at(0, 0), 1);
  EXPECT_EQ(report->confusion.at(0, 1), 1);
  EXPECT_DOUBLE_EQ(report->accuracy, 0.5);
  EXPECT_TRUE(eval.to_json().contains("classes_of_matched_cells"));
}

TEST(RedCellEvaluation, UnknownClassesCountForDetectionOnly) {
  RedCellEvaluation eval({"normal", "uncategorised"}, {"normal"});
  eval.add(example(), {{{5, 5}, 1}});
  EXPECT_EQ(eval.detection().matched, 1);
  EXPECT_FALSE(eval.classes().has_value());
}

TEST(WhiteCellEvaluation, TypesFromTheLargestWhiteCellAndDetectionByMaskOverlap) {
  WhiteCellEvaluation eval({"NEUTROPHIL", "LYMPHOCYTE"});
  cv::Mat mask = cv::Mat::zeros(60, 60, CV_8U);
  cv::rectangle(mask, cv::Rect(12, 30, 28, 25), cv::Scalar(2), cv::FILLED);
  eval.add(example(), "LYMPHOCYTE", mask);   // right type, found where the mask is
  eval.add(example(), "NEUTROPHIL", cv::Mat());  // wrong type
  SmearResult none = example();
  none.cells.pop_back();
  eval.add(none, "NEUTROPHIL", mask);  // nothing found
  const auto types = eval.types();
  ASSERT_TRUE(types.has_value());
  EXPECT_EQ(types->confusion.total(), 2);
  EXPECT_DOUBLE_EQ(types->accuracy, 0.5);
  const auto json = eval.to_json();
  EXPECT_EQ(json["types"]["images_without_white_cell"], 1);
  EXPECT_NEAR(json["types"]["accuracy_over_all_images"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_EQ(json["detection"]["images"], 2);
  EXPECT_EQ(json["detection"]["exactly_one_matching_mask_iou50"], 1);
  EXPECT_THROW(eval.add(example(), "BASOPHIL", cv::Mat()), InputError);
}

}  // namespace
}  // namespace hemapath
