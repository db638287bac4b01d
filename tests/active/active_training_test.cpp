// Training of an active-learning cycle's model: the loss head's gradient stop, hard-sample
// copies and seeded repeatability.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "active/active_test_util.h"
#include "hemapath/active/active_training.h"
#include "hemapath/core/error.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/loss_prediction.h"

namespace hemapath {
namespace {

TEST(HardSamples, CopiesTheHardestMeasuredSamples) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Dataset indices 0..6; 5 is not labelled, 6 was not measured yet.
  const std::vector<double> hardness = {0.1, 3.0, 0.5, 3.0, 2.0, 9.0, nan};
  const std::vector<size_t> labelled = {0, 1, 2, 3, 4, 6};
  // ceil(0.5 * 6) = 3 hardest: 1 and 3 (tied, lower index first), then 4.
  EXPECT_EQ(hard_sample_copies(labelled, hardness, 0.5, 1), (std::vector<size_t>{1, 3, 4}));
  EXPECT_EQ(hard_sample_copies(labelled, hardness, 0.2, 2), (std::vector<size_t>{1, 3, 1, 3}));
  EXPECT_TRUE(hard_sample_copies(labelled, hardness, 0.0, 2).empty());
  EXPECT_TRUE(hard_sample_copies(labelled, hardness, 0.5, 0).empty());
  // Nothing measured yet (the first epoch): no copies.
  EXPECT_TRUE(hard_sample_copies(labelled, std::vector<double>(7, nan), 0.5, 1).empty());
}

std::shared_ptr<ResNetImpl> small_resnet_with_loss_head() {
  torch::manual_seed(4);
  ClassifierOptions o;
  o.num_classes = 3;
  o.extra = {{"loss_net", true}, {"loss_net_width", 8}, {"attention", "cbam"}};
  return std::dynamic_pointer_cast<ResNetImpl>(create_classifier("resnet18", o));
}

// Sum of |grad| over the backbone (everything but the loss head) after backward of the ranking term.
double backbone_gradient_after_ranking(bool detach) {
  auto model = small_resnet_with_loss_head();
  model->train();
  torch::manual_seed(5);
  const auto images = torch::randn({6, 3, 32, 32});
  const auto targets = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64);
  LossHeadConfig head;
  LossTerms terms = classification_loss_terms(*model, images, targets, {}, head, detach);
  EXPECT_EQ(terms.sample_loss.sizes(), (std::vector<int64_t>{6}));
  EXPECT_EQ(terms.predicted_loss.sizes(), (std::vector<int64_t>{6}));
  EXPECT_TRUE(torch::allclose(terms.total, terms.classification + head.weight * terms.ranking));
  terms.ranking.backward();
  double backbone = 0, loss_head = 0;
  for (const auto& p : model->named_parameters()) {
    const double g = p.value().grad().defined() ? p.value().grad().abs().sum().item<double>() : 0.0;
    (p.key().rfind("loss_net.", 0) == 0 ? loss_head : backbone) += g;
  }
  EXPECT_GT(loss_head, 0) << "the loss head itself always learns";
  return backbone;
}

TEST(ActiveLoss, GradientStopCutsTheLossHeadOffTheBackbone) {
  EXPECT_GT(backbone_gradient_after_ranking(/*detach=*/false), 0);
  EXPECT_EQ(backbone_gradient_after_ranking(/*detach=*/true), 0);
}

TEST(ActiveLoss, DetachEpochDefaultsToSixtyPercent) {
  LossHeadConfig head;
  EXPECT_EQ(head.first_detached_epoch(10), 6);
  head.detach_epoch = 3;  // 1-based
  EXPECT_EQ(head.first_detached_epoch(10), 2);
}

class ActiveTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto items = test::write_colour_pool(dir_.path(), 6);
    std::string yaml = test::colour_training_yaml(2);
    yaml.replace(yaml.find("data:\n") + 6, 0,
                 "  labels: " + test::write_colour_labels(dir_.path(), items) + "\n  images: " + (dir_ / "images") + "\n");
    test::write_file(dir_ / "config.yaml", yaml);
    config_ = TrainConfig::load(dir_ / "config.yaml");
    data_ = load_samples(config_.data);
    Normalization n = config_.normalization;
    n.set_statistics({0.8, 0.8, 0.8}, {0.2, 0.2, 0.2});
    dataset_ = std::make_unique<ClassificationDataset>(data_.samples, ClassificationDataOptions{config_.crop, config_.augment, n});
  }
  std::vector<torch::Tensor> weights(uint64_t seed, bool loss_head, bool hard) {
    ActiveTrainOptions o;
    o.seed = seed;
    o.loss_head = loss_head;
    o.hard_augment = hard;
    o.hard.fraction = 0.5;
    auto model = train_active_model(config_, o, *dataset_, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, data_.labels(), 3);
    EXPECT_FALSE(model->is_training());
    EXPECT_EQ(static_cast<bool>(model->loss_net()), loss_head);
    std::vector<torch::Tensor> out;
    for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
    return out;
  }
  static bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!torch::equal(a[i], b[i])) return false;
    return true;
  }
  test::ScratchDir dir_;
  TrainConfig config_;
  LabeledSamples data_;
  std::unique_ptr<ClassificationDataset> dataset_;
};

TEST_F(ActiveTrainingTest, SeededRunsRepeatExactly) {
  EXPECT_TRUE(same(weights(1, true, true), weights(1, true, true)));
  EXPECT_FALSE(same(weights(1, true, true), weights(2, true, true)));
  // Hard-sample copies change what the second epoch sees.
  EXPECT_FALSE(same(weights(1, false, true), weights(1, false, false)));
}

TEST_F(ActiveTrainingTest, RefusesTooFewLabelsAndNonResNets) {
  ActiveTrainOptions o;
  EXPECT_THROW(train_active_model(config_, o, *dataset_, {0}, data_.labels(), 3), InputError);
  TrainConfig other = config_;
  other.arch = "separable_cnn";
  other.model.extra = nlohmann::json::object();
  EXPECT_THROW(train_active_model(other, o, *dataset_, {0, 1, 2}, data_.labels(), 3), ConfigError);
  o.hard_augment = true;
  o.hard.by = "predicted_loss";
  EXPECT_THROW(train_active_model(config_, o, *dataset_, {0, 1, 2}, data_.labels(), 3), ConfigError);
}

}  // namespace
}  // namespace hemapath
