#include "hemapath/active/selection_strategy.h"

#include <algorithm>
#include <numeric>

#include "hemapath/core/error.h"
#include "hemapath/data/split.h"

namespace hemapath {

namespace {

void check_k(const std::string& strategy, size_t k, size_t n) {
  HP_CHECK(k >= 1, InputError, strategy, ": nothing to select (k = 0)");
  HP_CHECK(k <= n, InputError, strategy, ": cannot select ", k, " samples from a pool of ", n);
}

const torch::Tensor& require(const torch::Tensor& t, const std::string& strategy, const char* what) {
  HP_CHECK(t.defined(), InputError, strategy, " needs ", what, " of the pool");
  return t;
}

// -sum p log p per row of [..., C]; 0 log 0 counts as 0.
torch::Tensor entropy_of(const torch::Tensor& p) { return -(p * torch::log(p.clamp_min(1e-12))).sum(-1); }

class RandomStrategy : public SelectionStrategy {
 public:
  std::string name() const override { return "random"; }
  StrategyNeeds needs() const override { return {false, false, false, false}; }
  std::vector<size_t> select(const PoolScores& scores, size_t k, Rng& rng) const override {
    const size_t n = scores.size();
    check_k(name(), k, n);
    std::vector<size_t> rows = all_indices(n);
    shuffle_indices(rows, rng);
    rows.resize(k);
    return rows;
  }
};

class EntropyStrategy : public ScoringStrategy {
 public:
  std::string name() const override { return "entropy"; }
  torch::Tensor score(const PoolScores& s) const override {
    return entropy_of(require(s.probabilities, name(), "class probabilities"));
  }
};

class MarginStrategy : public ScoringStrategy {
 public:
  std::string name() const override { return "margin"; }
  torch::Tensor score(const PoolScores& s) const override {
    const auto top = std::get<0>(require(s.probabilities, name(), "class probabilities").topk(2, 1));
    return -(top.select(1, 0) - top.select(1, 1));
  }
};

class LeastConfidenceStrategy : public ScoringStrategy {
 public:
  std::string name() const override { return "least_confidence"; }
  torch::Tensor score(const PoolScores& s) const override {
    return 1 - std::get<0>(require(s.probabilities, name(), "class probabilities").max(1));
  }
};

class LearnedLossStrategy : public ScoringStrategy {
 public:
  std::string name() const override { return "learned_loss"; }
  StrategyNeeds needs() const override { return {true, true, false, false}; }
  torch::Tensor score(const PoolScores& s) const override {
    return require(s.predicted_loss, name(), "the loss head's predictions").clone();
  }
};

class BaldStrategy : public ScoringStrategy {
 public:
  std::string name() const override { return "bald"; }
  StrategyNeeds needs() const override { return {true, false, false, true}; }
  torch::Tensor score(const PoolScores& s) const override {
    const auto& mc = require(s.mc_probabilities, name(), "MC-dropout probabilities");
    return entropy_of(mc.mean(0)) - entropy_of(mc).mean(0);
  }
};

class CoresetStrategy : public SelectionStrategy {
 public:
  std::string name() const override { return "coreset"; }
  StrategyNeeds needs() const override { return {true, false, true, false}; }
  std::vector<size_t> select(const PoolScores& s, size_t k, Rng&) const override {
    const auto pool = require(s.embeddings, name(), "embeddings").to(torch::kFloat64);
    check_k(name(), k, s.size());
    // Distance of every pool sample to its nearest centre; with no labelled sample the
    // first pick is the sample farthest from the pool's mean.
    torch::Tensor nearest;
    if (s.labelled_embeddings.defined() && s.labelled_embeddings.size(0) > 0)
      nearest = std::get<0>(torch::cdist(pool, s.labelled_embeddings.to(torch::kFloat64)).min(1));
    else
      nearest = (pool - pool.mean(0, true)).norm(2, 1);
    std::vector<size_t> picks;
    for (size_t i = 0; i < k; ++i) {
      const int64_t best = nearest.argmax().item<int64_t>();
      picks.push_back(static_cast<size_t>(best));
      const auto d = (pool - pool[best]).norm(2, 1);
      nearest = torch::minimum(nearest, d);
      nearest[best] = -1;  // never again, even among duplicates at distance 0
    }
    return picks;
  }
};

}  // namespace

std::vector<size_t> ScoringStrategy::select(const PoolScores& scores, size_t k, Rng&) const {
  const torch::Tensor s = score(scores).to(torch::kFloat64).contiguous();
  const size_t n = scores.size();
  check_k(name(), k, n);
  HP_CHECK(s.size(0) == static_cast<int64_t>(n), InputError, name(), ": ", s.size(0), " scores for ", n, " samples");
  const double* v = s.data_ptr<double>();
  std::vector<size_t> rows = all_indices(n);
  // Stable: equal scores keep row order, so a tie never depends on the sort's internals.
  std::stable_sort(rows.begin(), rows.end(), [v](size_t a, size_t b) { return v[a] > v[b]; });
  rows.resize(k);
  return rows;
}

std::vector<std::string> strategy_names() {
  return {"random", "entropy", "margin", "least_confidence", "learned_loss", "coreset", "bald"};
}

std::unique_ptr<SelectionStrategy> make_strategy(const std::string& name) {
  if (name == "random") return std::make_unique<RandomStrategy>();
  if (name == "entropy") return std::make_unique<EntropyStrategy>();
  if (name == "margin") return std::make_unique<MarginStrategy>();
  if (name == "least_confidence") return std::make_unique<LeastConfidenceStrategy>();
  if (name == "learned_loss") return std::make_unique<LearnedLossStrategy>();
  if (name == "coreset") return std::make_unique<CoresetStrategy>();
  if (name == "bald") return std::make_unique<BaldStrategy>();
  std::string names;
  for (const auto& n : strategy_names()) names += (names.empty() ? "" : ", ") + n;
  throw InputError("unknown active-learning strategy '" + name + "': expected one of " + names);
}

}  // namespace hemapath
