#include <gtest/gtest.h>

#include <fstream>

#include "hemapath/core/error.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

ClassifierHeader small_header() {
  ClassifierHeader h;
  h.arch = "separable_cnn";
  h.options.num_classes = 3;
  h.options.extra = {{"width", 0.25}};
  h.classes = {"a", "b", "c"};
  h.crop.size = 32;
  h.normalization.mode = "standardize";
  h.normalization.mean = {0.5, 0.4, 0.3};
  h.normalization.std = {0.2, 0.2, 0.25};
  return h;
}

std::string save_small_model(const test::ScratchDir& dir, torch::Tensor* reference_output) {
  torch::manual_seed(3);
  ClassifierHeader h = small_header();
  ClassifierPtr model = create_classifier(h.arch, h.options);
  model->eval();
  torch::Tensor x = torch::rand({2, 3, 32, 32});
  if (reference_output) *reference_output = model->forward(x);
  const std::string path = dir / "m.hpm";
  save_model_file(path, h.to_json(), *model);
  return path;
}

// The input save_small_model computed its reference output on: the same RNG draws replayed.
torch::Tensor reference_input() {
  torch::manual_seed(3);
  create_classifier("separable_cnn", small_header().options);
  return torch::rand({2, 3, 32, 32});
}

// `loaded` written again to dir/name with `precision`, and read back.
LoadedClassifier resaved(const test::ScratchDir& dir, const LoadedClassifier& loaded, const std::string& name,
                         WeightPrecision precision) {
  save_model_file(dir / name, loaded.header.to_json(), *loaded.model, precision);
  return load_classifier(dir / name, torch::kCPU);
}

