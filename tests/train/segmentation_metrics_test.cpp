// Pixel and object segmentation metrics on hand-computed cases, and on real DSB 2018 masks.
#include "hemapath/train/segmentation_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {

cv::Mat map_of(int rows, int cols, std::initializer_list<int> values) {
  cv::Mat m(rows, cols, CV_32S);
  auto it = values.begin();
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) m.at<int>(y, x) = *it++;
  return m;
}

// truth         pred
// 0 0 1 1       0 0 1 1
// 0 0 1 1       0 1 1 1
// 0 0 2 2       0 0 2 0
// 0 0 2 2       0 0 0 0
// class 0: TP 7, FN 1, FP 3; class 1: TP 4, FP 1; class 2: TP 1, FN 3.
const cv::Mat kTruth = map_of(4, 4, {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 2, 2});
const cv::Mat kPred = map_of(4, 4, {0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0});

TEST(SegmentationMetrics, IouDiceAccuracyOnHandComputedCase) {
  SegmentationConfusion c(3);
  c.add(kTruth, kPred);
  EXPECT_EQ(c.total(), 16);
  EXPECT_EQ(c.at(0, 0), 7);
  EXPECT_EQ(c.at(0, 1), 1);
  EXPECT_EQ(c.at(2, 0), 3);
  const auto iou = c.iou();
  EXPECT_NEAR(iou[0], 7.0 / 11, 1e-12);
  EXPECT_NEAR(iou[1], 4.0 / 5, 1e-12);
  EXPECT_NEAR(iou[2], 1.0 / 4, 1e-12);
  const auto dice = c.dice();
  EXPECT_NEAR(dice[0], 14.0 / 18, 1e-12);
  EXPECT_NEAR(dice[1], 8.0 / 9, 1e-12);
  EXPECT_NEAR(dice[2], 2.0 / 5, 1e-12);
  EXPECT_NEAR(c.pixel_accuracy(), 12.0 / 16, 1e-12);
  EXPECT_NEAR(c.mean_iou(), (7.0 / 11 + 0.8 + 0.25) / 3, 1e-12);

  const nlohmann::json j = c.to_json({"bg", "a", "b"});
  EXPECT_EQ(j["confusion_matrix"][2][0], 3);
  EXPECT_NEAR(j["mean_iou"].get<double>(), c.mean_iou(), 1e-12);
  EXPECT_EQ(j["class_names"][1], "a");
}

TEST(SegmentationMetrics, MeanIouSkipsClassesAbsentFromBothAndAccumulatesOverImages) {
  SegmentationConfusion c(4);  // class 3 appears in neither map
  c.add(kTruth, kPred);
  EXPECT_TRUE(std::isnan(c.iou()[3]));
  EXPECT_NEAR(c.mean_iou(), (7.0 / 11 + 0.8 + 0.25) / 3, 1e-12);
  EXPECT_TRUE(c.to_json()["iou"][3].is_null());
  // Same pair again (as CV_8U): counts double, ratios stay.
  cv::Mat t8, p8;
  kTruth.convertTo(t8, CV_8U);
  kPred.convertTo(p8, CV_8U);
  c.add(t8, p8);
  EXPECT_EQ(c.at(0, 0), 14);
  EXPECT_NEAR(c.iou()[0], 7.0 / 11, 1e-12);
}

TEST(SegmentationMetrics, IgnoreIndexSkipsTruthPixels) {
  cv::Mat truth = kTruth.clone();
  truth.at<int>(2, 2) = 255;  // the one correct class-2 pixel becomes "unlabelled"
  truth.at<int>(3, 3) = 255;  // a class-2 pixel predicted 0
  SegmentationConfusion c(3, 255);
  c.add(truth, kPred);
  EXPECT_EQ(c.total(), 14);
  EXPECT_EQ(c.at(2, 2), 0);
  EXPECT_NEAR(c.iou()[2], 0.0, 1e-12);
  EXPECT_NEAR(c.pixel_accuracy(), 11.0 / 14, 1e-12);
}

