// The autoencoder: shapes for several encoders, the encoder's names shared with the classifier,
// model-file round trip, and its encoder initialising a classifier through load_pretrained.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/models/autoencoder.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/weight_import.h"
#include "test_support.h"

namespace hemapath {
namespace {

AutoencoderHeader header_for(const std::string& arch, int64_t size) {
  AutoencoderHeader h;
  h.options.arch = arch;
  h.options.input_size = size;
  h.options.decoder_width = 64;
  h.crop.size = static_cast<int>(size);
  return h;
}

ClassifierPtr classifier(const std::string& arch, int64_t classes) {
  ClassifierOptions options;
  options.num_classes = classes;
  return create_classifier(arch, options);
}

TEST(Autoencoder, ReconstructsAtTheInputSizeForEveryKindOfEncoder) {
  torch::manual_seed(0);
  // ResNet's stride 32 does not divide 112 (7 -> 4 px): the final resize must cover it.
  for (const auto& [arch, size] : std::vector<std::pair<std::string, int64_t>>{
           {"resnet18", 112}, {"separable_cnn", 64}, {"mobilenet_v3_small", 96}, {"efficientnet_b0", 64}}) {
    SCOPED_TRACE(arch);
    Autoencoder model(header_for(arch, size).options);
    torch::Tensor x = torch::randn({2, 3, size, size});
    torch::Tensor y = model->forward(x);
    EXPECT_EQ(y.sizes(), x.sizes());
    // A gradient reaches the encoder's first layer: the reconstruction trains the encoder.
    torch::mse_loss(y, x).backward();
    size_t with_grad = 0;
    for (const auto& p : model->encoder().named_parameters())
      with_grad += p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
    EXPECT_GT(with_grad, 0u);
  }
}

TEST(Autoencoder, EncoderParametersAreTheClassifiersUnderOnePrefix) {
  Autoencoder model(header_for("resnet18", 64).options);
  const auto own = classifier("resnet18", 2)->named_parameters();
  size_t encoder_params = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().rfind("encoder.", 0) != 0) continue;
    ++encoder_params;
    const std::string name = p.key().substr(8);
    ASSERT_TRUE(own.contains(name)) << name;
    EXPECT_EQ(own[name].sizes(), p.value().sizes()) << name;
  }
  EXPECT_EQ(encoder_params, own.size());
}

TEST(Autoencoder, RejectsTinyInputsAndUnknownEncoders) {
  AutoencoderOptions options;
  options.input_size = 16;
  EXPECT_THROW(Autoencoder{options}, ConfigError);
  options.input_size = 64;
  options.arch = "resnet19";
  try {
    Autoencoder model(options);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet19"), std::string::npos) << e.what();
  }
}

TEST(Autoencoder, ModelFileRoundTripReproducesTheOutput) {
  test::ScratchDir dir;
  torch::manual_seed(1);
  AutoencoderHeader header = header_for("separable_cnn", 64);
  Autoencoder model(header.options);
  model->eval();
  save_model_file(dir / "ae.hpm", header.to_json(), *model);
  LoadedAutoencoder loaded = load_autoencoder(dir / "ae.hpm", torch::kCPU);
  EXPECT_EQ(loaded.header.options.arch, "separable_cnn");
  EXPECT_EQ(loaded.header.options.input_size, 64);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 3, 64, 64});
  EXPECT_TRUE(torch::equal(loaded.model->forward(x), model->forward(x)));
  // A classification model is not an autoencoder, and the error says so.
  auto cls = classifier("separable_cnn", 3);
  ClassifierHeader ch;
  ch.arch = "separable_cnn";
  ch.options.num_classes = 3;
  ch.classes = {"a", "b", "c"};
  save_model_file(dir / "cls.hpm", ch.to_json(), *cls);
  try {
    load_autoencoder(dir / "cls.hpm", torch::kCPU);
    FAIL() << "expected an error";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("expected an autoencoder"), std::string::npos) << e.what();
  }
}

TEST(Autoencoder, EncoderInitialisesAClassifierAndLeavesItsHeadFresh) {
  test::ScratchDir dir;
  torch::manual_seed(2);
  AutoencoderHeader header = header_for("resnet18", 64);
  Autoencoder ae(header.options);
  save_model_file(dir / "ae.hpm", header.to_json(), *ae);

  torch::manual_seed(3);
  auto model = classifier("resnet18", 2);  // the same head shape as the encoder's unused one
  const StateDict fresh = state_dict_of(*model);
  const PretrainedReport report = load_pretrained(*model, dir / "ae.hpm");
  EXPECT_EQ(report.source_kind, "autoencoder encoder");
  EXPECT_EQ(report.head_reinitialised, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  EXPECT_TRUE(report.missing.empty());
  const StateDict encoder = state_dict_of(ae->encoder());
  for (const auto& [name, tensor] : state_dict_of(*model)) {
    if (name.rfind("fc.", 0) == 0)
      EXPECT_TRUE(torch::equal(tensor, fresh.at(name))) << name;  // untouched
    else
      EXPECT_TRUE(torch::equal(tensor, encoder.at(name))) << name;  // taken over
  }
  EXPECT_EQ(report.loaded, encoder.size() - 2);

  // Another architecture's encoder does not fit, and the message names the file.
  auto other = classifier("mobilenet_v3_small", 2);
  try {
    load_pretrained(*other, dir / "ae.hpm");
    FAIL() << "expected an error";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("ae.hpm"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
