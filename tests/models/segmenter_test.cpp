// Segmentation networks: output shapes for every registered segmenter, U-Net's options and
// parameter counts, classifier encoders (stage features, names, starting from a classifier's or
// an autoencoder's weights), and clear errors for bad inputs and options.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/autoencoder.h"
#include "hemapath/models/deeplabv3.h"
#include "hemapath/models/fcn.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/resnet.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/models/unet.h"
#include "hemapath/models/weight_import.h"
#include "model_test_util.h"
#include "test_support.h"

namespace hemapath {
namespace {

using test::contains;
using test::error_of;

SegmenterOptions seg_options(int64_t classes, nlohmann::json extra = nlohmann::json::object()) {
  SegmenterOptions options;
  options.num_classes = classes;
  options.extra = std::move(extra);
  return options;
}

ClassifierPtr classifier(const std::string& arch, int64_t classes = 2) {
  ClassifierOptions options;
  options.num_classes = classes;
  return create_classifier(arch, options);
}

class SegmenterTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

// --- every registered segmenter --------------------------------------------------------------

TEST_F(SegmenterTest, EveryRegisteredSegmenterGivesLogitsAtTheInputSize) {
  EXPECT_EQ(segmenter_names(), (std::vector<std::string>{"unet", "mrn", "fcn_resnet50", "deeplabv3_resnet50"}));
  for (const auto& arch : segmenter_names()) {
    for (const int64_t classes : {1, 3}) {
      SCOPED_TRACE(arch + " " + std::to_string(classes));
      SegmenterOptions options = seg_options(classes);
      const int64_t channels = arch == "mrn" ? 6 : 3;  // MRN takes the fine and the context patch
      options.in_channels = channels;
      auto model = create_segmenter(arch, options);
      // Batch 2 in training mode: DeepLab's image pooling branch normalises over the batch.
      const torch::Tensor y = model->forward(torch::randn({2, channels, 64, 64}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, classes, 64, 64}));
      if (arch == "deeplabv3_resnet50") {
        EXPECT_THROW(model->forward(torch::randn({1, 3, 64, 64})), InputError);
      }
      model->eval();
      torch::NoGradGuard no_grad;
      EXPECT_EQ(model->forward(torch::randn({1, channels, 32, 96})).sizes(), (std::vector<int64_t>{1, classes, 32, 96}));
    }
  }
}

TEST_F(SegmenterTest, OutputStrideAndEncoderPrefixPerArchitecture) {
  EXPECT_EQ(create_segmenter("unet", seg_options(1))->output_stride(), 16);
  EXPECT_EQ(create_segmenter("unet", seg_options(1, {{"depth", 2}, {"width", 4}}))->output_stride(), 4);
  EXPECT_EQ(create_segmenter("unet", seg_options(1))->encoder_prefix(), "");
  EXPECT_EQ(create_segmenter("unet", seg_options(1))->encoder(), nullptr);
  auto unet18 = create_segmenter("unet", seg_options(1, {{"encoder", "resnet18"}}));
  EXPECT_EQ(unet18->output_stride(), 32);
  EXPECT_EQ(unet18->encoder_prefix(), "encoder");
  ASSERT_NE(unet18->encoder(), nullptr);
  EXPECT_EQ(unet18->encoder()->head_prefix(), "fc");
  auto fcn = create_segmenter("fcn_resnet50", seg_options(1, {{"backbone", "resnet18"}}));
  EXPECT_EQ(fcn->output_stride(), 8);
  EXPECT_EQ(fcn->encoder_prefix(), "backbone");
  EXPECT_NE(fcn->encoder(), nullptr);
}

// --- U-Net --------------------------------------------------------------------------------

TEST_F(SegmenterTest, UNetParameterCountsMatchTheHandCount) {
  // width 4, depth 1, 3 -> 1 channels. down.0: 3*4*9 + 4*4*9 convs + 2 BN (8 each) = 268;
  // down.1: 4*8*9 + 8*8*9 + 2*16 = 896; head: 4 + 1 = 5.
  // transposed up.0: ConvTranspose 8*4*2*2 + 4 = 132, double conv (4+4 -> 4) 288 + 144 + 16 = 448.
  // bilinear up.0: double conv (8+4 -> 4) 432 + 144 + 16 = 592.
  auto count = [](nlohmann::json extra, int64_t classes = 1) {
    return testing::parameter_count(*create_segmenter("unet", seg_options(classes, std::move(extra))));
  };
  EXPECT_EQ(count({{"depth", 1}, {"width", 4}, {"upsampling", "transposed"}}), 268 + 896 + 132 + 448 + 5);
  EXPECT_EQ(count({{"depth", 1}, {"width", 4}, {"upsampling", "bilinear"}}), 268 + 896 + 592 + 5);
  // depth 2 adds down.2 (8 -> 16: 1152 + 2304 + 64 = 3520) and up.1 (ConvTranspose 16*8*4 + 8 = 520,
  // double conv 16 -> 8: 1152 + 576 + 32 = 1760); 2 classes make the head 4*2 + 2.
  EXPECT_EQ(count({{"depth", 2}, {"width", 4}, {"upsampling", "transposed"}}, 2),
            268 + 896 + 3520 + 520 + 1760 + 132 + 448 + 10);
  // width 8, depth 1: down.0 216 + 576 + 32 = 824, down.1 3520, up.0 520 + 1760, head 9.
  EXPECT_EQ(count({{"depth", 1}, {"width", 8}, {"upsampling", "transposed"}}), 824 + 3520 + 520 + 1760 + 9);
}

TEST_F(SegmenterTest, UNetLayoutNamesAndUpsamplingModes) {
  auto transposed = create_segmenter("unet", seg_options(2, {{"depth", 2}, {"width", 4}, {"upsampling", "transposed"}}));
  const auto shapes = testing::state_dict_shapes(*transposed);
  EXPECT_EQ(shapes.at("down.0.0.0.weight"), (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(shapes.at("down.2.1.0.weight"), (std::vector<int64_t>{16, 16, 3, 3}));
  EXPECT_EQ(shapes.at("up.1.up.weight"), (std::vector<int64_t>{16, 8, 2, 2}));
  EXPECT_EQ(shapes.at("up.0.conv.0.0.weight"), (std::vector<int64_t>{4, 8, 3, 3}));
  EXPECT_EQ(shapes.at("head.weight"), (std::vector<int64_t>{2, 4, 1, 1}));
  auto bilinear = create_segmenter("unet", seg_options(2, {{"depth", 2}, {"width", 4}}));
  const auto bilinear_shapes = testing::state_dict_shapes(*bilinear);
  EXPECT_EQ(bilinear_shapes.count("up.1.up.weight"), 0u);
  EXPECT_EQ(bilinear_shapes.at("up.0.conv.0.0.weight"), (std::vector<int64_t>{4, 12, 3, 3}));
  for (auto* model : {&transposed, &bilinear}) {
    const torch::Tensor y = (*model)->forward(torch::randn({2, 3, 16, 12}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 2, 16, 12}));
  }
}

TEST_F(SegmenterTest, UNetWithEveryEncoderTrainsEndToEnd) {
  for (const auto& [encoder, upsampling] : std::vector<std::pair<std::string, std::string>>{
           {"resnet18", "bilinear"}, {"resnet18", "transposed"}, {"resnet34", "bilinear"},
           {"resnet50", "transposed"}, {"efficientnet_b0", "bilinear"}}) {
    SCOPED_TRACE(encoder + " " + upsampling);
    auto model = create_segmenter("unet", seg_options(3, {{"encoder", encoder}, {"upsampling", upsampling}, {"width", 8}}));
    const torch::Tensor y = model->forward(torch::randn({2, 3, 64, 32}));
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 64, 32}));
    y.logsumexp(1).mean().backward();
    // Every parameter, the encoder's included, takes part: no unused classifier head is left.
    for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().grad().defined()) << p.key();
  }
}

