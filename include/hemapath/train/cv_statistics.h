#pragma once
/// Statistics over cross-validation folds: per-metric summaries and the 5x2cv tests that
/// compare two models trained and tested on the same folds.
#include <array>
#include <string>
#include <vector>

namespace hemapath {

/// Mean and sample standard deviation (n - 1 in the denominator) of per-fold values.
struct MetricSummary {
  std::vector<double> values;
  double mean = 0;
  double std = 0;  ///< 0 for a single value
};
/// InputError when `values` is empty.
MetricSummary summarize(const std::vector<double>& values);

/// A test statistic with its degrees of freedom and two-sided (t) or upper-tail (F) p-value.
struct TestResult {
  std::string name;
  double statistic = 0;
  double df1 = 0, df2 = 0;  ///< df2 = 0 for a t statistic
  double p_value = 1;
};

/// Metric differences (model A minus model B) on the 5 replications x 2 folds of 5x2 CV,
/// indexed [replication][fold].
using FiveByTwo = std::array<std::array<double, 2>, 5>;

/// Dietterich's (1998) 5x2cv paired t-test: t = p_1^(1) / sqrt(mean_i s_i^2), with
/// s_i^2 = sum_j (p_i^(j) - mean_j p_i^(j))^2; t follows Student's t with 5 degrees of
/// freedom under the null hypothesis of equal performance. Two-sided p-value. InputError
/// when every replication has zero variance (the statistic is undefined).
TestResult five_by_two_t_test(const FiveByTwo& differences);

/// Alpaydin's (1999) combined 5x2cv F-test: f = sum_ij (p_i^(j))^2 / (2 sum_i s_i^2),
/// F-distributed with (10, 5) degrees of freedom; more robust than the t-test to which
/// replication happens to come first. Upper-tail p-value.
TestResult five_by_two_f_test(const FiveByTwo& differences);

}  // namespace hemapath
