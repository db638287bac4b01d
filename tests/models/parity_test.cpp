// Weight import by name, and parity with torchvision: the same weights on the same input must
// give the same logits in hemapath as in torchvision (tests/python/export_torchvision.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/weight_import.h"
#include "model_test_util.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

using test::contains;

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

using test::read_text;

bool is_registered(const std::string& arch) {
  const auto names = classifier_names();
  return std::find(names.begin(), names.end(), arch) != names.end();
}

// Runs `command` through the shell with its output captured in `log`; "" on success, else a
// message with the exit status and the log.
std::string run_logged(const std::string& command, const fs::path& log) {
  const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  if (status == 0) return "";
  return "command failed (status " + std::to_string(status) + "): " + command + "\n" + read_text(log);
}

std::string python_command(const std::string& script) {
  return std::string("OMP_NUM_THREADS=1 '") + HEMAPATH_PYTHON + "' '" + script + "'";
}

// --- import_state_dict on its own, on a small module ---------------------------------------

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    fc = register_module("fc", torch::nn::Linear(4, 2));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Tiny);

// A full state dict for Tiny whose every value differs from a fresh Tiny's.
StateDict tiny_weights() {
  torch::manual_seed(7);
  Tiny source;
  StateDict weights;
  for (const auto& item : source->named_parameters()) weights[item.key()] = item.value().detach() + 1.0;
  for (const auto& item : source->named_buffers()) weights[item.key()] = item.value() + 3;
  return weights;
}

// The message of the ModelFileError a strict import of `weights` into `model` throws.
std::string strict_import_error(Tiny& model, const StateDict& weights, const std::string& source) {
  return test::error_of<ModelFileError>([&] { import_state_dict(*model, weights, true, source); });
}

TEST(WeightImportTest, StrictImportCopiesEveryParameterAndBuffer) {
  const StateDict weights = tiny_weights();
  ASSERT_EQ(weights.size(), 8u);  // conv.weight, bn x5, fc x2
  Tiny model;
  const ImportReport report = import_state_dict(*model, weights, /*strict=*/true, "tiny.pt");
  EXPECT_EQ(report.loaded.size(), 8u);
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.shape_mismatch.empty());
  EXPECT_TRUE(torch::equal(model->conv->weight, weights.at("conv.weight")));
  EXPECT_TRUE(torch::equal(model->fc->bias, weights.at("fc.bias")));
  EXPECT_TRUE(torch::equal(model->bn->running_var, weights.at("bn.running_var")));
  EXPECT_EQ(model->bn->num_batches_tracked.item<int64_t>(), 3);
  // Copied, not aliased, and the parameters still train.
  EXPECT_NE(model->conv->weight.data_ptr(), weights.at("conv.weight").data_ptr());
  EXPECT_TRUE(model->conv->weight.requires_grad());
}

TEST(WeightImportTest, StrictErrorNamesMissingKeysAndLeavesModuleUntouched) {
  StateDict weights = tiny_weights();
  weights.erase("bn.running_var");
  weights.erase("fc.bias");
  Tiny model;
  const torch::Tensor before = model->conv->weight.detach().clone();
  const std::string message = strict_import_error(model, weights, "weights/tiny.pt");
  EXPECT_TRUE(contains(message, "weights/tiny.pt")) << message;
  EXPECT_TRUE(contains(message, "2 missing")) << message;
  EXPECT_TRUE(contains(message, "bn.running_var")) << message;
  EXPECT_TRUE(contains(message, "fc.bias")) << message;
  EXPECT_TRUE(torch::equal(model->conv->weight, before));
}

TEST(WeightImportTest, StrictErrorNamesUnexpectedAndMismatchedKeys) {
  StateDict weights = tiny_weights();
  weights["head.weight"] = torch::zeros({2, 4});
  weights["fc.weight"] = torch::zeros({5, 4});
  weights["bn.running_mean"] = torch::zeros({4}, torch::kFloat64);
  Tiny model;
  const std::string message = strict_import_error(model, weights, "tiny.pt");
  EXPECT_TRUE(contains(message, "1 unexpected (head.weight)")) << message;
  EXPECT_TRUE(contains(message, "fc.weight: [5,4] vs [2,4]")) << message;
  EXPECT_TRUE(contains(message, "bn.running_mean: [4] Double vs [4] Float")) << message;
  EXPECT_FALSE(contains(message, "missing")) << message;
}

TEST(WeightImportTest, StrictErrorListsOnlyTheFirstFewNames) {
  StateDict weights = tiny_weights();
  for (int i = 0; i < 20; ++i) weights["extra." + std::to_string(100 + i)] = torch::zeros({1});
  Tiny model;
  const std::string message = strict_import_error(model, weights, "tiny.pt");
  EXPECT_TRUE(contains(message, "20 unexpected (extra.100; extra.101;")) << message;
  EXPECT_TRUE(contains(message, "...")) << message;
  EXPECT_FALSE(contains(message, "extra.119")) << message;
}

