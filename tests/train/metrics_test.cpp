#include "hemapath/train/metrics.h"

#include <gtest/gtest.h>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

ConfusionMatrix from_rows(const std::vector<std::vector<int>>& rows) {
  ConfusionMatrix m(static_cast<int>(rows.size()));
  for (size_t t = 0; t < rows.size(); ++t)
    for (size_t p = 0; p < rows[t].size(); ++p)
      for (int k = 0; k < rows[t][p]; ++k) m.add(static_cast<int>(t), static_cast<int>(p));
  return m;
}

// Rows = truth, columns = predicted:
//            pred A  pred B  pred C   support
//   true A      4       0       1        5
//   true B      2       0       1        3
//   true C      0       0       0        0
//   predicted   6       0       2      total 8
// B is never predicted (precision undefined -> 0); C has no samples (recall undefined -> 0).
//   accuracy = (4 + 0 + 0) / 8 = 0.5
//   A: P = 4/6 = 2/3, R = 4/5 = 0.8, F1 = 2*4 / (5 + 6) = 8/11
//   B: P = 0 (undefined), R = 0/3 = 0, F1 = 0 / (3 + 0) = 0
//   C: P = 0/2 = 0, R = 0 (undefined), F1 = 0 / (0 + 2) = 0
//   balanced accuracy = mean recall over A, B (C has no support) = (0.8 + 0) / 2 = 0.4
//   macro P = (2/3 + 0 + 0) / 3 = 2/9, macro R = (0.8 + 0 + 0) / 3 = 4/15,
//   macro F1 = (8/11) / 3 = 8/33
//   weighted P = (5 * 2/3 + 3 * 0 + 0 * 0) / 8 = 5/12, weighted R = (5 * 0.8) / 8 = 0.5,
//   weighted F1 = (5 * 8/11) / 8 = 5/11
ConfusionMatrix worked_example() { return from_rows({{4, 0, 1}, {2, 0, 1}, {0, 0, 0}}); }

TEST(ConfusionMatrix, CountsAddsAndMerges) {
  ConfusionMatrix m = worked_example();
  EXPECT_EQ(m.num_classes(), 3);
  EXPECT_EQ(m.total(), 8);
  EXPECT_EQ(m.at(0, 0), 4);
  EXPECT_EQ(m.at(1, 0), 2);
  EXPECT_EQ(m.at(0, 1), 0);
  m.merge(worked_example());
  EXPECT_EQ(m.total(), 16);
  EXPECT_EQ(m.at(1, 2), 2);
  auto rows = m.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<int64_t>{8, 0, 2}));
}

TEST(ConfusionMatrix, RejectsBadClasses) {
  EXPECT_THROW(ConfusionMatrix(0), InputError);
  ConfusionMatrix m(3);
  EXPECT_THROW(m.add(3, 0), InputError);
  EXPECT_THROW(m.add(0, -1), InputError);
  EXPECT_THROW(m.at(0, 3), InputError);
  EXPECT_THROW(m.merge(ConfusionMatrix(2)), InputError);
  EXPECT_EQ(m.total(), 0);
}

TEST(ClassificationReport, WorkedExampleMatchesHandArithmetic) {
  auto r = classification_report(worked_example(), {"A", "B", "C"});
  const double eps = 1e-12;
  EXPECT_NEAR(r.accuracy, 0.5, eps);
  EXPECT_NEAR(r.balanced_accuracy, 0.4, eps);
  ASSERT_EQ(r.per_class.size(), 3u);
  EXPECT_EQ(r.per_class[0].name, "A");
  EXPECT_NEAR(r.per_class[0].precision, 2.0 / 3.0, eps);
  EXPECT_NEAR(r.per_class[0].recall, 0.8, eps);
  EXPECT_NEAR(r.per_class[0].f1, 8.0 / 11.0, eps);
  EXPECT_EQ(r.per_class[0].support, 5);
  EXPECT_FALSE(r.per_class[0].precision_undefined);
  EXPECT_FALSE(r.per_class[0].recall_undefined);

  EXPECT_NEAR(r.per_class[1].precision, 0.0, eps);
  EXPECT_TRUE(r.per_class[1].precision_undefined);
  EXPECT_NEAR(r.per_class[1].recall, 0.0, eps);
  EXPECT_FALSE(r.per_class[1].recall_undefined);
  EXPECT_NEAR(r.per_class[1].f1, 0.0, eps);
  EXPECT_EQ(r.per_class[1].support, 3);

  EXPECT_NEAR(r.per_class[2].precision, 0.0, eps);
  EXPECT_FALSE(r.per_class[2].precision_undefined);
  EXPECT_NEAR(r.per_class[2].recall, 0.0, eps);
  EXPECT_TRUE(r.per_class[2].recall_undefined);
  EXPECT_EQ(r.per_class[2].support, 0);
  EXPECT_TRUE(r.has_undefined);

  EXPECT_NEAR(r.macro_precision, 2.0 / 9.0, eps);
  EXPECT_NEAR(r.macro_recall, 4.0 / 15.0, eps);
  EXPECT_NEAR(r.macro_f1, 8.0 / 33.0, eps);
  EXPECT_NEAR(r.weighted_precision, 5.0 / 12.0, eps);
  EXPECT_NEAR(r.weighted_recall, 0.5, eps);
  EXPECT_NEAR(r.weighted_f1, 5.0 / 11.0, eps);
}

