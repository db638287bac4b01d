#include "hemapath/train/prior_correction.h"

#include <algorithm>
#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/models/ensemble.h"

namespace hemapath {

std::vector<double> class_shares(const std::vector<int>& labels, const std::vector<std::string>& class_names) {
  HP_CHECK(!labels.empty(), InputError, "the training part has no images: its class shares are unknown");
  std::vector<double> shares(class_names.size(), 0);
  for (int l : labels) shares.at(static_cast<size_t>(l)) += 1;
  for (size_t c = 0; c < shares.size(); ++c) {
    HP_CHECK(shares[c] > 0, InputError, "class '", class_names[c],
             "' has no training image: a prior correction needs every class's share");
    shares[c] /= static_cast<double>(labels.size());
  }
  return shares;
}

torch::Tensor corrected_probabilities(const torch::Tensor& probabilities, const std::vector<double>& prior,
                                      double tau) {
  const torch::Tensor log_prior = torch::log(torch::tensor(prior, torch::kDouble)).to(probabilities.dtype());
  return torch::softmax(torch::log(probabilities.clamp_min(1e-12)) + tau * log_prior, 1);
}

std::vector<PriorCorrectionTrial> try_prior_corrections(const PredictionResult& predictions,
                                                        const std::vector<std::string>& class_names,
                                                        const std::vector<double>& prior,
                                                        const std::vector<double>& taus) {
  std::vector<PriorCorrectionTrial> trials;
  for (double tau : taus) {
    const EvalResult scored = score_predictions(
        with_probabilities(predictions, corrected_probabilities(predictions.probabilities, prior, tau)), class_names);
    trials.push_back({tau, scored.report.accuracy, scored.report.macro_f1, scored.loss});
  }
  return trials;
}

const std::vector<std::string>& prior_correction_objectives() {
  static const std::vector<std::string> names{"loss", "accuracy", "macro_f1"};
  return names;
}

size_t best_prior_correction(const std::vector<PriorCorrectionTrial>& trials, const std::string& objective) {
  const auto& names = prior_correction_objectives();
  HP_CHECK(std::find(names.begin(), names.end(), objective) != names.end(), ConfigError, "--objective '", objective,
           "' is not known: expected loss, accuracy or macro_f1");
  HP_CHECK(!trials.empty(), InputError, "no tau to choose from");
  // Higher is better for every figure once the loss is negated.
  auto value = [&](const PriorCorrectionTrial& t) {
    return objective == "loss" ? -t.loss : objective == "accuracy" ? t.accuracy : t.macro_f1;
  };
  size_t best = 0;
  for (size_t i = 1; i < trials.size(); ++i) {
    const bool better = value(trials[i]) > value(trials[best]);
    const bool tie_to_smaller_tau = value(trials[i]) == value(trials[best]) && trials[i].tau < trials[best].tau;
    if (better || tie_to_smaller_tau) best = i;
  }
  return best;
}

std::vector<double> prior_correction_bias(const std::vector<double>& prior, double tau) {
  std::vector<double> bias;
  for (double p : prior) bias.push_back(tau * std::log(p));
  return bias;
}

void add_output_bias(ClassifierImpl& model, const std::vector<double>& bias) {
  if (auto* ensemble = dynamic_cast<EnsembleClassifierImpl*>(&model)) {
    for (size_t i = 0; i < ensemble->size(); ++i) add_output_bias(ensemble->member(i), bias);
    return;
  }
  // The output layer's bias: the head's last bias parameter with one value per class.
  const std::string head = model.head_prefix() + ".";
  torch::Tensor output_bias;
  for (const auto& p : model.named_parameters())
    if (p.key().rfind(head, 0) == 0 && p.key().size() > 5 && p.key().substr(p.key().size() - 5) == ".bias" &&
        p.value().dim() == 1 && p.value().size(0) == static_cast<int64_t>(bias.size()))
      output_bias = p.value();
  HP_CHECK(output_bias.defined(), ModelFileError, "the network's output layer ('", model.head_prefix(),
           "') has no bias of ", bias.size(), " values to carry a prior correction");
  torch::NoGradGuard no_grad;
  output_bias.add_(torch::tensor(bias, torch::kDouble).to(output_bias.dtype()).to(output_bias.device()));
}

nlohmann::json to_json(const PriorCorrectionTrial& trial) {
  return {{"tau", trial.tau}, {"accuracy", trial.accuracy}, {"macro_f1", trial.macro_f1}, {"loss", trial.loss}};
}

}  // namespace hemapath
