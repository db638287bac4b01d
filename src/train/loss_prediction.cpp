#include "hemapath/train/loss_prediction.h"

#include <cmath>

#include "hemapath/models/resnet.h"

namespace hemapath {

LossHeadConfig LossHeadConfig::from_config(const ConfigNode& node) {
  LossHeadConfig c;
  c.weight = node.get_number("weight", c.weight, 0, 1000);
  c.margin = node.get_number("margin", c.margin, 0, 1000);
  c.detach_epoch = static_cast<int>(node.get_int("detach_epoch", c.detach_epoch, 0, 100000));
  return c;
}

nlohmann::json LossHeadConfig::to_json() const {
  return {{"weight", weight}, {"margin", margin}, {"detach_epoch", detach_epoch}};
}

int LossHeadConfig::first_detached_epoch(int epochs) const {
  return detach_epoch > 0 ? detach_epoch - 1 : static_cast<int>(std::lround(0.6 * epochs));
}

LossTerms classification_loss_terms(ClassifierImpl& model, const torch::Tensor& images, const torch::Tensor& targets,
                                    const torch::nn::functional::CrossEntropyFuncOptions& loss_options,
                                    const LossHeadConfig& head, bool detach_features) {
  auto* resnet = dynamic_cast<ResNetImpl*>(&model);
  const bool with_head = resnet && resnet->loss_net();
  ResNetOutputs out;
  if (with_head) out = resnet->forward_all(images);
  else out.logits = model.forward(images);
  LossTerms t;
  t.logits = out.logits;
  t.classification = torch::nn::functional::cross_entropy(out.logits, targets, loss_options);
  auto per_sample_options = loss_options;
  per_sample_options.reduction(torch::kNone);
  t.sample_loss = torch::nn::functional::cross_entropy(out.logits, targets, per_sample_options).detach();
  t.total = t.classification;
  if (!with_head) return t;
  if (detach_features)
    for (auto& f : out.stages) f = f.detach();
  const torch::Tensor predicted = resnet->loss_net()->forward(out.stages);
  t.predicted_loss = predicted.detach();
  t.ranking = predicted.size(0) >= 2 ? loss_ranking_loss(predicted, t.sample_loss, head.margin) : predicted.sum() * 0;
  t.total = t.total + head.weight * t.ranking;
  return t;
}

}  // namespace hemapath