TEST(ClassificationReport, PerfectPredictionsScoreOne) {
  auto r = classification_report(from_rows({{3, 0, 0}, {0, 5, 0}, {0, 0, 2}}), {"n", "l", "m"});
  for (const auto& name : metric_names()) EXPECT_DOUBLE_EQ(metric_by_name(r, name), 1.0) << name;
  EXPECT_DOUBLE_EQ(r.weighted_precision, 1.0);
  EXPECT_DOUBLE_EQ(r.weighted_recall, 1.0);
  for (const auto& m : r.per_class) {
    EXPECT_DOUBLE_EQ(m.precision, 1.0);
    EXPECT_DOUBLE_EQ(m.recall, 1.0);
    EXPECT_DOUBLE_EQ(m.f1, 1.0);
  }
  EXPECT_FALSE(r.has_undefined);
}

TEST(ClassificationReport, RejectsMismatchedNamesAndEmptyMatrix) {
  EXPECT_THROW(classification_report(worked_example(), {"A", "B"}), InputError);
  EXPECT_THROW(classification_report(ConfusionMatrix(2), {"A", "B"}), InputError);
}

TEST(ClassificationReport, MetricByNameReadsFieldsAndListsNamesOnError) {
  auto r = classification_report(worked_example(), {"A", "B", "C"});
  EXPECT_DOUBLE_EQ(metric_by_name(r, "accuracy"), r.accuracy);
  EXPECT_DOUBLE_EQ(metric_by_name(r, "balanced_accuracy"), r.balanced_accuracy);
  EXPECT_DOUBLE_EQ(metric_by_name(r, "macro_f1"), r.macro_f1);
  EXPECT_DOUBLE_EQ(metric_by_name(r, "weighted_f1"), r.weighted_f1);
  EXPECT_DOUBLE_EQ(metric_by_name(r, "macro_precision"), r.macro_precision);
  EXPECT_DOUBLE_EQ(metric_by_name(r, "macro_recall"), r.macro_recall);
  try {
    metric_by_name(r, "f1");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'f1'"), std::string::npos) << msg;
    for (const auto& name : metric_names()) EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

TEST(ClassificationReport, JsonHoldsEveryFigureAndTheMatrix) {
  auto r = classification_report(worked_example(), {"A", "B", "C"});
  auto j = r.to_json();
  EXPECT_EQ(j.at("class_names"), nlohmann::json({"A", "B", "C"}));
  EXPECT_EQ(j.at("num_samples"), 8);
  for (const auto& name : metric_names()) EXPECT_DOUBLE_EQ(j.at(name).get<double>(), metric_by_name(r, name)) << name;
  EXPECT_DOUBLE_EQ(j.at("weighted_precision").get<double>(), 5.0 / 12.0);
  EXPECT_DOUBLE_EQ(j.at("weighted_recall").get<double>(), 0.5);
  EXPECT_TRUE(j.at("has_undefined").get<bool>());
  EXPECT_EQ(j.at("confusion_matrix"), nlohmann::json::parse("[[4,0,1],[2,0,1],[0,0,0]]"));
  ASSERT_EQ(j.at("per_class").size(), 3u);
  const auto& a = j.at("per_class")[0];
  EXPECT_EQ(a.at("name"), "A");
  EXPECT_DOUBLE_EQ(a.at("precision").get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(a.at("recall").get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(a.at("f1").get<double>(), 8.0 / 11.0);
  EXPECT_EQ(a.at("support"), 5);
  EXPECT_TRUE(j.at("per_class")[1].at("precision_undefined").get<bool>());
  EXPECT_TRUE(j.at("per_class")[2].at("recall_undefined").get<bool>());
}

}  // namespace
}  // namespace hemapath
