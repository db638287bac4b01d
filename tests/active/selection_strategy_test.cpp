// Each selection strategy on hand-made pool scores.
#include <gtest/gtest.h>

#include <set>

#include "hemapath/active/selection_strategy.h"
#include "hemapath/core/error.h"

namespace hemapath {
namespace {

PoolScores probabilities(std::vector<std::vector<float>> rows) {
  PoolScores s;
  std::vector<torch::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r));
  s.probabilities = torch::stack(t);
  s.count = rows.size();
  return s;
}

std::vector<size_t> pick(const std::string& name, const PoolScores& s, size_t k, uint64_t seed = 1) {
  Rng rng(seed);
  return make_strategy(name)->select(s, k, rng);
}

// Row 0: confident; row 1: uniform over three; row 2: split between two; row 3: fairly sure.
PoolScores example() {
  return probabilities({{0.98f, 0.01f, 0.01f}, {1 / 3.f, 1 / 3.f, 1 / 3.f}, {0.5f, 0.5f, 0.0f}, {0.7f, 0.2f, 0.1f}});
}

TEST(Strategies, EntropyPrefersTheFlattestDistribution) {
  // Entropies: 0.112, 1.099, 0.693, 0.802.
  EXPECT_EQ(pick("entropy", example(), 4), (std::vector<size_t>{1, 3, 2, 0}));
}

TEST(Strategies, MarginPrefersTheClosestTopTwo) {
  // Gaps: 0.97, 0 (tie at 0 with row 2, lower row first), 0, 0.5.
  EXPECT_EQ(pick("margin", example(), 4), (std::vector<size_t>{1, 2, 3, 0}));
}

TEST(Strategies, LeastConfidencePrefersTheLowestTopProbability) {
  // 1 - max: 0.02, 0.667, 0.5, 0.3.
  EXPECT_EQ(pick("least_confidence", example(), 2), (std::vector<size_t>{1, 2}));
}

TEST(Strategies, EntropyAndMarginDisagreeWhereTheyShould) {
  // Row 0 spreads over many classes but keeps a clear winner; row 1 is a coin toss between two.
  const auto s = probabilities({{0.4f, 0.15f, 0.15f, 0.15f, 0.15f}, {0.45f, 0.45f, 0.1f, 0.0f, 0.0f}});
  EXPECT_EQ(pick("entropy", s, 1), (std::vector<size_t>{0}));
  EXPECT_EQ(pick("margin", s, 1), (std::vector<size_t>{1}));
}

TEST(Strategies, LearnedLossTakesTheHighestPredictedLoss) {
  PoolScores s;
  s.predicted_loss = torch::tensor({0.3f, 2.0f, -1.0f, 0.9f, 2.0f});
  s.count = 5;
  EXPECT_EQ(pick("learned_loss", s, 3), (std::vector<size_t>{1, 4, 3}));
  EXPECT_THROW(pick("learned_loss", example(), 1), InputError);  // no loss head output
}

TEST(Strategies, BaldPrefersDisagreementBetweenDropoutSamples) {
  // Row 0: every sample says 50/50 (high entropy, no disagreement -> BALD 0).
  // Row 1: samples confidently disagree (BALD ~ log 2). Row 2: all agree on class 0.
  PoolScores s;
  s.mc_probabilities = torch::tensor({{{0.5f, 0.5f}, {0.99f, 0.01f}, {0.9f, 0.1f}},
                                      {{0.5f, 0.5f}, {0.01f, 0.99f}, {0.9f, 0.1f}}});
  s.count = 3;
  const auto rows = pick("bald", s, 3);
  EXPECT_EQ(rows[0], 1u);
  auto scores = dynamic_cast<const ScoringStrategy&>(*make_strategy("bald")).score(s);
  EXPECT_NEAR(scores[0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(scores[2].item<double>(), 0.0, 1e-6);
  EXPECT_GT(scores[1].item<double>(), 0.6);
}

TEST(Strategies, CoresetCoversTheFarthestPoints) {
  // Labelled at the origin; pool on a line at 1, 2, 10, 11 and a far point at -20.
  PoolScores s;
  s.embeddings = torch::tensor({{1.0f}, {2.0f}, {10.0f}, {11.0f}, {-20.0f}});
  s.labelled_embeddings = torch::tensor({{0.0f}});
  s.count = 5;
  // -20 is farthest from 0; then 11 (11 from 0); then 2 (nearest centre 0 or 11: 2 beats 1's 1 and 10's 1).
  EXPECT_EQ(pick("coreset", s, 3), (std::vector<size_t>{4, 3, 1}));
}

TEST(Strategies, RandomIsSeededAndDistinct) {
  PoolScores s;
  s.count = 50;
  const auto a = pick("random", s, 20, 7), b = pick("random", s, 20, 7), c = pick("random", s, 20, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::set<size_t>(a.begin(), a.end()).size(), 20u);
  for (size_t r : a) EXPECT_LT(r, 50u);
}

TEST(Strategies, BadRequestsAreRefused) {
  for (const auto& name : strategy_names()) {
    PoolScores s = example();
    s.predicted_loss = torch::zeros({4});
    s.embeddings = torch::zeros({4, 2});
    s.mc_probabilities = torch::stack({s.probabilities, s.probabilities});
    EXPECT_THROW(pick(name, s, 5), InputError) << name << ": k larger than the pool";
    EXPECT_THROW(pick(name, s, 0), InputError) << name << ": k = 0";
    EXPECT_EQ(pick(name, s, 4).size(), 4u) << name;
  }
  try {
    make_strategy("uncertainty");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("learned_loss"), std::string::npos);
  }
}

}  // namespace
}  // namespace hemapath
