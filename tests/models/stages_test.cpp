// Backbone stages (what --freeze acts on) and the feature map the autoencoder encodes.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"

namespace hemapath {
namespace {

bool starts_with_prefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix + ".", 0) == 0;
}

ClassifierPtr small_model(const std::string& arch) {
  torch::manual_seed(0);
  ClassifierOptions options;
  options.num_classes = 3;
  return create_classifier(arch, options);
}

// Every parameter belongs to exactly one stage or to the head module; stages come in order.
TEST(ModelsStages, PartitionTheBackboneForEveryArchitecture) {
  for (const auto& arch : classifier_names()) {
    SCOPED_TRACE(arch);
    auto model = small_model(arch);
    const auto stages = model->stages();
    ASSERT_GE(stages.size(), 3u);
    const std::string head_module = model->head_prefix().substr(0, model->head_prefix().find('.'));
    for (const auto& item : model->named_parameters()) {
      int owners = 0;
      for (const auto& stage : stages)
        for (const auto& prefix : stage) owners += starts_with_prefix(item.key(), prefix);
      EXPECT_EQ(owners + starts_with_prefix(item.key(), head_module), 1) << item.key();
    }
  }
}

TEST(ModelsStages, FollowEachArchitecturesResolutionSteps) {
  using Stages = std::vector<ClassifierImpl::Stage>;
  EXPECT_EQ(small_model("resnet18")->stages(),
            (Stages{{"conv1", "bn1"}, {"layer1"}, {"layer2"}, {"layer3"}, {"layer4"}}));
  EXPECT_EQ(small_model("vgg16")->stages(),
            (Stages{{"features.0", "features.2"},
                    {"features.5", "features.7"},
                    {"features.10", "features.12", "features.14"},
                    {"features.17", "features.19", "features.21"},
                    {"features.24", "features.26", "features.28"}}));
  const Stages dense = small_model("densenet121")->stages();
  ASSERT_EQ(dense.size(), 5u);
  EXPECT_EQ(dense[0], (ClassifierImpl::Stage{"features.conv0", "features.norm0"}));
  EXPECT_EQ(dense[1], (ClassifierImpl::Stage{"features.denseblock1", "features.transition1"}));
  EXPECT_EQ(dense[4], (ClassifierImpl::Stage{"features.denseblock4", "features.norm5"}));
  EXPECT_EQ(small_model("efficientnet_b0")->stages().size(), 9u);  // stem, 7 MBConv stages, head conv
}

TEST(ModelsStages, ForwardIsPooledFeaturesThroughTheHead) {
  for (const std::string arch : {"resnet18", "separable_cnn", "mobilenet_v3_small"}) {
    SCOPED_TRACE(arch);
    auto model = small_model(arch);
    model->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor x = torch::rand({2, 3, 64, 64});
    torch::Tensor features = model->forward_features(x);
    ASSERT_EQ(features.dim(), 4);
    EXPECT_EQ(features.size(0), 2);
    EXPECT_LT(features.size(2), 64);  // downsampled
    EXPECT_EQ(model->forward(x).sizes(), (std::vector<int64_t>{2, 3}));
  }
}

}  // namespace
}  // namespace hemapath
