// Behaviour every registered classifier shares, and the registry's errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"

namespace hemapath {
namespace {

const std::vector<std::string> kExpectedNames = {
    "resnet18",           "resnet34",           "resnet50",      "efficientnet_b0",
    "mobilenet_v3_large", "mobilenet_v3_small", "separable_cnn", "densenet121",
    "densenet201",        "vgg16",              "vgg16_bn",      "inception_resnet_v2"};

// Inception-ResNet-v2's unpadded stem needs at least 75 px; the others work from 32 px.
int64_t min_size(const std::string& arch) { return arch == "inception_resnet_v2" ? 75 : 32; }

// The square size most tests feed: small, but above every architecture's minimum.
int64_t test_size(const std::string& arch) { return arch == "inception_resnet_v2" ? 96 : 64; }

// Architectures without dropout by default (torchvision's ResNet and DenseNet, timm's
// Inception-ResNet-v2).
bool no_default_dropout(const std::string& arch) {
  return arch.rfind("resnet", 0) == 0 || arch.rfind("densenet", 0) == 0 ||
         arch == "inception_resnet_v2";
}

ClassifierOptions four_classes() {
  ClassifierOptions options;
  options.num_classes = 4;
  return options;
}

TEST(ModelsRegistry, ListsArchitecturesInRegistrationOrder) {
  EXPECT_EQ(classifier_names(), kExpectedNames);
}

TEST(ModelsRegistry, UnknownNameListsValidNames) {
  try {
    create_classifier("resnet19", four_classes());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown architecture 'resnet19'"), std::string::npos) << message;
    for (const auto& name : kExpectedNames) {
      EXPECT_NE(message.find(name), std::string::npos) << name << " missing in: " << message;
    }
  }
}

TEST(ModelsRegistry, UnknownExtraKeyIsConfigErrorNamingIt) {
  for (const auto& arch : kExpectedNames) {
    auto options = four_classes();
    options.extra = {{"widht", 0.5}};
    try {
      create_classifier(arch, options);
      FAIL() << arch << ": expected ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("widht"), std::string::npos) << e.what();
    }
  }
}

TEST(ModelsRegistry, MistypedOrInvalidOptionsAreConfigErrors) {
  auto options = four_classes();
  options.extra = {{"width", "wide"}};
  EXPECT_THROW(create_classifier("separable_cnn", options), ConfigError);
  options.extra = {{"width", 0.0}};
  EXPECT_THROW(create_classifier("separable_cnn", options), ConfigError);
  options.extra = nlohmann::json::array();
  EXPECT_THROW(create_classifier("separable_cnn", options), ConfigError);

  auto bad_classes = four_classes();
  bad_classes.num_classes = 0;
  EXPECT_THROW(create_classifier("resnet18", bad_classes), ConfigError);
  auto bad_dropout = four_classes();
  bad_dropout.dropout = 1.0;
  EXPECT_THROW(create_classifier("mobilenet_v3_small", bad_dropout), ConfigError);
}

TEST(ModelsRegistry, KnownExtrasAreApplied) {
  torch::manual_seed(0);
  auto options = four_classes();
  options.extra = {{"zero_init_residual", true}};
  auto resnet = create_classifier("resnet18", options);
  for (const auto& item : resnet->named_parameters()) {
    if (item.key().find("bn2.weight") != std::string::npos) {
      EXPECT_EQ(item.value().abs().sum().item<double>(), 0.0) << item.key();
    }
  }
  options.extra = {{"width_mult", 0.5}};
  auto narrow = create_classifier("mobilenet_v3_small", options);
  auto normal = create_classifier("mobilenet_v3_small", four_classes());
  EXPECT_EQ(narrow->named_parameters()["features.0.0.weight"].size(0), 8);
  EXPECT_EQ(normal->named_parameters()["features.0.0.weight"].size(0), 16);
}

TEST(ModelsRegistry, InceptionResNetV2RejectsImagesBelowItsMinimum) {
  auto model = create_classifier("inception_resnet_v2", four_classes());
  model->eval();
  torch::NoGradGuard no_grad;
  try {
    model->forward(torch::randn({1, 3, 74, 96}));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("75x75"), std::string::npos) << e.what();
  }
  EXPECT_EQ(model->forward(torch::randn({1, 3, 75, 75})).sizes().vec(),
            (std::vector<int64_t>{1, 4}));
}

class ModelsClassifier : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelsClassifier, OutputShapeForSeveralInputSizes) {
  torch::manual_seed(1);
  auto model = create_classifier(GetParam(), four_classes());
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t base = test_size(GetParam());
  for (const int64_t size : {min_size(GetParam()), base, base + 32}) {
    const auto logits = model->forward(torch::randn({2, 3, size, size}));
    EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{2, 4})) << size;
    EXPECT_TRUE(logits.isfinite().all().item<bool>()) << size;
  }
  const auto rect = model->forward(torch::randn({2, 3, base, base + 32}));
  EXPECT_EQ(rect.sizes().vec(), (std::vector<int64_t>{2, 4}));
}

