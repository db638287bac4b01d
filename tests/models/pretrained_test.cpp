// Fine-tuning starts: weights from another classification model (other classes: head
// re-initialised and reported), and clear errors for files that do not fit.
#include <gtest/gtest.h>

#include <cstdlib>

#include "hemapath/core/error.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/weight_import.h"
#include "model_test_util.h"
#include "test_support.h"

namespace hemapath {
namespace {

using testing::save_classifier;

TEST(Pretrained, TakesTheBackboneOfAModelWithOtherClassesAndReinitialisesItsHead) {
  test::ScratchDir dir;
  torch::manual_seed(4);
  const std::string source = save_classifier(dir / "five.hpm", "mobilenet_v3_small", 5);
  const StateDict weights = state_dict_of(*load_classifier(source, torch::kCPU).model);

  torch::manual_seed(5);
  ClassifierOptions options;
  options.num_classes = 3;
  auto model = create_classifier("mobilenet_v3_small", options);
  const StateDict fresh = state_dict_of(*model);
  const PretrainedReport report = load_pretrained(*model, source);
  EXPECT_EQ(report.source_kind, "classification model");
  // Only the last Linear changes shape with the classes (torchvision's classifier.3).
  EXPECT_EQ(report.head_reinitialised, (std::vector<std::string>{"classifier.3.bias", "classifier.3.weight"}));
  for (const auto& [name, tensor] : state_dict_of(*model)) {
    const bool head = name.rfind("classifier.3.", 0) == 0;
    EXPECT_TRUE(torch::equal(tensor, head ? fresh.at(name) : weights.at(name))) << name;
  }
  const std::string summary = report.summary(source);
  EXPECT_NE(summary.find("head freshly initialised: classifier.3.bias, classifier.3.weight"), std::string::npos)
      << summary;
}

TEST(Pretrained, SameClassesTakeTheHeadToo) {
  test::ScratchDir dir;
  const std::string source = save_classifier(dir / "three.hpm", "separable_cnn", 3);
  ClassifierOptions options;
  options.num_classes = 3;
  auto model = create_classifier("separable_cnn", options);
  const PretrainedReport report = load_pretrained(*model, source, {"c0", "c1", "c2"});
  EXPECT_TRUE(report.head_reinitialised.empty());
  EXPECT_EQ(report.loaded, state_dict_of(*model).size());
  const StateDict weights = state_dict_of(*load_classifier(source, torch::kCPU).model);
  for (const auto& [name, tensor] : state_dict_of(*model)) EXPECT_TRUE(torch::equal(tensor, weights.at(name))) << name;

  // As many classes, but others (or in another order): the head means other things, so it is
  // left freshly initialised.
  auto reordered = create_classifier("separable_cnn", options);
  const PretrainedReport other = load_pretrained(*reordered, source, {"c2", "c1", "c0"});
  EXPECT_EQ(other.head_reinitialised.size(), 2u);
  EXPECT_EQ(other.loaded, state_dict_of(*reordered).size() - 2);
}

TEST(Pretrained, FilesThatDoNotFitAreErrorsNamingThem) {
  test::ScratchDir dir;
  ClassifierOptions options;
  options.num_classes = 3;
  auto model = create_classifier("resnet18", options);
  // Another architecture with clashing names (both have conv1/layer1...): shapes differ.
  const std::string resnet50 = save_classifier(dir / "r50.hpm", "resnet50", 3);
  try {
    load_pretrained(*model, resnet50);
    FAIL() << "expected an error";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit this architecture"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("r50.hpm"), std::string::npos) << e.what();
  }
  // Not a model file nor a state dict.
  test::write_file(dir / "junk.pt", "not a torch archive");
  EXPECT_THROW(load_pretrained(*model, dir / "junk.pt"), ModelFileError);
  EXPECT_THROW(load_pretrained(*model, dir / "missing.pt"), ModelFileError);
}

// The documented path from torchvision: scripts/convert_torchvision_weights.py writes an
// ImageNet-headed (1000 classes) state dict; a 4-class model takes its backbone.
TEST(Pretrained, ConvertedTorchvisionStateDictStartsAFourClassModel) {
  if (std::string(HEMAPATH_PYTHON).empty()) GTEST_SKIP() << "python3 not found at configure time";
  test::ScratchDir dir;
  const std::string out = dir / "resnet18.pt";
  const std::string command = std::string("OMP_NUM_THREADS=1 '") + HEMAPATH_PYTHON + "' '" +
                              (test::source_dir() / "scripts" / "convert_torchvision_weights.py").string() +
                              "' resnet18 --random-seed 5 '" + out + "' > '" + (dir / "log.txt") + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const StateDict weights = read_state_dict(out);
  ASSERT_EQ(weights.at("fc.weight").size(0), 1000);

  ClassifierOptions options;
  options.num_classes = 4;
  auto model = create_classifier("resnet18", options);
  const PretrainedReport report = load_pretrained(*model, out);
  EXPECT_EQ(report.source_kind, "state dict");
  EXPECT_EQ(report.head_reinitialised, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  EXPECT_EQ(report.loaded, 120u);  // 122 tensors less the head
  EXPECT_TRUE(torch::equal(state_dict_of(*model).at("layer4.1.conv2.weight"), weights.at("layer4.1.conv2.weight")));
  EXPECT_EQ(model->forward(torch::zeros({1, 3, 64, 64})).size(1), 4);
}

}  // namespace
}  // namespace hemapath