TEST_F(SegmenterTest, UNetEncoderParametersAreTheClassifiersUnderEncoder) {
  auto model = create_segmenter("unet", seg_options(1, {{"encoder", "resnet18"}}));
  const auto own = testing::state_dict_shapes(*model);
  EXPECT_EQ(own.at("encoder.layer1.0.conv1.weight"), (std::vector<int64_t>{64, 64, 3, 3}));
  EXPECT_EQ(own.at("encoder.conv1.weight"), (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(own.count("encoder.fc.weight"), 0u);
  // Exactly the classifier's (and so the autoencoder's) names below the prefix, head aside.
  size_t matched = 0;
  for (const auto& [name, shape] : testing::state_dict_shapes(*classifier("resnet18"))) {
    if (name.rfind("fc.", 0) == 0) continue;
    ASSERT_TRUE(own.count("encoder." + name)) << name;
    EXPECT_EQ(own.at("encoder." + name), shape) << name;
    ++matched;
  }
  size_t under_encoder = 0;
  for (const auto& entry : own) under_encoder += entry.first.rfind("encoder.", 0) == 0;
  EXPECT_EQ(matched, under_encoder);
  AutoencoderOptions ae;
  ae.input_size = 64;
  for (const auto& [name, shape] : testing::state_dict_shapes(Autoencoder(ae)->encoder())) {
    if (name.rfind("fc.", 0) != 0) {
      EXPECT_EQ(own.at("encoder." + name), shape) << name;
    }
  }
}

// --- classifier stage features --------------------------------------------------------------

std::vector<std::vector<int64_t>> stage_shapes(ClassifierImpl& model, int64_t side) {
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, side, side});
  const auto features = model.forward_stage_features(x);
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& f : features) shapes.push_back(f.sizes().vec());
  // The last stage is the feature map the classifier pools.
  EXPECT_TRUE(torch::allclose(features.back(), model.forward_features(x))) << model.name();
  return shapes;
}

