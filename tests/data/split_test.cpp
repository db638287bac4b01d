#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "hemapath/core/error.h"
#include "hemapath/data/split.h"

namespace hemapath {
namespace {

// 50 / 20 / 7 / 3 samples of classes 0..3, interleaved.
std::vector<int> imbalanced_labels() {
  std::vector<int> labels;
  const int counts[4] = {50, 20, 7, 3};
  for (int round = 0; round < 50; ++round)
    for (int c = 0; c < 4; ++c)
      if (round < counts[c]) labels.push_back(c);
  return labels;
}

std::map<int, size_t> per_class(const std::vector<size_t>& part, const std::vector<int>& labels) {
  std::map<int, size_t> out;
  for (size_t i : part) ++out[labels[i]];
  return out;
}

void expect_partition(const std::vector<std::vector<size_t>>& parts, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& p : parts)
    for (size_t i : p) {
      ASSERT_LT(i, n);
      ++seen[i];
    }
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "index " << i;
}

TEST(StratifiedSplit, ProportionsPerClassDisjointCovering) {
  const auto labels = imbalanced_labels();
  const SplitIndices s = stratified_split(labels, 0.7, 0.15, 0.15, 42);
  expect_partition({s.train, s.val, s.test}, labels.size());
  const auto tr = per_class(s.train, labels), va = per_class(s.val, labels), te = per_class(s.test, labels);
  const std::map<int, double> n{{0, 50}, {1, 20}, {2, 7}};
  for (const auto& [c, count] : n) {
    EXPECT_LE(std::abs(double(tr.at(c)) - 0.7 * count), 1.0) << "class " << c;
    EXPECT_LE(std::abs(double(va.at(c)) - 0.15 * count), 1.0) << "class " << c;
    EXPECT_LE(std::abs(double(te.at(c)) - 0.15 * count), 1.0) << "class " << c;
  }
  // 3 samples: one in each part even though 0.15 * 3 rounds to 0.
  EXPECT_EQ(tr.at(3), 1u);
  EXPECT_EQ(va.at(3), 1u);
  EXPECT_EQ(te.at(3), 1u);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
}

TEST(StratifiedSplit, SeedStable) {
  const auto labels = imbalanced_labels();
  const SplitIndices a = stratified_split(labels, 0.6, 0.2, 0.2, 7);
  const SplitIndices b = stratified_split(labels, 0.6, 0.2, 0.2, 7);
  const SplitIndices c = stratified_split(labels, 0.6, 0.2, 0.2, 8);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  EXPECT_EQ(a.train.size(), c.train.size());
}

TEST(StratifiedSplit, ZeroPartStaysEmptyAndBadFractionsRejected) {
  const auto labels = imbalanced_labels();
  const SplitIndices s = stratified_split(labels, 0.8, 0.2, 0.0, 1);
  EXPECT_TRUE(s.test.empty());
  expect_partition({s.train, s.val}, labels.size());
  EXPECT_THROW(stratified_split(labels, 0.8, 0.3, -0.1, 1), ConfigError);
  EXPECT_THROW(stratified_split(labels, 0.7, 0.1, 0.1, 1), ConfigError);
  EXPECT_THROW(stratified_split({}, 0.7, 0.15, 0.15, 1), InputError);
}

TEST(StratifiedKFold, DisjointCoveringBalanced) {
  const auto labels = imbalanced_labels();
  const auto folds = stratified_kfold(labels, 5, 3);
  ASSERT_EQ(folds.size(), 5u);
  expect_partition(folds, labels.size());
  size_t lo = labels.size(), hi = 0;
  for (const auto& f : folds) {
    lo = std::min(lo, f.size());
    hi = std::max(hi, f.size());
  }
  EXPECT_LE(hi - lo, 1u);
  for (int c = 0; c < 4; ++c) {
    size_t clo = labels.size(), chi = 0;
    for (const auto& f : folds) {
      auto pc = per_class(f, labels);
      const size_t k = pc.count(c) ? pc.at(c) : 0;
      clo = std::min(clo, k);
      chi = std::max(chi, k);
    }
    EXPECT_LE(chi - clo, 1u) << "class " << c;
  }
  EXPECT_EQ(stratified_kfold(labels, 5, 3), folds);
  EXPECT_NE(stratified_kfold(labels, 5, 4), folds);
  EXPECT_THROW(stratified_kfold(labels, 1, 3), ConfigError);
  EXPECT_THROW(stratified_kfold({0, 1}, 3, 3), ConfigError);
}

}  // namespace
}  // namespace hemapath
