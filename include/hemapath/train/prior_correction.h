#pragma once
/// Post-hoc prior correction ("logit adjustment") of a classifier trained against class
/// imbalance. Class weights w_c ~ n_c^-p or balanced sampling teach a network to favour the
/// rare classes; adding tau * log(prior_c) to its logits, prior being the class shares of its
/// training part, takes part or all of that back (tau = p undoes square-root weights in
/// expectation). tau is chosen on validation images; the result is written into the network's
/// output bias, so every command that runs the model file applies it.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/models/classifier.h"
#include "hemapath/train/evaluate.h"

namespace hemapath {

/// Share of each class among `labels` (values 0..num_classes-1). InputError naming the class
/// when one has no sample: its log prior would be minus infinity.
std::vector<double> class_shares(const std::vector<int>& labels, const std::vector<std::string>& class_names);

/// softmax(log p + tau * log prior) per row of `probabilities` [N, C].
torch::Tensor corrected_probabilities(const torch::Tensor& probabilities, const std::vector<double>& prior, double tau);

/// One candidate tau scored on validation predictions.
struct PriorCorrectionTrial {
  double tau = 0;
  double accuracy = 0, macro_f1 = 0, loss = 0;
};

/// Scores every tau of `taus` on `predictions` (made without correction).
std::vector<PriorCorrectionTrial> try_prior_corrections(const PredictionResult& predictions,
                                                        const std::vector<std::string>& class_names,
                                                        const std::vector<double>& prior,
                                                        const std::vector<double>& taus);

/// "loss" (the validation cross-entropy, a proper score of the probabilities), "accuracy" or
/// "macro_f1".
const std::vector<std::string>& prior_correction_objectives();

/// Index of the best trial by `objective` (lowest loss, highest accuracy or macro-F1; ties go
/// to the smallest tau). ConfigError naming --objective for an unknown one.
size_t best_prior_correction(const std::vector<PriorCorrectionTrial>& trials, const std::string& objective);

/// What `calibrate` adds to the logits for `tau` and the training class shares `prior`:
/// tau x log prior_c per class (a negative tau takes it back out).
std::vector<double> prior_correction_bias(const std::vector<double>& prior, double tau);

/// Adds `bias` [C] to the model's logits through its output layer's bias (each member's, for
/// an ensemble, which moves the ensemble's output the same way). ModelFileError when the
/// output layer has no bias of C values.
void add_output_bias(ClassifierImpl& model, const std::vector<double>& bias);

nlohmann::json to_json(const PriorCorrectionTrial& trial);

}  // namespace hemapath
