#include "hemapath/train/cv_statistics.h"

#include <cmath>
#include <numeric>

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Sum over replications of the within-replication variance s_i^2.
double sum_of_variances(const FiveByTwo& p) {
  double total = 0;
  for (const auto& rep : p) {
    const double mean = (rep[0] + rep[1]) / 2;
    total += (rep[0] - mean) * (rep[0] - mean) + (rep[1] - mean) * (rep[1] - mean);
  }
  return total;
}

}  // namespace

MetricSummary summarize(const std::vector<double>& values) {
  HP_CHECK(!values.empty(), InputError, "no fold results to summarise");
  MetricSummary s;
  s.values = values;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(ss / (values.size() - 1));
  }
  return s;
}

TestResult five_by_two_t_test(const FiveByTwo& p) {
  const double variances = sum_of_variances(p);
  HP_CHECK(variances > 0, InputError,
           "5x2cv t-test: the two models' differences do not vary within any replication; the statistic is undefined");
  TestResult r;
  r.name = "5x2cv paired t-test (Dietterich)";
  r.statistic = p[0][0] / std::sqrt(variances / 5);
  r.df1 = 5;
  boost::math::students_t t(5);
  r.p_value = 2 * boost::math::cdf(boost::math::complement(t, std::abs(r.statistic)));
  return r;
}

TestResult five_by_two_f_test(const FiveByTwo& p) {
  const double variances = sum_of_variances(p);
  HP_CHECK(variances > 0, InputError,
           "5x2cv F-test: the two models' differences do not vary within any replication; the statistic is undefined");
  double squares = 0;
  for (const auto& rep : p) squares += rep[0] * rep[0] + rep[1] * rep[1];
  TestResult r;
  r.name = "combined 5x2cv F-test (Alpaydin)";
  r.statistic = squares / (2 * variances);
  r.df1 = 10;
  r.df2 = 5;
  boost::math::fisher_f f(10, 5);
  r.p_value = boost::math::cdf(boost::math::complement(f, r.statistic));
  return r;
}

}  // namespace hemapath
