// Attention modules (SE, CBAM, ECA) and their place in ResNet blocks.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "hemapath/core/error.h"
#include "hemapath/models/attention.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/complexity.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/resnet.h"

namespace hemapath {
namespace {

int64_t params(const torch::nn::Module& m) { return count_parameters(m); }

TEST(Attention, ParameterCountsFollowTheFormulas) {
  const int64_t c = 64, r = 16, h = c / r;
  EXPECT_EQ(params(*make_attention(AttentionKind::kSE, c, r)), c * h + h + h * c + c);
  EXPECT_EQ(params(*make_attention(AttentionKind::kCBAM, c, r)), c * h + h + h * c + c + 2 * 7 * 7);
  EXPECT_EQ(params(*make_attention(AttentionKind::kECA, c)), 3);
  EXPECT_EQ(make_attention(AttentionKind::kNone, c), nullptr);
}

TEST(Attention, EcaKernelSizeFollowsThePaper) {
  EXPECT_EQ(ECAImpl::kernel_size(64), 3);
  EXPECT_EQ(ECAImpl::kernel_size(128), 5);
  EXPECT_EQ(ECAImpl::kernel_size(256), 5);
  EXPECT_EQ(ECAImpl::kernel_size(512), 5);
  EXPECT_EQ(ECAImpl::kernel_size(2048), 7);
}

TEST(Attention, ZeroWeightsGateByOneHalfPerStage) {
  torch::manual_seed(1);
  const auto x = torch::randn({2, 32, 5, 7});
  torch::NoGradGuard no_grad;
  for (auto kind : {AttentionKind::kSE, AttentionKind::kCBAM, AttentionKind::kECA}) {
    auto module = make_attention(kind, 32, 8);
    for (auto& p : module->parameters()) p.zero_();
    const auto y = module->forward(x);
    ASSERT_EQ(y.sizes(), x.sizes());
    // sigmoid(0) = 0.5 per gate: SE and ECA have one gate, CBAM a channel and a spatial one.
    const double expected = kind == AttentionKind::kCBAM ? 0.25 : 0.5;
    EXPECT_TRUE(torch::allclose(y, x * expected, 1e-6, 1e-6)) << attention_name(kind);
  }
}

TEST(Attention, EcaGateIsTheSigmoidOfNeighbouringChannelMeans) {
  ECAImpl eca(64);  // k = 3
  torch::NoGradGuard no_grad;
  eca.parameters()[0].copy_(torch::tensor({0.0f, 1.0f, 0.0f}).view({1, 1, 3}));  // picks the channel itself
  torch::manual_seed(2);
  const auto x = torch::randn({1, 64, 4, 4});
  const auto expected = x * torch::sigmoid(x.mean({2, 3})).view({1, 64, 1, 1});
  EXPECT_TRUE(torch::allclose(eca.forward(x), expected, 1e-6, 1e-6));
}

TEST(Attention, ResNetKeepsTorchvisionNamesAndAddsOneModulePerBlock) {
  ClassifierOptions plain;
  plain.num_classes = 5;
  const auto base = create_classifier("resnet18", plain);
  std::set<std::string> base_names;
  for (const auto& p : base->named_parameters()) base_names.insert(p.key());
  for (const std::string kind : {"se", "cbam", "eca"}) {
    ClassifierOptions o = plain;
    o.extra = {{"attention", kind}};
    const auto model = create_classifier("resnet18", o);
    std::set<std::string> blocks_with_attention;
    int64_t added = 0;
    for (const auto& p : model->named_parameters()) {
      if (base_names.count(p.key())) continue;
      const auto at = p.key().find(".attention.");
      ASSERT_NE(at, std::string::npos) << p.key();
      blocks_with_attention.insert(p.key().substr(0, at));
      added += p.value().numel();
    }
    EXPECT_EQ(blocks_with_attention.size(), 8u) << kind;  // ResNet-18: 2 blocks x 4 stages
    int64_t expected = 0;
    for (int64_t c : {64, 64, 128, 128, 256, 256, 512, 512})
      expected += params(*make_attention(parse_attention(kind), c, 16));
    EXPECT_EQ(added, expected) << kind;
    EXPECT_EQ(model->forward(torch::randn({2, 3, 64, 64})).sizes(), (std::vector<int64_t>{2, 5}));
  }
}

TEST(Attention, UnknownNamesAreRefused) {
  EXPECT_THROW(parse_attention("sk"), ConfigError);
  ClassifierOptions o;
  o.extra = {{"attention", "sk"}};
  try {
    create_classifier("resnet18", o);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cbam"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
