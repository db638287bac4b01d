#pragma once
/// Adapting a classifier's probabilities to the class shares of one smear (label shift).
/// Red-cell morphology is far from evenly spread over smears: in the Chula smears a median
/// 70% of a smear's annotated cells share one class, while over all smears the largest class
/// holds 28%. A classifier calibrated to the training shares therefore judges each cell
/// against the wrong odds. The EM of Saerens, Latinne and Decaestecker (2002) estimates the
/// smear's own shares from the probabilities of all its cells, unlabelled, and reweights each
/// cell's probabilities by (smear share / training share). The training shares enter as a
/// Dirichlet prior worth `prior_weight` cells, so a smear of a few cells moves little.
#include <string>
#include <vector>

namespace at {
class Tensor;  // kept out of this header: SmearOptions needs only the default weight
}

namespace hemapath {

/// Weight of the training shares against a smear's own cells, in cells, chosen on validation
/// smears the classifier never saw (docs/smear-analysis.md).
inline constexpr double kDefaultPriorWeight = 10;

/// EM over the rows of `probabilities` [N, C] (softmax outputs of a classifier calibrated to
/// `training_prior`, C positive shares), the estimate's prior worth `prior_weight` >= 0 cells
/// (0: maximum likelihood). Returns the adapted probabilities (rows summing to 1, the input's
/// dtype) and, when `estimated_prior` is given, the group's estimated shares. Stops when no
/// share moves by more than 1e-7, or after 1000 iterations. ConfigError for a negative
/// weight; InputError when `training_prior` does not have C positive entries. No rows: the
/// input is returned.
at::Tensor adapt_to_prior(const at::Tensor& probabilities, const std::vector<double>& training_prior,
                          double prior_weight, std::vector<double>* estimated_prior = nullptr);

/// adapt_to_prior on each group's rows separately; `groups[i]` names row i's group (a smear).
/// InputError when `groups` has not one entry per row.
at::Tensor adapt_by_group(const at::Tensor& probabilities, const std::vector<std::string>& groups,
                          const std::vector<double>& training_prior, double prior_weight);

}  // namespace hemapath