TEST_F(SegmenterTest, ClassifiersGiveTheirFeaturesAtEachStride) {
  using Shapes = std::vector<std::vector<int64_t>>;
  EXPECT_EQ(stage_shapes(*classifier("resnet18"), 64),
            (Shapes{{1, 64, 32, 32}, {1, 64, 16, 16}, {1, 128, 8, 8}, {1, 256, 4, 4}, {1, 512, 2, 2}}));
  EXPECT_EQ(stage_shapes(*classifier("resnet50"), 64),
            (Shapes{{1, 64, 32, 32}, {1, 256, 16, 16}, {1, 512, 8, 8}, {1, 1024, 4, 4}, {1, 2048, 2, 2}}));
  EXPECT_EQ(stage_shapes(*classifier("efficientnet_b0"), 64),
            (Shapes{{1, 16, 32, 32}, {1, 24, 16, 16}, {1, 40, 8, 8}, {1, 112, 4, 4}, {1, 1280, 2, 2}}));
  const std::string message =
      error_of<ConfigError>([] { classifier("separable_cnn")->forward_stage_features(torch::zeros({1, 3, 32, 32})); });
  EXPECT_TRUE(contains(message, "SeparableCnn")) << message;
  EXPECT_TRUE(contains(message, "cannot serve as a U-Net encoder")) << message;
}

