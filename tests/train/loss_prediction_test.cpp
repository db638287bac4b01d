// `hemapath train` trains a ResNet's loss-prediction head along with the classifier.
#include <gtest/gtest.h>

#include "active/active_test_util.h"
#include "hemapath/core/random.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/resnet.h"
#include "hemapath/train/trainer.h"

namespace hemapath {
namespace {

TEST(LossPrediction, TheTrainerTeachesTheHeadToo) {
  test::ScratchDir dir;
  const auto items = test::write_colour_pool(dir.path(), 6);
  std::string yaml = test::colour_training_yaml(2);
  yaml.replace(yaml.find("data:\n") + 6, 0,
               "  labels: " + test::write_colour_labels(dir.path(), items) + "\n  images: " + (dir / "images") +
                   "\n  split: {train: 1, val: 0, test: 0}\n");
  yaml.replace(yaml.find("loss_net_width: 8"), 17, "loss_net_width: 8, loss_net: true");
  test::write_file(dir / "config.yaml", yaml);
  const TrainConfig config = TrainConfig::load(dir / "config.yaml");
  TrainRunOptions run;
  run.out_dir = dir / "run";
  const TrainResult result = train_classifier(config, run);

  // The head's weights moved away from the initialisation the same seed gives.
  seed_everything(config.seed);
  ClassifierOptions o = config.model;
  o.num_classes = 3;
  const auto initial = create_classifier(config.arch, o);
  const auto trained = load_classifier(result.last_model, torch::kCPU).model;
  const auto before = initial->named_parameters(), after = trained->named_parameters();
  ASSERT_TRUE(after.contains("loss_net.out.weight"));
  EXPECT_FALSE(torch::equal(before["loss_net.out.weight"], after["loss_net.out.weight"]));
  EXPECT_FALSE(torch::equal(before["loss_net.fc.0.weight"], after["loss_net.fc.0.weight"]));
  EXPECT_TRUE(result.history.back().train_loss > 0);
}

}  // namespace
}  // namespace hemapath
