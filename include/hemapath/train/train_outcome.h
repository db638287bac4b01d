#pragma once
/// The part of a training run's result every trainer shares (free of LibTorch, as the
/// trainers' headers are).
#include <cstddef>
#include <string>

namespace hemapath {

/// What a training run reports besides its epochs' history.
struct TrainOutcome {
  int best_epoch = 0;
  double best_value = 0;  ///< the monitored figure at best_epoch (the negated training loss without validation)
  bool stopped_early = false;
  bool complete = false;  ///< all epochs done (or early-stopped), not interrupted
  double seconds = 0;     ///< wall time of this invocation
  std::string best_model, last_model;
  size_t train_size = 0, val_size = 0, test_size = 0;
  std::string pretrained;  ///< what the weights were started from (empty: random initialisation or resumed)
};

}  // namespace hemapath