TEST(WeightImportTest, NonStrictReportsProblemsAndLoadsTheRest) {
  // A new 2-class head over a backbone trained elsewhere: the head differs, the rest loads.
  StateDict weights = tiny_weights();
  weights["fc.weight"] = torch::zeros({7, 4});
  weights.erase("fc.bias");
  weights["old_head.weight"] = torch::zeros({7, 4});
  Tiny model;
  const torch::Tensor head_before = model->fc->weight.detach().clone();
  const ImportReport report = import_state_dict(*model, weights, /*strict=*/false, "tiny.pt");
  EXPECT_EQ(report.loaded.size(), 6u);
  EXPECT_EQ(report.missing, std::vector<std::string>{"fc.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"old_head.weight"});
  EXPECT_EQ(report.shape_mismatch, std::vector<std::string>{"fc.weight: [7,4] vs [2,4]"});
  EXPECT_FALSE(contains(report.loaded, "fc.weight"));
  EXPECT_TRUE(torch::equal(model->fc->weight, head_before));
  EXPECT_TRUE(torch::equal(model->bn->weight, weights.at("bn.weight")));
}

TEST(WeightImportTest, ReadStateDictRejectsMissingAndForeignFiles) {
  test::ScratchDir dir;
  const std::string absent = test::error_of<ModelFileError>([&] { read_state_dict(dir / "absent.pt"); });
  EXPECT_TRUE(contains(absent, "absent.pt")) << absent;
  test::write_file(dir / "garbage.pt", "this is not a zip archive");
  const std::string garbage = test::error_of<ModelFileError>([&] { read_state_dict(dir / "garbage.pt"); });
  EXPECT_TRUE(contains(garbage, "garbage.pt")) << garbage;
  EXPECT_TRUE(contains(garbage, "torch.save")) << garbage;
}

// A file written by the converter script reads back and imports strictly into hemapath's
// network of the same architecture, value for value.
TEST(WeightImportTest, ConverterOutputRoundTripsThroughReadStateDict) {
  if (std::string(HEMAPATH_PYTHON).empty()) GTEST_SKIP() << "python3 not found at configure time";
  test::ScratchDir dir;
  const std::string out = dir / "resnet18.pt";
  const std::string script = (test::source_dir() / "scripts" / "convert_torchvision_weights.py").string();
  // Also an OrderedDict straight from model.state_dict(), which LibTorch cannot read.
  const std::string ordered = dir / "ordered.pt";
  const std::string failure = run_logged(
      python_command(script) + " resnet18 --random-seed 11 --num-classes 3 '" + out + "' && '" +
          HEMAPATH_PYTHON + "' -c \"import sys, torch; torch.save(torch.nn.Linear(2, 1).state_dict(), sys.argv[1])\" '" +
          ordered + "'",
      dir.path() / "convert.log");
  ASSERT_EQ(failure, "");

  const StateDict weights = read_state_dict(out);
  EXPECT_EQ(weights.size(), 122u);  // resnet18: 62 parameters + 60 buffers
  EXPECT_EQ(weights.at("fc.weight").sizes().vec(), (std::vector<int64_t>{3, 512}));
  EXPECT_EQ(weights.at("bn1.num_batches_tracked").scalar_type(), torch::kLong);

  ClassifierOptions options;
  options.num_classes = 3;
  auto model = create_classifier("resnet18", options);
  const ImportReport report = import_state_dict(*model, weights, true, out);
  EXPECT_EQ(report.loaded.size(), 122u);
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), weights.at(item.key()))) << item.key();
  }

  // The OrderedDict is refused, naming the converter that writes a file LibTorch reads.
  const std::string message = test::error_of<ModelFileError>([&] { read_state_dict(ordered); });
  EXPECT_TRUE(contains(message, "ordered.pt")) << message;
  EXPECT_TRUE(contains(message, "convert_torchvision_weights.py")) << message;
}

// --- parity with torchvision --------------------------------------------------------------

const std::vector<std::string>& parity_archs() {
  static const std::vector<std::string> archs = {
      "resnet18",    "resnet34",    "resnet50",           "efficientnet_b0", "mobilenet_v3_large",
      "mobilenet_v3_small", "vgg16", "vgg16_bn", "densenet121", "densenet201"};
  return archs;
}

class TorchvisionParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  // CTest runs each case in its own process, so each case exports only its own
  // architecture (one Python process per case) instead of all of them.
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("hemapath_parity_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  // Runs the exporter for `arch`; returns "" or what went wrong.
  static std::string export_reference(const std::string& arch) {
    if (std::string(HEMAPATH_PYTHON).empty())
      return "python3 (with torch and torchvision) was not found at configure time; "
             "scripts/setup.sh installs python3-torch and python3-torchvision";
    const std::string script = std::string(HEMAPATH_TEST_PYTHON_DIR) + "/export_torchvision.py";
    std::string error = run_logged(python_command(script) + " --out '" + dir_.string() + "' " + arch,
                                   dir_ / (arch + "_export.log"));
    return error.empty() ? error : "torchvision export failed: " + error;
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static fs::path dir_;
};

fs::path TorchvisionParityTest::dir_;

TEST_P(TorchvisionParityTest, SameLogitsAsTorchvision) {
  const std::string arch = GetParam();
  ASSERT_TRUE(is_registered(arch)) << arch << " is not a registered architecture";
  ASSERT_EQ(export_reference(arch), "");

  ClassifierOptions options;
  options.num_classes = 5;
  auto model = create_classifier(arch, options);
  const std::string weights_path = (dir_ / (arch + ".pt")).string();
  import_state_dict(*model, read_state_dict(weights_path), /*strict=*/true, weights_path);
  model->eval();

  testing::expect_reference_output([&](const torch::Tensor& x) { return model->forward(x); }, dir_, arch, 0.1);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, TorchvisionParityTest, ::testing::ValuesIn(parity_archs()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace hemapath
