#include <gtest/gtest.h>

#include <cmath>

#include "hemapath/train/optimizer.h"

namespace hemapath {

TEST(LrSchedule, CosineWithWarmupByHand) {
  ScheduleConfig c;
  c.name = "cosine";
  c.warmup_epochs = 2;
  LrSchedule s(c, 1.0, 10);
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(0), 0.1);           // warm-up starts at lr/10
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(1), 0.1 + 0.9 / 2);  // and climbs linearly
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(2), 1.0);            // cosine over the remaining 8 epochs
  EXPECT_NEAR(s.lr_for_epoch(6), 0.5, 1e-12);
  EXPECT_NEAR(s.lr_for_epoch(9), 0.5 * (1 + std::cos(M_PI * 7 / 8)), 1e-12);
}

TEST(LrSchedule, StepAndConstant) {
  ScheduleConfig c;
  c.name = "step";
  c.step_size = 3;
  c.gamma = 0.5;
  LrSchedule s(c, 0.8, 10);
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(2), 0.8);
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(3), 0.4);
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(7), 0.2);
  c.name = "constant";
  EXPECT_DOUBLE_EQ(LrSchedule(c, 0.3, 5).lr_for_epoch(4), 0.3);
}

TEST(LrSchedule, PlateauDecaysAfterPatienceAndRestoresState) {
  ScheduleConfig c;
  c.name = "plateau";
  c.patience = 1;
  c.factor = 0.1;
  LrSchedule s(c, 1.0, 10);
  s.observe(0.5);
  s.observe(0.4);  // 1 bad epoch: within patience
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(2), 1.0);
  s.observe(0.45);  // 2nd bad epoch: decay
  EXPECT_DOUBLE_EQ(s.lr_for_epoch(3), 0.1);
  LrSchedule restored(c, 1.0, 10);
  restored.load_state(s.state());
  EXPECT_DOUBLE_EQ(restored.lr_for_epoch(4), 0.1);
  restored.observe(0.45);
  restored.observe(0.45);
  EXPECT_NEAR(restored.lr_for_epoch(5), 0.01, 1e-15);
}

TEST(Optimizer, BuildsEachKindAndSetsLearningRate) {
  torch::Tensor w = torch::zeros({3}, torch::requires_grad());
  for (const char* name : {"adam", "adamw", "sgd"}) {
    OptimizerConfig c;
    c.name = name;
    auto opt = make_optimizer(c, {w});
    set_learning_rate(*opt, 0.25);
    EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.25) << name;
  }
  auto bad = ConfigNode::parse("name: rmsprop\n", "opt.yaml");
  EXPECT_THROW(OptimizerConfig::from_config(bad), ConfigError);
}

}  // namespace hemapath
