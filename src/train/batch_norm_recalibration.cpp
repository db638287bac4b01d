#include "hemapath/train/batch_norm_recalibration.h"

#include <vector>

namespace hemapath {
namespace {

// The batch norms that learn statistics now, with their momenta and current statistics.
struct Tracked {
  torch::nn::BatchNorm2dImpl* bn;
  c10::optional<double> momentum;
  torch::Tensor mean, var, batches;
};

}  // namespace

int64_t recalibrate_batch_norm(torch::nn::Module& model,
                               const std::function<std::optional<torch::Tensor>()>& next_batch,
                               const std::function<torch::Tensor(const torch::Tensor&)>& forward) {
  std::vector<Tracked> tracked;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    auto* bn = module->as<torch::nn::BatchNorm2d>();
    if (bn == nullptr || !bn->is_training() || !bn->options.track_running_stats()) continue;
    tracked.push_back({bn, bn->options.momentum(), bn->running_mean.clone(), bn->running_var.clone(),
                       bn->num_batches_tracked.clone()});
  }
  if (tracked.empty()) return 0;
  // Everything else in eval mode: dropout and stochastic depth would otherwise perturb the
  // statistics the later layers see.
  std::vector<std::pair<torch::nn::Module*, bool>> modes;
  for (const auto& module : model.modules(/*include_self=*/true)) modes.emplace_back(module.get(), module->is_training());
  model.eval();
  torch::NoGradGuard no_grad;
  for (auto& t : tracked) {
    t.bn->train();
    t.bn->reset_running_stats();
    t.bn->options.momentum(c10::nullopt);  // cumulative average over the batches below
  }
  int64_t seen = 0;
  while (auto batch = next_batch()) {
    forward(*batch);
    seen += batch->size(0);
  }
  for (auto& [module, training] : modes) module->train(training);
  for (auto& t : tracked) {
    t.bn->options.momentum(t.momentum);
    if (seen == 0) {
      t.bn->running_mean.copy_(t.mean);
      t.bn->running_var.copy_(t.var);
      t.bn->num_batches_tracked.copy_(t.batches);
    }
  }
  return seen;
}

}  // namespace hemapath
