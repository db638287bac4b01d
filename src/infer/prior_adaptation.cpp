#include "hemapath/infer/prior_adaptation.h"

#include <map>

#include <torch/torch.h>

#include "hemapath/core/error.h"

namespace hemapath {

namespace {
constexpr int kMaxIterations = 1000;
constexpr double kTolerance = 1e-7;
// A class the maximum-likelihood estimate drives to zero would zero every row's weight for it
// for good; a floor keeps each row's weights positive.
constexpr double kShareFloor = 1e-12;

// Rows of p scaled by share / training share, renormalised.
torch::Tensor reweighted(const torch::Tensor& p, const torch::Tensor& share, const torch::Tensor& training) {
  torch::Tensor q = p * (share / training).unsqueeze(0);
  return q / q.sum(1, true);
}
}  // namespace

at::Tensor adapt_to_prior(const at::Tensor& probabilities, const std::vector<double>& training_prior,
                          double prior_weight, std::vector<double>* estimated_prior) {
  HP_CHECK(prior_weight >= 0, ConfigError, "prior weight is ", prior_weight, ": expected a number of cells >= 0");
  HP_CHECK(probabilities.dim() == 2, InputError, "prior adaptation expects [cells, classes] probabilities, got ",
           probabilities.dim(), " dimensions");
  const int64_t n = probabilities.size(0), classes = probabilities.size(1);
  HP_CHECK(static_cast<int64_t>(training_prior.size()) == classes, InputError, "prior adaptation: ",
           training_prior.size(), " training shares for ", classes, " classes");
  for (double s : training_prior)
    HP_CHECK(s > 0, InputError, "prior adaptation: a training share is ", s, ": expected every share > 0");
  if (n == 0) {
    if (estimated_prior) *estimated_prior = training_prior;
    return probabilities;
  }

  const torch::Tensor p = probabilities.to(torch::kDouble);
  const torch::Tensor training = torch::tensor(training_prior, torch::kDouble);
  const torch::Tensor base = training / training.sum();
  torch::Tensor share = base.clone();
  for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
    const torch::Tensor next =
        ((reweighted(p, share, base).sum(0) + prior_weight * base) / (n + prior_weight)).clamp_min(kShareFloor);
    const double moved = (next - share).abs().max().item<double>();
    share = next / next.sum();
    if (moved < kTolerance) break;
  }
  if (estimated_prior) estimated_prior->assign(share.data_ptr<double>(), share.data_ptr<double>() + classes);
  return reweighted(p, share, base).to(probabilities.scalar_type());
}

at::Tensor adapt_by_group(const at::Tensor& probabilities, const std::vector<std::string>& groups,
                          const std::vector<double>& training_prior, double prior_weight) {
  HP_CHECK(probabilities.dim() == 2 && static_cast<int64_t>(groups.size()) == probabilities.size(0), InputError,
           "prior adaptation: ", groups.size(), " group names for ",
           probabilities.dim() == 2 ? probabilities.size(0) : 0, " rows of probabilities");
  std::map<std::string, std::vector<int64_t>> rows;
  for (size_t i = 0; i < groups.size(); ++i) rows[groups[i]].push_back(static_cast<int64_t>(i));
  torch::Tensor adapted = probabilities.clone();
  for (const auto& [group, members] : rows) {
    const torch::Tensor index = torch::tensor(members, torch::kLong);
    adapted.index_copy_(0, index, adapt_to_prior(probabilities.index_select(0, index), training_prior, prior_weight));
  }
  return adapted;
}

}  // namespace hemapath