TEST_P(ModelsClassifier, InChannelsOptionChangesTheInput) {
  torch::manual_seed(2);
  auto options = four_classes();
  options.in_channels = 1;
  auto model = create_classifier(GetParam(), options);
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t size = test_size(GetParam());
  EXPECT_EQ(model->forward(torch::randn({2, 1, size, size})).sizes().vec(),
            (std::vector<int64_t>{2, 4}));
  EXPECT_ANY_THROW(model->forward(torch::randn({2, 3, size, size})));
}

TEST_P(ModelsClassifier, EvalIsDeterministic) {
  torch::manual_seed(3);
  auto model = create_classifier(GetParam(), four_classes());
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t size = test_size(GetParam());
  const auto x = torch::randn({2, 3, size, size});
  EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x)));
}

TEST_P(ModelsClassifier, TrainingDropoutMakesCallsDiffer) {
  torch::manual_seed(4);
  auto options = four_classes();
  // Some have no dropout by default; ask for some so the option is exercised too.
  if (no_default_dropout(GetParam())) options.dropout = 0.5;
  auto model = create_classifier(GetParam(), options);
  model->train();
  torch::NoGradGuard no_grad;
  const int64_t size = test_size(GetParam());
  const auto x = torch::randn({2, 3, size, size});
  EXPECT_FALSE(torch::allclose(model->forward(x), model->forward(x)));
}

TEST_P(ModelsClassifier, ZeroDropoutTrainingIsRepeatableExceptStochasticDepth) {
  torch::manual_seed(5);
  auto options = four_classes();
  options.dropout = 0.0;
  auto model = create_classifier(GetParam(), options);
  model->train();
  torch::NoGradGuard no_grad;
  const int64_t size = test_size(GetParam());
  const auto x = torch::randn({2, 3, size, size});
  const bool same = torch::allclose(model->forward(x), model->forward(x));
  // Only EfficientNet keeps randomness (stochastic depth) without dropout.
  EXPECT_EQ(same, GetParam() != "efficientnet_b0");
}

TEST_P(ModelsClassifier, HeadPrefixNamesTheLastLayer) {
  torch::manual_seed(6);
  auto model = create_classifier(GetParam(), four_classes());
  const std::string prefix = model->head_prefix() + ".";
  int found = 0;
  for (const auto& item : model->named_parameters()) {
    if (item.key().rfind(prefix, 0) != 0) continue;
    ++found;
    // Only the layer that produces the logits: its output dimension is num_classes.
    EXPECT_EQ(item.value().size(0), 4) << item.key();
  }
  EXPECT_EQ(found, 2) << prefix;  // weight and bias
  // The head maps features to logits, so its parameters are the last ones registered.
  const auto keys = model->named_parameters().keys();
  ASSERT_GE(keys.size(), 2u);
  for (size_t i = keys.size() - 2; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i].rfind(prefix, 0), 0u) << keys[i];
  }
}

TEST_P(ModelsClassifier, BackwardReachesEveryParameter) {
  torch::manual_seed(7);
  auto model = create_classifier(GetParam(), four_classes());
  model->train();
  const int64_t size = test_size(GetParam());
  const auto loss = torch::nn::functional::cross_entropy(
      model->forward(torch::randn({2, 3, size, size})), torch::tensor({0, 3}));
  loss.backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelsClassifier, ::testing::ValuesIn(kExpectedNames),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hemapath
