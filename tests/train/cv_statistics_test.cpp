#include <gtest/gtest.h>

#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/train/cv_statistics.h"

namespace hemapath {

TEST(CvStatistics, SummaryUsesSampleStd) {
  MetricSummary s = summarize({0.8, 0.9, 1.0});
  EXPECT_NEAR(s.mean, 0.9, 1e-12);
  EXPECT_NEAR(s.std, 0.1, 1e-12);  // sqrt((0.01 + 0 + 0.01) / 2)
  EXPECT_DOUBLE_EQ(summarize({0.5}).std, 0);
  EXPECT_THROW(summarize({}), InputError);
}

// Differences worked by hand: replication i has folds (a_i, b_i).
//   rep 1: (0.04, 0.02) mean 0.03, s^2 = 0.0001 + 0.0001 = 0.0002
//   rep 2: (0.03, 0.01) s^2 = 0.0002;  rep 3: (0.05, 0.03) 0.0002
//   rep 4: (0.00, 0.02) 0.0002;        rep 5: (0.02, 0.04) 0.0002
//   sum s^2 = 0.001; t = 0.04 / sqrt(0.001 / 5) = 0.04 / 0.0141421 = 2.828427
//   sum p^2 = 0.0016+0.0004+0.0009+0.0001+0.0025+0.0009+0+0.0004+0.0004+0.0016 = 0.0088
//   f = 0.0088 / (2 * 0.001) = 4.4
TEST(CvStatistics, FiveByTwoStatisticsByHand) {
  FiveByTwo p{{{0.04, 0.02}, {0.03, 0.01}, {0.05, 0.03}, {0.00, 0.02}, {0.02, 0.04}}};
  TestResult t = five_by_two_t_test(p);
  EXPECT_NEAR(t.statistic, 2.0 * std::sqrt(2.0), 1e-9);
  EXPECT_EQ(t.df1, 5);
  // Student's t(5): the two-sided 5% point is 2.5706 and the 2% point 3.3649, so 2.83 lies between.
  EXPECT_LT(t.p_value, 0.05);
  EXPECT_GT(t.p_value, 0.02);
  TestResult f = five_by_two_f_test(p);
  EXPECT_NEAR(f.statistic, 4.4, 1e-9);
  // F(10, 5): the upper 5% point is 4.735 and the 10% point 3.297, so 4.4 lies between.
  EXPECT_GT(f.p_value, 0.05);
  EXPECT_LT(f.p_value, 0.10);
}

TEST(CvStatistics, KnownQuantilesGiveTheirPValues) {
  // A table whose t equals t(5)'s two-sided 5% point, 2.570582: p_1^(1) = 2.570582 * sqrt(sum s^2 / 5).
  FiveByTwo p{{{0, 0}, {0.01, -0.01}, {0, 0}, {0, 0}, {0, 0}}};  // sum s^2 = 0.0002
  p[0][0] = 2.570582 * std::sqrt(0.0002 / 5);
  p[0][1] = p[0][0];  // keeps replication 1's variance at zero
  EXPECT_NEAR(five_by_two_t_test(p).p_value, 0.05, 1e-5);
  FiveByTwo zero{};
  EXPECT_THROW(five_by_two_t_test(zero), InputError);
  EXPECT_THROW(five_by_two_f_test(zero), InputError);
}

}  // namespace hemapath
