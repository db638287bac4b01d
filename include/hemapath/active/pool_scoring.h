#pragma once
/// Running the current model over pool samples to get what the selection strategies read.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <c10/core/Device.h>

#include "hemapath/active/selection_strategy.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/models/classifier.h"

namespace hemapath {

struct PoolScoringOptions {
  StrategyNeeds needs;
  int mc_passes = 10;  ///< dropout samples for bald
  int batch_size = 64;
  int workers = 1;
  uint64_t seed = 1;   ///< the dropout masks of the MC samples
  c10::Device device = c10::kCPU;
};

/// Scores `pool` (dataset indices, rows of the result in this order) with `model` in eval mode
/// and without augmentation: probabilities always; with needs.loss_head the loss head's
/// predictions, with needs.embeddings the pooled features of `pool` and of `labelled`, with
/// needs.mc_dropout `mc_passes` samples of the dropout before the classification layer.
/// ConfigError when a need cannot be met: a loss head, embeddings or MC dropout from a model
/// other than a ResNet, a loss head the model lacks, or MC dropout with model.dropout 0.
/// InputError when `pool` is empty.
PoolScores score_pool(ClassifierImpl& model, const ClassificationDataset& dataset, const std::vector<size_t>& pool,
                      const std::vector<size_t>& labelled, const PoolScoringOptions& options);

}  // namespace hemapath
