#include <cmath>

#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/data/class_balance.h"

namespace hemapath {
namespace {

TEST(ClassWeights, InverseFrequencyByHand) {
  const auto w = class_weights({0, 0, 0, 1}, 3);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 4.0 / 9);
  EXPECT_DOUBLE_EQ(w[1], 4.0 / 3);
  EXPECT_DOUBLE_EQ(w[2], 0.0);
  const auto root = class_weights({0, 0, 0, 1}, 3, 0.5);
  EXPECT_DOUBLE_EQ(root[0], std::sqrt(4.0 / 9));
  EXPECT_DOUBLE_EQ(root[1], std::sqrt(4.0 / 3));
  EXPECT_DOUBLE_EQ(root[2], 0.0);
  EXPECT_THROW(class_weights({}, 3), InputError);
  EXPECT_THROW(class_weights({0, 3}, 3), InputError);
}

TEST(BalancedOrder, ClassesEquallyLikely) {
  std::vector<int> labels(90, 0);
  labels.insert(labels.end(), 9, 1);
  labels.push_back(3);  // class 2 absent
  Rng rng(11);
  const size_t draws = 30000;
  const auto order = balanced_order(labels, 4, draws, rng);
  ASSERT_EQ(order.size(), draws);
  std::vector<double> freq(4, 0);
  for (size_t i : order) {
    ASSERT_LT(i, labels.size());
    freq[labels[i]] += 1.0 / draws;
  }
  EXPECT_NEAR(freq[0], 1.0 / 3, 0.02);
  EXPECT_NEAR(freq[1], 1.0 / 3, 0.02);
  EXPECT_EQ(freq[2], 0.0);
  EXPECT_NEAR(freq[3], 1.0 / 3, 0.02);
  Rng again(11);
  EXPECT_EQ(balanced_order(labels, 4, draws, again), order);
}

}  // namespace
}  // namespace hemapath