TEST_F(SegmenterTest, DilatedResNetKeepsItsShapesAndStopsAtStrideEight) {
  ResNet plain(ResNetOptions(50).num_classes(2));
  ResNet dilated(ResNetOptions(50).num_classes(2).replace_stride_with_dilation({false, true, true}));
  EXPECT_EQ(testing::state_dict_shapes(*plain), testing::state_dict_shapes(*dilated));
  using Shapes = std::vector<std::vector<int64_t>>;
  EXPECT_EQ(stage_shapes(*dilated, 64),
            (Shapes{{1, 64, 32, 32}, {1, 256, 16, 16}, {1, 512, 8, 8}, {1, 1024, 8, 8}, {1, 2048, 8, 8}}));
  // torchvision's layout: layer3's first block keeps dilation 1, the others run at 2; layer4 at 4.
  const auto convs = dilated->named_modules();
  EXPECT_EQ(convs["layer3.0.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 1);
  EXPECT_EQ(convs["layer3.1.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 2);
  EXPECT_EQ(convs["layer4.0.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 2);
  EXPECT_EQ(convs["layer4.2.conv2"]->as<torch::nn::Conv2d>()->options.stride()->at(0), 1);
  EXPECT_EQ(convs["layer4.2.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 4);
  EXPECT_THROW(ResNet(ResNetOptions(18).replace_stride_with_dilation({true})), ConfigError);
  // Basic blocks dilate too (hemapath's extension), keeping resnet18's shapes.
  ResNet dilated18(ResNetOptions(18).num_classes(2).replace_stride_with_dilation({false, true, true}));
  EXPECT_EQ(stage_shapes(*dilated18, 64).back(), (std::vector<int64_t>{1, 512, 8, 8}));
}

// --- FCN and DeepLabV3 ----------------------------------------------------------------------

TEST_F(SegmenterTest, FcnAndDeepLabHaveTorchvisionsNamesAndParameterCounts) {
  // torchvision's num_params for the COCO weights (21 classes, with the aux head) less its aux
  // FCNHead(1024, 21): 1024*256*9 + 2*256 + 256*21 + 21 = 2,365,205.
  auto fcn = create_segmenter("fcn_resnet50", seg_options(21));
  EXPECT_EQ(testing::parameter_count(*fcn), 35322218 - 2365205);
  auto deeplab = create_segmenter("deeplabv3_resnet50", seg_options(21));
  EXPECT_EQ(testing::parameter_count(*deeplab), 42004074 - 2365205);
  const auto fcn_shapes = testing::state_dict_shapes(*fcn);
  EXPECT_EQ(fcn_shapes.at("backbone.layer4.2.conv3.weight"), (std::vector<int64_t>{2048, 512, 1, 1}));
  EXPECT_EQ(fcn_shapes.at("classifier.0.weight"), (std::vector<int64_t>{512, 2048, 3, 3}));
  EXPECT_EQ(fcn_shapes.at("classifier.4.bias"), (std::vector<int64_t>{21}));
  EXPECT_EQ(fcn_shapes.count("backbone.fc.weight"), 0u);
  const auto deeplab_shapes = testing::state_dict_shapes(*deeplab);
  EXPECT_EQ(deeplab_shapes.at("classifier.0.convs.3.0.weight"), (std::vector<int64_t>{256, 2048, 3, 3}));
  EXPECT_EQ(deeplab_shapes.at("classifier.0.convs.4.1.weight"), (std::vector<int64_t>{256, 2048, 1, 1}));
  EXPECT_EQ(deeplab_shapes.at("classifier.0.convs.4.2.running_var"), (std::vector<int64_t>{256}));
  EXPECT_EQ(deeplab_shapes.at("classifier.0.project.0.weight"), (std::vector<int64_t>{256, 1280, 1, 1}));
  EXPECT_EQ(deeplab_shapes.at("classifier.4.weight"), (std::vector<int64_t>{21, 256, 1, 1}));
}

TEST_F(SegmenterTest, LighterBackbonesForFcnAndDeepLab) {
  for (const std::string arch : {"fcn_resnet50", "deeplabv3_resnet50"}) {
    SCOPED_TRACE(arch);
    auto model = create_segmenter(arch, seg_options(2, {{"backbone", "resnet18"}}));
    const auto shapes = testing::state_dict_shapes(*model);
    EXPECT_EQ(shapes.at("backbone.layer4.1.conv2.weight"), (std::vector<int64_t>{512, 512, 3, 3}));
    EXPECT_EQ(model->forward(torch::randn({2, 3, 40, 24})).sizes(), (std::vector<int64_t>{2, 2, 40, 24}));
  }
}

// --- starting the encoder from pretrained weights ---------------------------------------------

using testing::save_classifier;

// Every tensor of the segmenter's encoder equals the one of the same name in `weights`.
void expect_encoder_equals(SegmenterImpl& model, const StateDict& weights, size_t expected_count) {
  const StateDict own = state_dict_of(*model.encoder());
  EXPECT_EQ(own.size(), expected_count);
  for (const auto& [name, tensor] : own) {
    ASSERT_TRUE(weights.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, weights.at(name))) << name;
  }
}

TEST_F(SegmenterTest, EncoderStartsFromAClassifierStateDictAndModelFile) {
  test::ScratchDir dir;
  torch::manual_seed(1);
  auto source = classifier("resnet18", 4);
  const StateDict weights = state_dict_of(*source);
  ASSERT_EQ(weights.size(), 122u);  // 62 parameters + 60 buffers, fc's two among them
  // A converted torchvision state dict: a plain dict name -> tensor saved in torch.save's format.
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : weights) dict.insert(name, tensor);
  const std::vector<char> bytes = torch::pickle_save(dict);
  test::write_file(dir / "resnet18.pt", std::string(bytes.begin(), bytes.end()));

  torch::manual_seed(2);
  auto unet = create_segmenter("unet", seg_options(1, {{"encoder", "resnet18"}}));
  const PretrainedReport report = load_encoder_weights(*unet, dir / "resnet18.pt");
  EXPECT_EQ(report.source_kind, "state dict");
  EXPECT_EQ(report.loaded, 120u);  // everything but fc.weight and fc.bias
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  expect_encoder_equals(*unet, weights, 120);

  // A classification model file, into FCN's dilated resnet18 backbone (same shapes).
  const std::string hpm = save_classifier(dir / "r18.hpm", "resnet18", 3);
  const StateDict hpm_weights = state_dict_of(*load_classifier(hpm, torch::kCPU).model);
  auto fcn = create_segmenter("fcn_resnet50", seg_options(2, {{"backbone", "resnet18"}}));
  EXPECT_EQ(load_encoder_weights(*fcn, hpm).loaded, 120u);
  expect_encoder_equals(*fcn, hpm_weights, 120);

  // A whole segmenter's state dict (as torchvision's fcn_resnet50): only "backbone.*" counts.
  c10::Dict<std::string, torch::Tensor> fcn_dict;
  for (const auto& [name, tensor] : state_dict_of(*fcn)) fcn_dict.insert(name, tensor);
  const std::vector<char> fcn_bytes = torch::pickle_save(fcn_dict);
  test::write_file(dir / "fcn.pt", std::string(fcn_bytes.begin(), fcn_bytes.end()));
  auto deeplab = create_segmenter("deeplabv3_resnet50", seg_options(5, {{"backbone", "resnet18"}}));
  const PretrainedReport from_fcn = load_encoder_weights(*deeplab, dir / "fcn.pt");
  EXPECT_EQ(from_fcn.loaded, 120u);
  EXPECT_TRUE(from_fcn.unexpected.empty());
  expect_encoder_equals(*deeplab, hpm_weights, 120);
}

TEST_F(SegmenterTest, EncoderStartsFromAnAutoencoder) {
  test::ScratchDir dir;
  AutoencoderHeader h;
  h.options.arch = "efficientnet_b0";
  h.options.input_size = 64;
  h.options.decoder_width = 32;
  h.crop.size = 64;
  Autoencoder autoencoder(h.options);
  save_model_file(dir / "ae.hpm", h.to_json(), *autoencoder);
  const StateDict weights = state_dict_of(autoencoder->encoder());

  auto unet = create_segmenter("unet", seg_options(1, {{"encoder", "efficientnet_b0"}, {"width", 8}}));
  const PretrainedReport report = load_encoder_weights(*unet, dir / "ae.hpm");
  EXPECT_EQ(report.source_kind, "autoencoder encoder");
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  expect_encoder_equals(*unet, weights, weights.size() - 2);  // less classifier.1.{weight,bias}
}

TEST_F(SegmenterTest, EncoderWeightsThatDoNotFitAreErrors) {
  test::ScratchDir dir;
  const std::string r50 = save_classifier(dir / "r50.hpm", "resnet50", 2);
  auto unet = create_segmenter("unet", seg_options(1, {{"encoder", "resnet18"}}));
  std::string message = error_of<ModelFileError>([&] { load_encoder_weights(*unet, r50); });
  EXPECT_TRUE(contains(message, "r50.hpm")) << message;
  EXPECT_TRUE(contains(message, "differ in shape")) << message;
  const std::string effnet = save_classifier(dir / "effnet.hpm", "efficientnet_b0", 2);
  message = error_of<ModelFileError>([&] { load_encoder_weights(*unet, effnet); });
  EXPECT_TRUE(contains(message, "matches none")) << message;
  auto classic = create_segmenter("unet", seg_options(1, {{"depth", 1}, {"width", 4}}));
  message = error_of<ConfigError>([&] { load_encoder_weights(*classic, r50); });
  EXPECT_TRUE(contains(message, "no classifier backbone")) << message;
}

TEST_F(SegmenterTest, AWholeSegmenterStartsFromASegmentationModelOfItsOwnKind) {
  test::ScratchDir dir;
  const SegmenterOptions options = seg_options(3, {{"depth", 2}, {"width", 4}});
  torch::manual_seed(1);
  auto source = create_segmenter("unet", options);
  SegmenterHeader h;
  h.arch = "unet";
  h.options = options;
  h.classes = {"background", "interior", "boundary"};
  h.target = "boundary";
  h.output_stride = source->output_stride();
  const std::string file = dir / "cells.hpm";
  save_model_file(file, h.to_json(), *source);

  torch::manual_seed(2);
  auto fresh = create_segmenter("unet", options);
  const torch::Tensor x = torch::rand({1, 3, 32, 32});
  source->eval();
  fresh->eval();
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(torch::allclose(fresh->forward(x), source->forward(x)));
  const PretrainedReport report = load_pretrained_segmenter(*fresh, "unet", options, file);
  EXPECT_EQ(report.source_kind, "segmentation model");
  EXPECT_EQ(report.loaded, state_dict_of(*source).size());
  EXPECT_TRUE(torch::allclose(fresh->forward(x), source->forward(x)));

  // Another architecture, other classes or another size: errors naming the file.
  auto fcn = create_segmenter("fcn_resnet50", seg_options(3, {{"backbone", "resnet18"}}));
  std::string message = error_of<ModelFileError>(
      [&] { load_pretrained_segmenter(*fcn, "fcn_resnet50", seg_options(3, {{"backbone", "resnet18"}}), file); });
  EXPECT_TRUE(contains(message, "cells.hpm' is a unet segmentation model")) << message;
  const SegmenterOptions two_classes = seg_options(2, {{"depth", 2}, {"width", 4}});
  auto binary = create_segmenter("unet", two_classes);
  message = error_of<ModelFileError>([&] { load_pretrained_segmenter(*binary, "unet", two_classes, file); });
  EXPECT_TRUE(contains(message, "3 output channels and this run 2")) << message;
  const SegmenterOptions wider = seg_options(3, {{"depth", 2}, {"width", 8}});
  auto wide = create_segmenter("unet", wider);
  message = error_of<ModelFileError>([&] { load_pretrained_segmenter(*wide, "unet", wider, file); });
  EXPECT_TRUE(contains(message, "cells.hpm")) << message;

  // A classifier still starts the backbone only.
  const std::string r18 = save_classifier(dir / "r18.hpm", "resnet18", 3);
  const SegmenterOptions with_encoder = seg_options(3, {{"encoder", "resnet18"}});
  auto unet = create_segmenter("unet", with_encoder);
  EXPECT_EQ(load_pretrained_segmenter(*unet, "unet", with_encoder, r18).source_kind, "classification model");
}

// --- errors ---------------------------------------------------------------------------------

TEST_F(SegmenterTest, InputsNotAMultipleOfTheOutputStrideAreInputErrors) {
  auto unet = create_segmenter("unet", seg_options(1));
  std::string message = error_of<InputError>([&] { unet->forward(torch::zeros({1, 3, 60, 64})); });
  EXPECT_TRUE(contains(message, "60x64")) << message;
  EXPECT_TRUE(contains(message, "output stride 16")) << message;
  EXPECT_TRUE(contains(message, "pad it to 64x64")) << message;
  auto fcn = create_segmenter("fcn_resnet50", seg_options(1, {{"backbone", "resnet18"}}));
  message = error_of<InputError>([&] { fcn->forward(torch::zeros({1, 3, 64, 70})); });
  EXPECT_TRUE(contains(message, "output stride 8")) << message;
  EXPECT_TRUE(contains(message, "pad it to 64x72")) << message;
  message = error_of<InputError>([&] { unet->forward(torch::zeros({1, 1, 64, 64})); });
  EXPECT_TRUE(contains(message, "[N, 3, H, W]")) << message;
  EXPECT_THROW(unet->forward(torch::zeros({3, 64, 64})), InputError);
}

TEST_F(SegmenterTest, UnknownNamesAndOptionsAreErrorsNamingThem) {
  std::string message = error_of<InputError>([] { create_segmenter("unet3", seg_options(1)); });
  EXPECT_TRUE(contains(message, "'unet3'")) << message;
  EXPECT_TRUE(contains(message, "unet, mrn, fcn_resnet50, deeplabv3_resnet50")) << message;

  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"dept", 3}})); });
  EXPECT_TRUE(contains(message, "extra.dept")) << message;
  EXPECT_TRUE(contains(message, "depth, encoder, upsampling, width")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"depth", "4"}})); });
  EXPECT_TRUE(contains(message, "extra.depth")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"depth", 2.5}})); });
  EXPECT_TRUE(contains(message, "extra.depth")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"depth", 0}})); });
  EXPECT_TRUE(contains(message, "extra.depth")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"upsampling", "nearest"}})); });
  EXPECT_TRUE(contains(message, "extra.upsampling")) << message;
  EXPECT_TRUE(contains(message, "bilinear, transposed")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"encoder", "vgg16"}})); });
  EXPECT_TRUE(contains(message, "extra.encoder")) << message;
  EXPECT_TRUE(contains(message, "efficientnet_b0, resnet18, resnet34, resnet50")) << message;
  message = error_of<ConfigError>(
      [] { create_segmenter("unet", seg_options(1, {{"encoder", "resnet18"}, {"depth", 4}})); });
  EXPECT_TRUE(contains(message, "extra.depth")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(1, {{"width", 0}})); });
  EXPECT_TRUE(contains(message, "extra.width")) << message;
  message = error_of<ConfigError>([] { create_segmenter("fcn_resnet50", seg_options(1, {{"backbone", "resnet101"}})); });
  EXPECT_TRUE(contains(message, "extra.backbone")) << message;
  message = error_of<ConfigError>([] { create_segmenter("deeplabv3_resnet50", seg_options(1, {{"encoder", "x"}})); });
  EXPECT_TRUE(contains(message, "extra.encoder")) << message;
  message = error_of<ConfigError>([] { create_segmenter("unet", seg_options(0)); });
  EXPECT_TRUE(contains(message, "num_classes")) << message;
  SegmenterOptions not_object = seg_options(1);
  not_object.extra = nlohmann::json::array({1});
  EXPECT_THROW(create_segmenter("unet", not_object), ConfigError);
}

}  // namespace
}  // namespace hemapath
