#include "hemapath/active/pool_scoring.h"

#include "hemapath/core/error.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/models/resnet.h"

namespace hemapath {
namespace {

struct Pass {
  std::vector<torch::Tensor> probabilities, predicted_loss, embeddings;
  std::vector<std::vector<torch::Tensor>> mc;  // [pass][batch]
};

torch::Tensor cat_or_undefined(const std::vector<torch::Tensor>& parts) {
  return parts.empty() ? torch::Tensor() : torch::cat(parts, 0);
}

}  // namespace

PoolScores score_pool(ClassifierImpl& model, const ClassificationDataset& dataset, const std::vector<size_t>& pool,
                      const std::vector<size_t>& labelled, const PoolScoringOptions& options) {
  HP_CHECK(!pool.empty(), InputError, "active learning: the pool to score is empty");
  const StrategyNeeds& needs = options.needs;
  auto* resnet = dynamic_cast<ResNetImpl*>(&model);
  HP_CHECK(resnet || !(needs.loss_head || needs.embeddings || needs.mc_dropout), ConfigError,
           "this strategy reads a ResNet's loss head, features or dropout: the model is not a ResNet");
  HP_CHECK(!needs.loss_head || resnet->loss_net(), ConfigError,
           "learned_loss needs a model trained with a loss head (extra.loss_net: true)");
  HP_CHECK(!needs.mc_dropout || resnet->options().dropout() > 0, ConfigError,
           "bald samples the dropout before the classifier: the model has model.dropout 0");
  HP_CHECK(options.mc_passes >= 2 || !needs.mc_dropout, ConfigError, "active.mc_passes must be at least 2");

  const bool was_training = model.is_training();
  model.eval();
  torch::InferenceMode guard;
  torch::manual_seed(options.seed);
  auto run = [&](const std::vector<size_t>& indices, bool full, Pass& pass) {
    BatchLoader loader(dataset, indices, options.batch_size, /*augment=*/false, 0, 0, options.workers);
    if (full && needs.mc_dropout) pass.mc.resize(options.mc_passes);
    while (auto batch = loader.next()) {
      const torch::Tensor images = batch->images.to(options.device);
      if (!resnet) {
        pass.probabilities.push_back(torch::softmax(model.forward(images), 1).cpu());
        continue;
      }
      ResNetOutputs out = resnet->forward_all(images);
      if (needs.embeddings) pass.embeddings.push_back(out.embedding.cpu());
      if (!full) continue;
      pass.probabilities.push_back(torch::softmax(out.logits, 1).cpu());
      if (needs.loss_head) pass.predicted_loss.push_back(resnet->loss_net()->forward(out.stages).cpu());
      for (int t = 0; t < static_cast<int>(pass.mc.size()); ++t)
        pass.mc[t].push_back(torch::softmax(resnet->classify_embedding(out.embedding, true), 1).cpu());
    }
  };
  Pass pass;
  run(pool, true, pass);
  PoolScores scores;
  scores.count = pool.size();
  scores.probabilities = cat_or_undefined(pass.probabilities);
  scores.predicted_loss = cat_or_undefined(pass.predicted_loss);
  if (needs.embeddings) {
    scores.embeddings = cat_or_undefined(pass.embeddings);
    Pass labelled_pass;
    if (!labelled.empty()) run(labelled, false, labelled_pass);
    scores.labelled_embeddings = labelled.empty() ? torch::zeros({0, scores.embeddings.size(1)})
                                                  : cat_or_undefined(labelled_pass.embeddings);
  }
  if (!pass.mc.empty()) {
    std::vector<torch::Tensor> samples;
    for (const auto& t : pass.mc) samples.push_back(torch::cat(t, 0));
    scores.mc_probabilities = torch::stack(samples, 0);
  }
  if (was_training) model.train();
  return scores;
}

}  // namespace hemapath
