// Adapting a classifier's probabilities to one group's class shares (EM under label shift):
// recovering known shares, the prior weight's two limits, groups kept apart, bad input.
#include "hemapath/infer/prior_adaptation.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "hemapath/core/error.h"
#include "test_support.h"

namespace hemapath {
namespace {

const std::vector<double> kTrainingShares = {0.5, 0.3, 0.2};

// Cells whose true classes are drawn from `shares`; each shows one of four features, drawn
// from its class's row of a known feature table, and the exact posterior of its feature
// under the training shares is what a calibrated classifier would output.
struct LabelledPosteriors {
  torch::Tensor probabilities;  // [N, 3] float
  torch::Tensor labels;         // [N] long
};

LabelledPosteriors draw_cells(const std::vector<double>& shares, int64_t n, uint64_t seed) {
  const torch::Tensor feature_given_class = torch::tensor({{0.70, 0.10, 0.10, 0.10},  //
                                                           {0.15, 0.60, 0.15, 0.10},
                                                           {0.10, 0.25, 0.25, 0.40}},
                                                          torch::kDouble);
  torch::manual_seed(seed);
  const torch::Tensor labels = torch::multinomial(torch::tensor(shares, torch::kDouble), n, true);
  const torch::Tensor features = torch::multinomial(feature_given_class.index_select(0, labels), 1).squeeze(1);
  torch::Tensor joint = feature_given_class.t().index_select(0, features) *
                        torch::tensor(kTrainingShares, torch::kDouble).unsqueeze(0);
  return {(joint / joint.sum(1, true)).to(torch::kFloat), labels};
}

double accuracy(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  return probabilities.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
}

TEST(PriorAdaptation, RecoversAShiftedGroupsSharesAndClassifiesItBetter) {
  const std::vector<double> smear = {0.1, 0.1, 0.8};
  const LabelledPosteriors cells = draw_cells(smear, 4000, 1);
  std::vector<double> estimated;
  const torch::Tensor adapted = adapt_to_prior(cells.probabilities, kTrainingShares, 0, &estimated);

  ASSERT_EQ(estimated.size(), 3u);
  for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(estimated[c], smear[c], 0.04) << "class " << c;
  EXPECT_EQ(adapted.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(adapted.sum(1), torch::ones({4000}), 1e-5, 1e-5));
  // Judged against the training odds, most cells of the smear's main class are called class 0 or 1.
  const double before = accuracy(cells.probabilities, cells.labels), after = accuracy(adapted, cells.labels);
  EXPECT_LT(before, 0.55);
  EXPECT_GT(after, before + 0.2) << before << " -> " << after;
}

TEST(PriorAdaptation, AGroupDrawnAtTheTrainingSharesBarelyMoves) {
  const LabelledPosteriors cells = draw_cells(kTrainingShares, 4000, 2);
  std::vector<double> estimated;
  const torch::Tensor adapted = adapt_to_prior(cells.probabilities, kTrainingShares, 0, &estimated);
  for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(estimated[c], kTrainingShares[c], 0.04) << "class " << c;
  EXPECT_GT(accuracy(adapted, cells.labels), accuracy(cells.probabilities, cells.labels) - 0.02);
}

TEST(PriorAdaptation, ThePriorWeightPullsSmallGroupsTowardsTheTrainingShares) {
  const LabelledPosteriors cells = draw_cells({0.1, 0.1, 0.8}, 20, 3);
  std::vector<double> free_shares, weighted_shares, fixed_shares;
  adapt_to_prior(cells.probabilities, kTrainingShares, 0, &free_shares);
  adapt_to_prior(cells.probabilities, kTrainingShares, 20, &weighted_shares);
  const torch::Tensor fixed = adapt_to_prior(cells.probabilities, kTrainingShares, 1e9, &fixed_shares);
  // Class 2's estimate lies between the free estimate and the training share.
  EXPECT_GT(free_shares[2], weighted_shares[2]);
  EXPECT_GT(weighted_shares[2], kTrainingShares[2] + 0.05);
  // An overwhelming weight leaves the classifier's own probabilities.
  for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(fixed_shares[c], kTrainingShares[c], 1e-6);
  EXPECT_TRUE(torch::allclose(fixed, cells.probabilities, 1e-5, 1e-6));
}

TEST(PriorAdaptation, EachGroupIsAdaptedOnItsOwn) {
  const LabelledPosteriors a = draw_cells({0.1, 0.1, 0.8}, 60, 4), b = draw_cells({0.8, 0.1, 0.1}, 40, 5);
  // Interleave the two groups' rows: a b a b ... then the rest of a.
  std::vector<int64_t> order;
  std::vector<std::string> groups;
  for (int64_t i = 0; i < 60; ++i) {
    order.push_back(i), groups.push_back("smear a");
    if (i < 40) order.push_back(60 + i), groups.push_back("smear b");
  }
  const torch::Tensor mixed = torch::cat({a.probabilities, b.probabilities}).index_select(0, torch::tensor(order));
  const torch::Tensor adapted = adapt_by_group(mixed, groups, kTrainingShares, 5);

  const torch::Tensor a_alone = adapt_to_prior(a.probabilities, kTrainingShares, 5);
  const torch::Tensor b_alone = adapt_to_prior(b.probabilities, kTrainingShares, 5);
  for (size_t row = 0; row < order.size(); ++row) {
    const int64_t source = order[row];
    const torch::Tensor expected = source < 60 ? a_alone[source] : b_alone[source - 60];
    ASSERT_TRUE(torch::allclose(adapted[row], expected, 1e-6, 1e-7)) << "row " << row;
  }
  // Adapting both as one group would not give the same answer.
  EXPECT_FALSE(torch::allclose(adapt_to_prior(mixed, kTrainingShares, 5), adapted, 1e-3, 1e-3));
}

TEST(PriorAdaptation, NoRowsAndBadInput) {
  const torch::Tensor none = torch::zeros({0, 3});
  std::vector<double> estimated;
  EXPECT_EQ(adapt_to_prior(none, kTrainingShares, 10, &estimated).size(0), 0);
  EXPECT_EQ(estimated, kTrainingShares);

  const torch::Tensor p = torch::full({2, 3}, 1.0 / 3);
  std::string error = test::error_of<ConfigError>([&] { adapt_to_prior(p, kTrainingShares, -1); });
  EXPECT_TRUE(test::contains(error, "prior weight is -1")) << error;
  error = test::error_of<InputError>([&] { adapt_to_prior(p, {0.5, 0.5}, 10); });
  EXPECT_TRUE(test::contains(error, "2 training shares for 3 classes")) << error;
  error = test::error_of<InputError>([&] { adapt_to_prior(p, {0.5, 0.5, 0}, 10); });
  EXPECT_TRUE(test::contains(error, "every share > 0")) << error;
  error = test::error_of<InputError>([&] { adapt_by_group(p, {"a"}, kTrainingShares, 10); });
  EXPECT_TRUE(test::contains(error, "1 group names for 2 rows")) << error;
}

}  // namespace
}  // namespace hemapath
