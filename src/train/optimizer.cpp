#include "hemapath/train/optimizer.h"

#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {

OptimizerConfig OptimizerConfig::from_config(const ConfigNode& node) {
  OptimizerConfig c;
  c.name = node.get_choice("name", c.name, {"adam", "adamw", "sgd"});
  c.lr = node.get_number("lr", c.lr, 1e-8, 10);
  c.weight_decay = node.get_number("weight_decay", c.weight_decay, 0, 1);
  c.momentum = node.get_number("momentum", c.momentum, 0, 0.999);
  c.nesterov = node.get<bool>("nesterov", c.nesterov);
  c.ema_decay = node.get_number("ema_decay", c.ema_decay, 0, 0.99999);
  return c;
}

nlohmann::json OptimizerConfig::to_json() const {
  return {{"name", name},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"momentum", momentum},
          {"nesterov", nesterov},
          {"ema_decay", ema_decay}};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& c,
                                                        const std::vector<torch::Tensor>& parameters) {
  if (c.name == "adam")
    return std::make_unique<torch::optim::Adam>(parameters,
                                                torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  if (c.name == "adamw")
    return std::make_unique<torch::optim::AdamW>(parameters,
                                                 torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
  if (c.name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        parameters,
        torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay).nesterov(c.nesterov));
  throw ConfigError("optimizer '" + c.name + "' is not known: expected adam, adamw or sgd");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

ScheduleConfig ScheduleConfig::from_config(const ConfigNode& node) {
  ScheduleConfig c;
  c.name = node.get_choice("name", c.name, {"constant", "step", "cosine", "plateau"});
  c.warmup_epochs = static_cast<int>(node.get_int("warmup_epochs", c.warmup_epochs, 0, 1000));
  c.step_size = static_cast<int>(node.get_int("step_size", c.step_size, 1, 100000));
  c.gamma = node.get_number("gamma", c.gamma, 1e-6, 1);
  c.factor = node.get_number("factor", c.factor, 1e-6, 1);
  c.patience = static_cast<int>(node.get_int("patience", c.patience, 0, 100000));
  c.min_lr = node.get_number("min_lr", c.min_lr, 0, 10);
  return c;
}

nlohmann::json ScheduleConfig::to_json() const {
  return {{"name", name},     {"warmup_epochs", warmup_epochs}, {"step_size", step_size}, {"gamma", gamma},
          {"factor", factor}, {"patience", patience},           {"min_lr", min_lr}};
}

LrSchedule::LrSchedule(ScheduleConfig config, double base_lr, int epochs)
    : config_(std::move(config)), base_lr_(base_lr), epochs_(std::max(1, epochs)), plateau_lr_(base_lr) {}

double LrSchedule::lr_for_epoch(int epoch) const {
  if (config_.name == "plateau") return plateau_lr_;
  if (config_.name != "constant" && epoch < config_.warmup_epochs)
    return base_lr_ * (0.1 + 0.9 * epoch / static_cast<double>(config_.warmup_epochs));
  if (config_.name == "step") return base_lr_ * std::pow(config_.gamma, epoch / config_.step_size);
  if (config_.name == "cosine") {
    int span = std::max(1, epochs_ - config_.warmup_epochs);
    double t = static_cast<double>(epoch - config_.warmup_epochs) / span;
    return config_.min_lr + 0.5 * (base_lr_ - config_.min_lr) * (1 + std::cos(M_PI * t));
  }
  return base_lr_;
}

void LrSchedule::observe(double value) {
  if (config_.name != "plateau") return;
  if (value > best_) {
    best_ = value;
    waiting_ = 0;
  } else if (++waiting_ > config_.patience) {
    plateau_lr_ = std::max(config_.min_lr, plateau_lr_ * config_.factor);
    waiting_ = 0;
  }
}

nlohmann::json LrSchedule::state() const {
  return {{"plateau_lr", plateau_lr_}, {"best", std::isfinite(best_) ? best_ : -1e300}, {"waiting", waiting_}};
}

void LrSchedule::load_state(const nlohmann::json& s) {
  plateau_lr_ = s.at("plateau_lr").get<double>();
  best_ = s.at("best").get<double>();
  waiting_ = s.at("waiting").get<int>();
}

}  // namespace hemapath
