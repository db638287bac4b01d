#pragma once
/// Optimisers and learning-rate schedules from config.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hemapath/core/config.h"

namespace hemapath {

struct OptimizerConfig {
  std::string name = "adamw";   ///< adam, adamw or sgd (with momentum)
  double lr = 1e-3;
  double weight_decay = 1e-4;   ///< decoupled for adamw, L2 for adam and sgd
  double momentum = 0.9;        ///< sgd only
  bool nesterov = false;        ///< sgd only
  double ema_decay = 0;         ///< > 0: validate and save a moving average of the weights (weight_average.h)
  static OptimizerConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        const std::vector<torch::Tensor>& parameters);
/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

struct ScheduleConfig {
  std::string name = "cosine";  ///< constant, step, cosine or plateau
  int warmup_epochs = 0;        ///< linear warm-up from lr/10 (cosine and step)
  int step_size = 10;           ///< step: epochs between decays
  double gamma = 0.1;           ///< step: decay factor
  double factor = 0.5;          ///< plateau: decay factor
  int patience = 3;             ///< plateau: epochs without improvement before a decay
  double min_lr = 0;            ///< floor for cosine and plateau
  static ScheduleConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
};

/// The learning rate for each epoch. Step and cosine are functions of the epoch; plateau
/// keeps state (best value, waiting epochs, current rate) which `state()` saves for --resume.
class LrSchedule {
 public:
  LrSchedule(ScheduleConfig config, double base_lr, int epochs);
  /// Learning rate to use during `epoch` (0-based).
  double lr_for_epoch(int epoch) const;
  /// Reports the monitored validation value after an epoch (higher is better).
  void observe(double value);
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  ScheduleConfig config_;
  double base_lr_;
  int epochs_;
  double plateau_lr_;
  double best_ = -std::numeric_limits<double>::infinity();
  int waiting_ = 0;
};

}  // namespace hemapath
