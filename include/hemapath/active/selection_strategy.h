#pragma once
/// How an active-learning cycle picks the pool samples to send for labelling. Every strategy
/// sees the same `PoolScores` (what the current model says about the unlabelled samples) and
/// returns the rows it picks, most wanted first.
#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "hemapath/core/random.h"

namespace hemapath {

/// The current model's view of N scored pool samples (row i of each tensor is sample i).
struct PoolScores {
  size_t count = 0;                 ///< N
  torch::Tensor probabilities;      ///< [N, C] softmax (every strategy but random)
  torch::Tensor predicted_loss;     ///< [N] the loss head's output (learned_loss)
  torch::Tensor embeddings;         ///< [N, D] pooled backbone features (coreset)
  torch::Tensor labelled_embeddings;  ///< [L, D] of the labelled set, the initial centres (coreset)
  torch::Tensor mc_probabilities;   ///< [T, N, C] softmax of T dropout samples (bald)
  size_t size() const { return count; }
};

/// What a strategy needs computed before it can select.
struct StrategyNeeds {
  bool predictions = true;    ///< anything from the model at all (random needs only the count)
  bool loss_head = false;     ///< PoolScores::predicted_loss (the model must carry a loss head)
  bool embeddings = false;    ///< embeddings and labelled_embeddings
  bool mc_dropout = false;    ///< mc_probabilities
};

class SelectionStrategy {
 public:
  virtual ~SelectionStrategy() = default;
  virtual std::string name() const = 0;
  virtual StrategyNeeds needs() const { return {}; }
  /// `k` distinct rows of `scores` (0 <= row < scores.size()), best first. InputError when
  /// k > scores.size() or k == 0; `rng` breaks no ties (ties go to the lower row) and is used
  /// only by random.
  virtual std::vector<size_t> select(const PoolScores& scores, size_t k, Rng& rng) const = 0;
};

/// Scores every row (higher = more informative) and takes the k highest.
class ScoringStrategy : public SelectionStrategy {
 public:
  std::vector<size_t> select(const PoolScores& scores, size_t k, Rng& rng) const override;
  /// [N] informativeness of each row.
  virtual torch::Tensor score(const PoolScores& scores) const = 0;
};

/// Strategies by name:
///   random            uniform without replacement
///   entropy           -sum p log p of the predicted distribution
///   margin            smallest gap between the two most probable classes (score: -gap)
///   least_confidence  1 - max p
///   learned_loss      highest predicted loss (Yoo & Kweon 2019)
///   coreset           k-centre greedy on embeddings (Sener & Savarese 2018): each pick is the
///                     sample farthest from every labelled or already picked sample
///   bald              mutual information between prediction and weights under MC dropout
///                     (Gal et al. 2017): H(mean_t p_t) - mean_t H(p_t)
/// InputError listing the names for an unknown one.
std::unique_ptr<SelectionStrategy> make_strategy(const std::string& name);
std::vector<std::string> strategy_names();

}  // namespace hemapath
