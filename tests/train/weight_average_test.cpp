// The moving average of a model's weights: its warmed-up decay by hand, the swap that lets a
// trainer validate and save the average, its checkpoint round trip and its bad settings.
#include "hemapath/train/weight_average.h"

#include <gtest/gtest.h>

#include "hemapath/core/config.h"
#include "hemapath/core/error.h"
#include "hemapath/train/optimizer.h"
#include "test_support.h"

namespace hemapath {
namespace {

struct TinyNet : torch::nn::Module {
  TinyNet() {
    linear = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(1, 1).bias(false)));
    norm = register_module("norm", torch::nn::BatchNorm1d(1));
  }
  void set(double weight, double running_mean) {
    torch::NoGradGuard no_grad;
    linear->weight.fill_(weight);
    norm->running_mean.fill_(running_mean);
  }
  double weight() const { return linear->weight.item<double>(); }
  double running_mean() const { return norm->running_mean.item<double>(); }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};

// The average of the model's tensors after swap(), read through the model.
double averaged_weight(TinyNet& net, WeightAverage& average) {
  average.swap();
  const double w = net.weight();
  average.swap();
  return w;
}

TEST(WeightAverage, UpdatesWithTheWarmedUpDecayAndSwapsBothWays) {
  TinyNet net;
  net.set(0, 0);
  WeightAverage average(net, 0.5);
  net.set(1, 10);
  average.update();  // d = min(0.5, 1/10): 0.1 * 0 + 0.9 * 1
  net.set(3, 20);
  average.update();  // d = min(0.5, 2/11): (2 * 0.9 + 9 * 3) / 11
  EXPECT_EQ(average.steps(), 2);

  average.swap();
  EXPECT_NEAR(net.weight(), 28.8 / 11, 1e-6);
  EXPECT_NEAR(net.running_mean(), (2 * 9.0 + 9 * 20.0) / 11, 1e-5) << "batch-norm statistics are averaged too";
  EXPECT_EQ(net.norm->num_batches_tracked.item<int64_t>(), 0) << "a counter, not a weight: left alone";
  average.swap();
  EXPECT_DOUBLE_EQ(net.weight(), 3) << "the second swap restores the live weights";
  EXPECT_DOUBLE_EQ(net.running_mean(), 20);

  // Once (1 + steps) / (10 + steps) passes the decay, the decay itself applies.
  for (int step = 2; step < 20; ++step) average.update();
  const double before = averaged_weight(net, average);
  net.set(7, 20);
  average.update();  // step 20: d = min(0.5, 21/30) = 0.5
  EXPECT_NEAR(averaged_weight(net, average), 0.5 * before + 0.5 * 7, 1e-6);

  average.reset();  // as a distributed run does once every rank holds rank 0's weights
  EXPECT_EQ(average.steps(), 0);
  EXPECT_DOUBLE_EQ(averaged_weight(net, average), 7);
}

TEST(WeightAverage, CheckpointRoundTripAndMismatch) {
  TinyNet net;
  net.set(2, 4);
  WeightAverage average(net, 0.9);
  net.set(6, 8);
  average.update();
  average.update();
  torch::serialize::OutputArchive out;
  average.save(out);
  test::ScratchDir dir;
  out.save_to(dir / "average.pt");

  TinyNet other;
  other.set(-1, -1);
  WeightAverage restored(other, 0.9);
  torch::serialize::InputArchive in;
  in.load_from(dir / "average.pt");
  restored.load(in);
  EXPECT_EQ(restored.steps(), 2);
  EXPECT_DOUBLE_EQ(averaged_weight(other, restored), averaged_weight(net, average));
  EXPECT_DOUBLE_EQ(other.weight(), -1) << "loading touches the average, not the live weights";

  // A model of another shape is refused, naming what does not match.
  torch::nn::Linear wider(torch::nn::LinearOptions(2, 1).bias(false));
  WeightAverage mismatched(*wider, 0.9);
  torch::serialize::InputArchive again;
  again.load_from(dir / "average.pt");
  const std::string message = test::error_of<InputError>([&] { mismatched.load(again); });
  EXPECT_NE(message.find("weight average does not match"), std::string::npos) << message;
}

TEST(WeightAverage, DecayOutsideItsRangeIsRefused) {
  TinyNet net;
  EXPECT_THROW(WeightAverage(net, 1.0), ConfigError);
  EXPECT_THROW(WeightAverage(net, 0.0), ConfigError);
  const std::string message = test::error_of<ConfigError>(
      [] { OptimizerConfig::from_config(ConfigNode::parse("ema_decay: 1.5\n", "t.yaml")); });
  EXPECT_NE(message.find("ema_decay"), std::string::npos) << message;
  EXPECT_DOUBLE_EQ(OptimizerConfig::from_config(ConfigNode::parse("ema_decay: 0.999\n", "t.yaml")).ema_decay, 0.999);
  EXPECT_DOUBLE_EQ(OptimizerConfig().ema_decay, 0) << "off unless asked for";
}

}  // namespace
}  // namespace hemapath
