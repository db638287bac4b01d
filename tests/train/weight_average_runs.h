#pragma once
// Shared by the classifier and segmentation trainers' weight-averaging tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "hemapath/train/trainer.h"
#include "test_support.h"

namespace hemapath::test {

/// Trains `averaged` (a config with train.optimizer.ema_decay > 0) into dir/averaged and the same
/// config without averaging into dir/plain with `train` (train_classifier or train_segmenter),
/// and checks that averaging left the live weights' path alone: the same training loss in every
/// epoch. Returns {with averaging, without}.
template <class Config, class Train>
auto train_with_and_without_weight_average(const Config& averaged, const ScratchDir& dir, Train train) {
  Config plain = averaged;
  plain.optimizer.ema_decay = 0;
  TrainRunOptions options;
  options.out_dir = dir / "plain";
  auto without = train(plain, options);
  options.out_dir = dir / "averaged";
  auto with = train(averaged, options);
  EXPECT_EQ(with.history.size(), without.history.size());
  for (size_t e = 0; e < std::min(with.history.size(), without.history.size()); ++e)
    EXPECT_DOUBLE_EQ(with.history[e].train_loss, without.history[e].train_loss) << "epoch " << e + 1;
  return std::make_pair(std::move(with), std::move(without));
}

}  // namespace hemapath::test