TEST(ModelFile, RoundTripKeepsHeaderAndOutputs) {
  test::ScratchDir dir;
  torch::Tensor before;
  const std::string path = save_small_model(dir, &before);
  LoadedClassifier loaded = load_classifier(path, torch::kCPU);
  EXPECT_EQ(loaded.header.classes, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(loaded.header.crop.size, 32);
  EXPECT_DOUBLE_EQ(loaded.header.normalization.mean[1], 0.4);
  EXPECT_FALSE(loaded.model->is_training());
  EXPECT_TRUE(torch::equal(loaded.model->forward(reference_input()), before));
  EXPECT_EQ(read_model_header(path).at("task"), "classification");
}

TEST(ModelFile, Float16WeightsHalveTheFileAndKeepOutputsClose) {
  test::ScratchDir dir;
  torch::Tensor before;
  const std::string path = save_small_model(dir, &before);
  const std::string half_path = dir / "half.hpm";
  LoadedClassifier half = resaved(dir, load_classifier(path, torch::kCPU), "half.hpm", WeightPrecision::float16);
  EXPECT_EQ(read_model_header(half_path).at("weights_precision"), "float16");
  EXPECT_LT(std::filesystem::file_size(half_path), 0.6 * std::filesystem::file_size(path));
  for (const auto& p : half.model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  const torch::Tensor after = half.model->forward(reference_input());
  EXPECT_FALSE(torch::equal(after, before));  // rounded weights ...
  EXPECT_TRUE(torch::allclose(after, before, 1e-2, 1e-2));  // ... close outputs
  // Weights of another architecture are refused.
  ClassifierHeader other = small_header();
  other.options.num_classes = 4;
  other.classes = {"a", "b", "c", "d"};
  save_model_file(dir / "wrong.hpm", other.to_json(), *half.model, WeightPrecision::float16);
  EXPECT_THROW(load_classifier(dir / "wrong.hpm", torch::kCPU), ModelFileError);
}

TEST(ModelFile, Int8WeightsQuarterTheFileWithEachWeightWithinHalfAStep) {
  test::ScratchDir dir;
  torch::Tensor before;
  const std::string path = save_small_model(dir, &before);
  LoadedClassifier full = load_classifier(path, torch::kCPU);
  const std::string int8_path = dir / "int8.hpm";
  LoadedClassifier small = resaved(dir, full, "int8.hpm", WeightPrecision::int8);
  EXPECT_EQ(read_model_header(int8_path).at("weights_precision"), "int8");
  EXPECT_LT(std::filesystem::file_size(int8_path), 0.4 * std::filesystem::file_size(path));
  const auto original = full.model->named_parameters(), restored = small.model->named_parameters();
  size_t integer_weights = 0;
  for (const auto& p : original) {
    const torch::Tensor w = p.value(), r = restored[p.key()];
    ASSERT_EQ(r.scalar_type(), torch::kFloat) << p.key();
    if (w.dim() < 2) {  // BatchNorm and biases: float16
      EXPECT_TRUE(torch::allclose(r, w, 1e-3, 1e-4)) << p.key();
      continue;
    }
    ++integer_weights;
    // Each output channel in 255 steps of its largest magnitude / 127: off by half a step at most.
    const torch::Tensor step = w.abs().flatten(1).amax(1) / 127;
    const torch::Tensor error = (r - w).abs().flatten(1).amax(1);
    EXPECT_TRUE((error <= step / 2 * 1.0001 + 1e-12).all().item<bool>()) << p.key();
    EXPECT_FALSE(torch::equal(r, w)) << p.key();
  }
  EXPECT_GE(integer_weights, 5u);
  const torch::Tensor after = small.model->forward(reference_input());
  EXPECT_TRUE(torch::allclose(after, before, 5e-2, 5e-2)) << (after - before).abs().max();

  EXPECT_EQ(weight_precision("int8"), WeightPrecision::int8);
  try {
    weight_precision("int4");
    ADD_FAILURE() << "int4 accepted";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(test::contains(e.what(), "--precision 'int4'")) << e.what();
  }
}

TEST(ModelFile, TruncatedDamagedAndForeignFilesAreNamed) {
  test::ScratchDir dir;
  const std::string path = save_small_model(dir, nullptr);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto expect_error = [](const std::string& file, const std::string& needle) {
    try {
      load_classifier(file, torch::kCPU);
      ADD_FAILURE() << "no error for " << file;
    } catch (const ModelFileError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  };
  test::write_file(dir / "truncated.hpm", bytes.substr(0, bytes.size() / 2));
  expect_error(dir / "truncated.hpm", "truncated");
  std::string damaged = bytes;
  damaged[damaged.size() - 100] ^= 0x5A;
  test::write_file(dir / "damaged.hpm", damaged);
  expect_error(dir / "damaged.hpm", "checksum");
  test::write_file(dir / "text.hpm", "hello, not a model");
  expect_error(dir / "text.hpm", "not a hemapath model");
  expect_error(dir / "missing.hpm", "does not exist");

  nlohmann::json seg = small_header().to_json();
  seg["task"] = "segmentation";
  torch::manual_seed(0);
  save_model_file(dir / "seg.hpm", seg, *create_classifier("separable_cnn", small_header().options));
  expect_error(dir / "seg.hpm", "task 'segmentation': expected a classification model");

  nlohmann::json wrong_arch = small_header().to_json();
  wrong_arch["arch"] = "resnet18";
  wrong_arch["options"]["extra"] = nlohmann::json::object();
  save_model_file(dir / "wrong.hpm", wrong_arch, *create_classifier("separable_cnn", small_header().options));
  expect_error(dir / "wrong.hpm", "do not fit the architecture");

  // A header naming a storage precision this version does not know (same length, so the file stays whole).
  save_model_file(dir / "half.hpm", small_header().to_json(),
                  *create_classifier("separable_cnn", small_header().options), WeightPrecision::float16);
  std::string half = test::read_text(dir / "half.hpm");
  half.replace(half.find("\"float16\""), 9, "\"float15\"");
  test::write_file(dir / "float15.hpm", half);
  expect_error(dir / "float15.hpm", "'float15'");
}

TEST(ModelFile, WriteIsAtomic) {
  test::ScratchDir dir;
  save_small_model(dir, nullptr);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
}

}  // namespace
}  // namespace hemapath
