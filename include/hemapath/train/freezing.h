#pragma once
/// Freezing backbone stages for fine-tuning: frozen parameters get no gradients and their
/// batch norms keep their (pretrained) running statistics, until an unfreeze epoch.
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

/// The module prefixes `freeze` covers: the first `freeze.stages` stages, or every stage for
/// FreezeConfig::kBackbone; empty when nothing is frozen. ConfigError naming train.freeze.stages
/// when the architecture has fewer stages.
std::vector<std::string> frozen_prefixes(const ClassifierImpl& model, const FreezeConfig& freeze);

/// The same for a segmenter's classifier backbone (its encoder_prefix()), with full names.
/// ConfigError when something is to be frozen but the architecture has no such backbone.
std::vector<std::string> frozen_prefixes(const SegmenterImpl& model, const FreezeConfig& freeze);

/// Parameters under the prefixes and the others, in registration order.
struct ParameterPartition {
  std::vector<torch::Tensor> trainable, frozen;
};
ParameterPartition partition_parameters(const torch::nn::Module& model, const std::vector<std::string>& prefixes);

/// Whether the frozen stages are still frozen in 0-based `epoch`.
bool frozen_in_epoch(const FreezeConfig& freeze, int epoch);

/// Freezes (no gradients, batch norms in eval mode) or releases the modules under `prefixes`.
/// Call after model.train(), which puts every module back in training mode.
void set_frozen(torch::nn::Module& model, const std::vector<std::string>& prefixes, bool frozen);

}  // namespace hemapath