TEST(SegmentationMetrics, RejectsMismatchedOrOutOfRangeMapsWithoutCounting) {
  SegmentationConfusion c(3);
  EXPECT_THROW(c.add(kTruth, cv::Mat::zeros(4, 5, CV_32S)), InputError);
  EXPECT_THROW(c.add(kTruth, cv::Mat::zeros(4, 4, CV_32F)), InputError);
  cv::Mat bad = kPred.clone();
  bad.at<int>(3, 3) = 3;
  EXPECT_THROW(c.add(kTruth, bad), InputError);
  EXPECT_EQ(c.total(), 0);
  EXPECT_THROW(SegmentationConfusion(0), ConfigError);
}

// 4 x 8 instance maps with arbitrary ids.
// truth: 10 = rows 0-1 cols 0-1 (4 px); 20 = rows 0-1 cols 4-5 (4 px); 30 = rows 2-3 cols 6-7 (4 px)
// pred:   7 = (0,0) (0,1) (1,0) (3 px, IoU 3/4 with 10); 3 = rows 0-1 cols 3-5 (6 px, IoU 4/6
//         with 20); 99 = (3,0) (1 px, overlaps nothing). 30 is missed.
const cv::Mat kTruthInst = map_of(4, 8, {10, 10, 0, 0, 20, 20, 0,  0,   //
                                         10, 10, 0, 0, 20, 20, 0,  0,   //
                                         0,  0,  0, 0, 0,  0,  30, 30,  //
                                         0,  0,  0, 0, 0,  0,  30, 30});
const cv::Mat kPredInst = map_of(4, 8, {7,  7, 0, 3, 3, 3, 0, 0,  //
                                        7,  0, 0, 3, 3, 3, 0, 0,  //
                                        0,  0, 0, 0, 0, 0, 0, 0,  //
                                        99, 0, 0, 0, 0, 0, 0, 0});

