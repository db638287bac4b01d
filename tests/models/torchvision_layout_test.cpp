// The torchvision architectures must match torchvision's parameter counts and state-dict
// layout exactly, so torchvision weights load by name.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "models/model_test_util.h"

namespace hemapath {
namespace {

using Shapes = std::map<std::string, std::vector<int64_t>>;

struct LayoutCase {
  std::string arch;
  int64_t parameters;     // torchvision's published count at 1000 classes
  size_t parameter_tensors;
  size_t state_dict_entries;  // parameters + buffers
  Shapes expected;        // a sample of keys and shapes
  std::vector<std::string> absent;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.arch; }

// Entry counts follow from the layouts: every conv has a weight, every BatchNorm 2 parameters
// and 3 buffers (running_mean, running_var, num_batches_tracked), every linear 2 parameters.
// resnet18: 20 convs + 20 BN + fc -> 62 parameters, 60 buffers.
// resnet34: 36 convs + 36 BN + fc -> 110 parameters, 108 buffers.
// resnet50: 53 convs + 53 BN + fc -> 161 parameters, 159 buffers.
// efficientnet_b0: stem, 16 MBConv (1 without expansion: 2 conv-bn + SE; 15 with: 3 conv-bn +
//   SE, SE = 2 convs with bias), head conv, linear -> 49 conv-bn, 213 parameters, 147 buffers.
// mobilenet_v3_large: stem, 15 blocks (14 with expansion, 8 with SE), last conv -> 46 conv-bn,
//   8 SE, 2 linears -> 138 + 32 + 4 = 174 parameters, 138 buffers.
// mobilenet_v3_small: stem, 11 blocks (10 with expansion, 9 with SE), last conv -> 34 conv-bn,
//   9 SE, 2 linears -> 102 + 36 + 4 = 142 parameters, 102 buffers.
// densenet121: conv0, 58 dense layers (2 convs, 2 BN), 3 transitions (conv, BN), norm0, norm5,
//   linear -> 120 convs, 121 BN -> 364 parameters, 363 buffers.
// densenet201: 98 dense layers -> 200 convs, 201 BN -> 604 parameters, 603 buffers.
// vgg16: 13 convs and 3 linears, all with bias -> 32 parameters, no buffers.
// vgg16_bn: plus 13 BN -> 58 parameters, 39 buffers.
// inception_resnet_v2 (timm's layout and count; torchvision has none): 204 BasicConv2d (conv +
//   BN: stem 5, mixed_5b 7, 10 x Block35 6, mixed_6a 4, 20 x Block17 4, mixed_7a 7,
//   10 x Block8 4, conv2d_7b 1), 40 residual 1x1 convs with bias, linear
//   -> 612 + 80 + 2 = 694 parameters, 612 buffers.
const std::vector<LayoutCase>& cases() {
  static const std::vector<LayoutCase> all = {
      {"resnet18", 11689512, 62, 122,
       {{"conv1.weight", {64, 3, 7, 7}},
        {"bn1.weight", {64}},
        {"bn1.running_mean", {64}},
        {"bn1.num_batches_tracked", {}},
        {"layer1.0.conv1.weight", {64, 64, 3, 3}},
        {"layer1.1.bn2.running_var", {64}},
        {"layer2.0.conv1.weight", {128, 64, 3, 3}},
        {"layer2.0.downsample.0.weight", {128, 64, 1, 1}},
        {"layer2.0.downsample.1.weight", {128}},
        {"layer2.0.downsample.1.num_batches_tracked", {}},
        {"layer4.1.conv2.weight", {512, 512, 3, 3}},
        {"fc.weight", {1000, 512}},
        {"fc.bias", {1000}}},
       {"layer1.0.downsample.0.weight", "layer2.1.downsample.0.weight", "layer1.0.conv3.weight"}},
      {"resnet34", 21797672, 110, 218,
       {{"layer1.2.conv2.weight", {64, 64, 3, 3}},
        {"layer2.3.bn1.bias", {128}},
        {"layer3.5.conv2.weight", {256, 256, 3, 3}},
        {"layer4.0.downsample.0.weight", {512, 256, 1, 1}},
        {"layer4.2.bn2.running_mean", {512}},
        {"fc.weight", {1000, 512}}},
       {"layer3.6.conv1.weight", "layer4.3.conv1.weight"}},
      {"resnet50", 25557032, 161, 320,
       {{"conv1.weight", {64, 3, 7, 7}},
        {"layer1.0.conv1.weight", {64, 64, 1, 1}},
        {"layer1.0.conv3.weight", {256, 64, 1, 1}},
        {"layer1.0.downsample.0.weight", {256, 64, 1, 1}},
        {"layer1.1.conv1.weight", {64, 256, 1, 1}},
        {"layer2.0.conv1.weight", {128, 256, 1, 1}},
        {"layer2.0.conv2.weight", {128, 128, 3, 3}},
        {"layer2.0.downsample.0.weight", {512, 256, 1, 1}},
        {"layer3.5.conv3.weight", {1024, 256, 1, 1}},
        {"layer4.2.conv3.weight", {2048, 512, 1, 1}},
        {"layer4.2.bn3.running_var", {2048}},
        {"fc.weight", {1000, 2048}}},
       {"layer1.1.downsample.0.weight", "layer3.6.conv1.weight"}},
      {"efficientnet_b0", 5288548, 213, 360,
       {{"features.0.0.weight", {32, 3, 3, 3}},
        {"features.0.1.running_var", {32}},
        {"features.1.0.block.0.0.weight", {32, 1, 3, 3}},
        {"features.1.0.block.0.1.weight", {32}},
        {"features.1.0.block.1.fc1.weight", {8, 32, 1, 1}},
        {"features.1.0.block.1.fc1.bias", {8}},
        {"features.1.0.block.1.fc2.weight", {32, 8, 1, 1}},
        {"features.1.0.block.2.0.weight", {16, 32, 1, 1}},
        {"features.2.0.block.0.0.weight", {96, 16, 1, 1}},
        {"features.2.0.block.1.0.weight", {96, 1, 3, 3}},
        {"features.2.0.block.2.fc1.weight", {4, 96, 1, 1}},
        {"features.2.1.block.2.fc1.weight", {6, 144, 1, 1}},
        {"features.3.0.block.1.0.weight", {144, 1, 5, 5}},
        {"features.6.3.block.3.1.num_batches_tracked", {}},
        {"features.7.0.block.3.0.weight", {320, 1152, 1, 1}},
        {"features.8.0.weight", {1280, 320, 1, 1}},
        {"features.8.1.bias", {1280}},
        {"classifier.1.weight", {1000, 1280}},
        {"classifier.1.bias", {1000}}},
       {"features.1.0.block.3.0.weight", "features.6.4.block.0.0.weight", "features.9.0.weight",
        "classifier.0.weight"}},
      {"mobilenet_v3_large", 5483032, 174, 312,
       {{"features.0.0.weight", {16, 3, 3, 3}},
        {"features.0.1.running_mean", {16}},
        {"features.1.block.0.0.weight", {16, 1, 3, 3}},
        {"features.1.block.1.0.weight", {16, 16, 1, 1}},
        {"features.2.block.0.0.weight", {64, 16, 1, 1}},
        {"features.2.block.1.0.weight", {64, 1, 3, 3}},
        {"features.4.block.1.0.weight", {72, 1, 5, 5}},
        {"features.4.block.2.fc1.weight", {24, 72, 1, 1}},
        {"features.4.block.2.fc2.weight", {72, 24, 1, 1}},
        {"features.4.block.3.0.weight", {40, 72, 1, 1}},
        {"features.11.block.2.fc1.weight", {120, 480, 1, 1}},
        {"features.15.block.3.1.num_batches_tracked", {}},
        {"features.16.0.weight", {960, 160, 1, 1}},
        {"classifier.0.weight", {1280, 960}},
        {"classifier.3.weight", {1000, 1280}},
        {"classifier.3.bias", {1000}}},
       {"features.1.block.2.0.weight", "features.17.0.weight", "classifier.1.weight"}},
      {"mobilenet_v3_small", 2542856, 142, 244,
       {{"features.0.0.weight", {16, 3, 3, 3}},
        {"features.1.block.0.0.weight", {16, 1, 3, 3}},
        {"features.1.block.1.fc1.weight", {8, 16, 1, 1}},
        {"features.1.block.1.fc2.bias", {16}},
        {"features.1.block.2.0.weight", {16, 16, 1, 1}},
        {"features.2.block.0.0.weight", {72, 16, 1, 1}},
        {"features.4.block.2.fc1.weight", {24, 96, 1, 1}},
        {"features.9.block.1.0.weight", {288, 1, 5, 5}},
        {"features.11.block.3.0.weight", {96, 576, 1, 1}},
        {"features.12.0.weight", {576, 96, 1, 1}},
        {"classifier.0.weight", {1024, 576}},
        {"classifier.3.weight", {1000, 1024}}},
       {"features.2.block.3.0.weight", "features.13.0.weight"}},
      {"densenet121", 7978856, 364, 727,
       {{"features.conv0.weight", {64, 3, 7, 7}},
        {"features.norm0.running_mean", {64}},
        {"features.denseblock1.denselayer1.norm1.weight", {64}},
        {"features.denseblock1.denselayer1.conv1.weight", {128, 64, 1, 1}},
        {"features.denseblock1.denselayer1.norm2.num_batches_tracked", {}},
        {"features.denseblock1.denselayer1.conv2.weight", {32, 128, 3, 3}},
        {"features.denseblock1.denselayer6.conv1.weight", {128, 224, 1, 1}},
        {"features.transition1.norm.weight", {256}},
        {"features.transition1.conv.weight", {128, 256, 1, 1}},
        {"features.denseblock2.denselayer12.conv1.weight", {128, 480, 1, 1}},
        {"features.transition2.conv.weight", {256, 512, 1, 1}},
        {"features.denseblock3.denselayer24.norm1.running_var", {992}},
        {"features.transition3.conv.weight", {512, 1024, 1, 1}},
        {"features.denseblock4.denselayer16.conv2.weight", {32, 128, 3, 3}},
        {"features.norm5.weight", {1024}},
        {"classifier.weight", {1000, 1024}},
        {"classifier.bias", {1000}}},
       {"features.denseblock1.denselayer7.conv1.weight",
        "features.denseblock1.denselayer0.norm1.weight", "features.transition4.conv.weight",
        "features.denseblock1.denselayer1.conv1.bias"}},
      {"densenet201", 20013928, 604, 1207,
       {{"features.conv0.weight", {64, 3, 7, 7}},
        {"features.denseblock3.denselayer48.conv1.weight", {128, 1760, 1, 1}},
        {"features.transition3.conv.weight", {896, 1792, 1, 1}},
        {"features.denseblock4.denselayer32.norm1.weight", {1888}},
        {"features.norm5.running_mean", {1920}},
        {"classifier.weight", {1000, 1920}}},
       {"features.denseblock3.denselayer49.conv1.weight",
        "features.denseblock4.denselayer33.conv1.weight"}},
      {"vgg16", 138357544, 32, 32,
       {{"features.0.weight", {64, 3, 3, 3}},
        {"features.0.bias", {64}},
        {"features.2.weight", {64, 64, 3, 3}},
        {"features.5.weight", {128, 64, 3, 3}},
        {"features.10.weight", {256, 128, 3, 3}},
        {"features.17.weight", {512, 256, 3, 3}},
        {"features.28.weight", {512, 512, 3, 3}},
        {"classifier.0.weight", {4096, 25088}},
        {"classifier.3.weight", {4096, 4096}},
        {"classifier.6.weight", {1000, 4096}},
        {"classifier.6.bias", {1000}}},
       {"features.1.weight", "features.4.weight", "features.30.weight", "features.31.weight",
        "classifier.1.weight", "classifier.7.weight"}},
      {"vgg16_bn", 138365992, 58, 97,
       {{"features.0.weight", {64, 3, 3, 3}},
        {"features.1.weight", {64}},
        {"features.1.running_var", {64}},
        {"features.7.weight", {128, 64, 3, 3}},
        {"features.14.weight", {256, 128, 3, 3}},
        {"features.24.weight", {512, 256, 3, 3}},
        {"features.40.weight", {512, 512, 3, 3}},
        {"features.41.num_batches_tracked", {}},
        {"classifier.0.weight", {4096, 25088}},
        {"classifier.6.weight", {1000, 4096}}},
       {"features.2.weight", "features.43.weight", "features.44.weight"}},
      {"inception_resnet_v2", 55843464, 694, 1306,
       {{"conv2d_1a.conv.weight", {32, 3, 3, 3}},
        {"conv2d_1a.bn.running_mean", {32}},
        {"conv2d_4a.conv.weight", {192, 80, 3, 3}},
        {"mixed_5b.branch0.conv.weight", {96, 192, 1, 1}},
        {"mixed_5b.branch1.1.conv.weight", {64, 48, 5, 5}},
        {"mixed_5b.branch3.1.conv.weight", {64, 192, 1, 1}},
        {"repeat.0.branch2.2.conv.weight", {64, 48, 3, 3}},
        {"repeat.9.conv2d.weight", {320, 128, 1, 1}},
        {"repeat.9.conv2d.bias", {320}},
        {"mixed_6a.branch0.conv.weight", {384, 320, 3, 3}},
        {"mixed_6a.branch1.2.conv.weight", {384, 256, 3, 3}},
        {"repeat_1.0.conv2d.weight", {1088, 384, 1, 1}},
        {"repeat_1.19.branch1.1.conv.weight", {160, 128, 1, 7}},
        {"mixed_7a.branch2.2.conv.weight", {320, 288, 3, 3}},
        {"repeat_2.8.branch1.2.conv.weight", {256, 224, 3, 1}},
        {"block8.conv2d.weight", {2080, 448, 1, 1}},
        {"conv2d_7b.conv.weight", {1536, 2080, 1, 1}},
        {"conv2d_7b.bn.weight", {1536}},
        {"classif.weight", {1000, 1536}},
        {"classif.bias", {1000}}},
       {"repeat.10.conv2d.weight", "repeat_2.9.conv2d.weight", "mixed_5b.branch3.0.weight",
        "conv2d_1a.conv.bias", "fc.weight"}},
  };
  return all;
}

class ModelsTorchvisionLayout : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(ModelsTorchvisionLayout, MatchesTorchvision) {
  torch::manual_seed(0);
  const auto& c = GetParam();
  auto model = create_classifier(c.arch, ClassifierOptions{});
  EXPECT_EQ(testing::parameter_count(*model), c.parameters);
  EXPECT_EQ(model->parameters().size(), c.parameter_tensors);
  const auto shapes = testing::state_dict_shapes(*model);
  EXPECT_EQ(shapes.size(), c.state_dict_entries);
  for (const auto& [key, shape] : c.expected) {
    const auto found = shapes.find(key);
    ASSERT_NE(found, shapes.end()) << "missing state-dict key " << key;
    EXPECT_EQ(found->second, shape) << key;
  }
  for (const auto& key : c.absent) EXPECT_EQ(shapes.count(key), 0u) << "unexpected key " << key;
}

INSTANTIATE_TEST_SUITE_P(Models, ModelsTorchvisionLayout, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.arch; });

}  // namespace
}  // namespace hemapath