TEST(SegmentationMetrics, InstanceOverlapMatchingAndF1) {
  const InstanceOverlap o = instance_overlap(kTruthInst, kPredInst);
  EXPECT_EQ(o.truth_ids, (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(o.pred_ids, (std::vector<int>{3, 7, 99}));
  EXPECT_EQ(o.pred_areas, (std::vector<int64_t>{6, 3, 1}));
  ASSERT_EQ(o.pairs.size(), 2u);
  EXPECT_EQ(o.pairs[0].truth_id, 10);
  EXPECT_EQ(o.pairs[0].pred_id, 7);
  EXPECT_NEAR(o.pairs[0].iou, 0.75, 1e-12);
  EXPECT_EQ(o.pairs[1].union_area, 6);
  EXPECT_NEAR(o.pairs[1].iou, 4.0 / 6, 1e-12);

  const InstanceMatching m = match_instances(o, 0.5);
  EXPECT_EQ(m.counts.tp, 2);
  EXPECT_EQ(m.counts.fp, 1);
  EXPECT_EQ(m.counts.fn, 1);
  EXPECT_NEAR(m.counts.precision(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.counts.recall(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.counts.f1(), 2.0 / 3, 1e-12);
  // 0.75 is not strictly above 0.75.
  EXPECT_EQ(match_instances(o, 0.7).counts.tp, 1);
  EXPECT_EQ(match_instances(o, 0.75).counts.tp, 0);
}

TEST(SegmentationMetrics, DsbScoreAndAjiOnHandComputedCase) {
  const InstanceOverlap o = instance_overlap(kTruthInst, kPredInst);
  // t = 0.5..0.65: 2 / (2 + 1 + 1); t = 0.7: 1 / (1 + 2 + 2); t >= 0.75: 0.
  EXPECT_NEAR(dsb_average_precision(o), (4 * 0.5 + 0.2) / 10, 1e-12);
  // C = 3 + 4, U = 4 + 6 + 4 (30 unmatched) + 1 (99 unused).
  const AjiTerms aji = aggregated_jaccard(o);
  EXPECT_EQ(aji.intersection, 7);
  EXPECT_EQ(aji.union_area, 15);
  const InstanceMetrics all = evaluate_instances(kTruthInst, kPredInst);
  EXPECT_NEAR(all.aji, 7.0 / 15, 1e-12);
  EXPECT_NEAR(all.f1, 2.0 / 3, 1e-12);
  EXPECT_EQ(all.to_json()["tp"], 2);
}

TEST(SegmentationMetrics, EmptyVersusEmptyIsPerfectAndAllMissedIsZero) {
  const cv::Mat empty = cv::Mat::zeros(4, 8, CV_16U);
  const InstanceMetrics e = evaluate_instances(empty, empty);
  EXPECT_EQ(e.dsb_map, 1.0);
  EXPECT_EQ(e.aji, 1.0);
  EXPECT_EQ(e.f1, 1.0);

  const InstanceMetrics missed = evaluate_instances(kTruthInst, cv::Mat::zeros(4, 8, CV_32S));
  EXPECT_EQ(missed.at50.fn, 3);
  EXPECT_EQ(missed.precision, 0.0);
  EXPECT_EQ(missed.recall, 0.0);
  EXPECT_EQ(missed.f1, 0.0);
  EXPECT_EQ(missed.dsb_map, 0.0);
  EXPECT_EQ(missed.aji, 0.0);
  // Predictions on an empty truth: all false positives.
  EXPECT_EQ(evaluate_instances(cv::Mat::zeros(4, 8, CV_32S), kPredInst).dsb_map, 0.0);
}

TEST(SegmentationMetrics, MatchesAreUniqueAboveHalfAndGreedyBelow) {
  // One prediction exactly covering two true instances: IoU 0.5 with each.
  const cv::Mat truth = map_of(1, 4, {1, 1, 2, 2});
  const cv::Mat pred = map_of(1, 4, {5, 5, 5, 5});
  const InstanceOverlap o = instance_overlap(truth, pred);
  EXPECT_EQ(match_instances(o, 0.5).counts.tp, 0);  // not strictly above 0.5
  const InstanceMatching low = match_instances(o, 0.3);
  EXPECT_EQ(low.counts.tp, 1);  // the prediction is used once
  EXPECT_EQ(low.counts.fn, 1);
  // AJI: the prediction serves both true instances: C = 2 + 2, U = 4 + 4.
  EXPECT_NEAR(aggregated_jaccard(o).value(), 0.5, 1e-12);
}

TEST(SegmentationMetrics, AggregationSumsCountsAveragesDsbAndPoolsAji) {
  InstanceMetricsAccumulator acc;
  acc.add(kTruthInst, kPredInst);
  const cv::Mat empty = cv::Mat::zeros(4, 8, CV_32S);
  acc.add(empty, empty);
  const cv::Mat one = map_of(1, 2, {1, 1});
  acc.add(one, one);  // perfect: TP 1
  const InstanceMetrics r = acc.result();
  EXPECT_EQ(r.images, 3);
  EXPECT_EQ(r.at50.tp, 3);
  EXPECT_NEAR(r.precision, 3.0 / 4, 1e-12);
  EXPECT_NEAR(r.dsb_map, (0.22 + 1 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.aji, (7.0 + 2) / (15 + 2), 1e-12);
  EXPECT_TRUE(std::isnan(InstanceMetricsAccumulator().result().f1));
  EXPECT_THROW(acc.add(kTruthInst, one), InputError);
}

TEST(SegmentationMetrics, RealDsbMasksAgainstThemselvesArePerfect) {
  const auto dir = test::shared_data() / "nuclei-dsb2018" / "masks";
  InstanceMetricsAccumulator acc;
  int64_t nuclei = 0;
  for (const char* name : {"00ae65c1c6631ae6.png", "0121d6759c5adb29.png", "01d44a26f6680c42.png"}) {
    const cv::Mat mask = read_mask((dir / name).string());
    ASSERT_EQ(mask.depth(), CV_16U);
    // Ids shuffled on the prediction side: matching is by overlap, not by id.
    cv::Mat shifted;
    mask.convertTo(shifted, CV_32S);
    shifted.setTo(0, shifted < 0);
    cv::Mat renumbered = shifted * 3 + 1000;
    renumbered.setTo(0, shifted == 0);
    acc.add(mask, renumbered);
    nuclei += evaluate_instances(mask, mask).truth_instances;
  }
  const InstanceMetrics r = acc.result();
  EXPECT_EQ(r.truth_instances, nuclei);
  EXPECT_GT(nuclei, 100);
  EXPECT_EQ(r.at50.tp, nuclei);
  EXPECT_DOUBLE_EQ(r.dsb_map, 1.0);
  EXPECT_DOUBLE_EQ(r.aji, 1.0);
  EXPECT_DOUBLE_EQ(r.f1, 1.0);
}

}  // namespace
}  // namespace hemapath
