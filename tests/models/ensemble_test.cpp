#include "hemapath/models/ensemble.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "hemapath/core/error.h"
#include "hemapath/infer/inference_engine.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

ClassifierHeader member_header(std::vector<std::string> classes = {"a", "b", "c"}) {
  ClassifierHeader h;
  h.arch = "separable_cnn";
  h.options.num_classes = static_cast<int64_t>(classes.size());
  h.options.extra = {{"width", 0.25}};
  h.classes = std::move(classes);
  h.crop.size = 32;
  h.normalization.mode = "standardize";
  h.normalization.mean = {0.5, 0.4, 0.3};
  h.normalization.std = {0.2, 0.2, 0.25};
  return h;
}

// A freshly initialised member saved to dir/name, its BatchNorm statistics moved off their
// defaults so that eval-mode outputs depend on them too, and its head scaled up so that
// members of different seeds disagree clearly (fresh heads give near-uniform probabilities).
std::string save_member(const test::ScratchDir& dir, const std::string& name, uint64_t seed,
                        ClassifierHeader h = member_header(), int split_seed = 1,
                        const std::string& split_origin = "") {
  torch::manual_seed(seed);
  ClassifierPtr model = create_classifier(h.arch, h.options);
  model->train();
  {
    torch::NoGradGuard no_grad;
    model->forward(torch::rand({4, 3, 32, 32}));
    for (auto& p : model->named_parameters())
      if (p.key().rfind(model->head_prefix() + ".", 0) == 0) p.value().mul_(30);
  }
  // The same labels, named relative to the working folder or absolute.
  const std::string labels = seed % 2 ? "labels.csv" : (std::filesystem::current_path() / "labels.csv").string();
  nlohmann::json config;
  config["seed"] = seed;
  config["data"]["split_seed"] = split_seed;
  config["data"]["spec"]["labels"] = labels;
  h.training = {{"seed", seed}, {"epoch", 3}, {"config", config}};
  if (!split_origin.empty()) h.training["split_origin"] = split_origin;
  h.metrics = {{"val", {{"accuracy", 0.5}}}};
  const std::string path = dir / name;
  save_model_file(path, h.to_json(), *model);
  return path;
}

TEST(Ensemble, FileAveragesItsMembersLogProbabilities) {
  test::ScratchDir dir;
  const std::string a = save_member(dir, "a.hpm", 1), b = save_member(dir, "b.hpm", 2);
  const std::string path = dir / "ab.hpm";
  save_ensemble_file({a, b}, path, WeightPrecision::float32);

  const LoadedClassifier ensemble = load_classifier(path, torch::kCPU);
  EXPECT_EQ(ensemble.header.arch, kEnsembleArch);
  EXPECT_EQ(ensemble.header.classes, member_header().classes);
  EXPECT_EQ(ensemble.header.training["members"][1]["file"], "b.hpm");
  EXPECT_EQ(ensemble.header.training["members"][1]["seed"], 2);
  EXPECT_EQ(ensemble.header.metrics["members"][0]["val"]["accuracy"], 0.5);
  EXPECT_EQ(ensemble.header.training["config"]["data"]["split_seed"], 1);  // the split both share
  EXPECT_FALSE(ensemble.model->is_training());

  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  const torch::Tensor x = torch::rand({5, 3, 32, 32});
  const torch::Tensor pa = torch::softmax(load_classifier(a, torch::kCPU).model->forward(x), 1);
  const torch::Tensor pb = torch::softmax(load_classifier(b, torch::kCPU).model->forward(x), 1);
  ASSERT_GT((pa - pb).abs().max().item<double>(), 1e-3);  // the members disagree, beyond the tolerance below
  const torch::Tensor geometric_mean = (pa * pb).sqrt();
  const torch::Tensor expected = geometric_mean / geometric_mean.sum(1, true);
  const torch::Tensor got = torch::softmax(ensemble.model->forward(x), 1);
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-6)) << (got - expected).abs().max();

  // The inference engine compiles it like any network and keeps its output.
  InferenceEngine engine(
      ensemble.model, [m = ensemble.model](const torch::Tensor& in) { return m->forward(in); },
      InferenceOptions(c10::kCPU, "channels_last"));
  const torch::Tensor eager = ensemble.model->forward(x);
  torch::Tensor out;
  for (int run = 0; run <= InferenceEngine::kEagerRunsBeforeCompiling + 1; ++run) out = engine(x);
  EXPECT_EQ(engine.compiled_shapes(), 1u);
  EXPECT_EQ(engine.plan(), "channels_last");
  EXPECT_TRUE(torch::allclose(out, eager, 1e-4, 1e-4)) << (out - eager).abs().max();

  // float16 weights: half the file, outputs close.
  const std::string half = dir / "ab16.hpm";
  save_ensemble_file({a, b}, half, WeightPrecision::float16);
  EXPECT_LT(std::filesystem::file_size(half), 0.6 * std::filesystem::file_size(path));
  EXPECT_TRUE(
      torch::allclose(torch::softmax(load_classifier(half, torch::kCPU).model->forward(x), 1), got, 1e-2, 1e-3));
}

TEST(Ensemble, MembersThatDoNotFitAreNamedAndNothingIsWritten) {
  test::ScratchDir dir;
  const std::string a = save_member(dir, "a.hpm", 1), b = save_member(dir, "b.hpm", 2);
  const std::string out = dir / "out.hpm";
  auto expect_refused = [&](const std::vector<std::string>& members, const std::string& part) {
    try {
      save_ensemble_file(members, out, WeightPrecision::float16);
      ADD_FAILURE() << "expected an InputError mentioning '" << part << "'";
    } catch (const InputError& e) {
      EXPECT_TRUE(test::contains(e.what(), part)) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(out));
  };
  expect_refused({a}, "at least two");
  expect_refused({a, save_member(dir, "four.hpm", 3, member_header({"a", "b", "c", "d"}))},
                 "four.hpm' has other classes");
  ClassifierHeader wider = member_header();
  wider.crop.size = 48;
  expect_refused({a, save_member(dir, "crop.hpm", 4, wider)}, "crop.hpm' has other crop settings");
  ClassifierHeader restained = member_header();
  restained.normalization.mean = {0.6, 0.4, 0.3};
  expect_refused({a, save_member(dir, "norm.hpm", 5, restained)}, "norm.hpm' has other normalisation");
  expect_refused({a, dir / "missing.hpm"}, "missing.hpm");
  expect_refused({a, b, a}, "a.hpm' is listed twice");
}

TEST(Ensemble, IsNotAMemberOrAStartingPointItself) {
  test::ScratchDir dir;
  const std::string a = save_member(dir, "a.hpm", 1), b = save_member(dir, "b.hpm", 2);
  const std::string ab = dir / "ab.hpm";
  save_ensemble_file({a, b}, ab, WeightPrecision::float32);
  EXPECT_THROW(save_ensemble_file({ab, a}, dir / "abc.hpm", WeightPrecision::float32), InputError);
  EXPECT_THROW(save_ensemble_file({a, b}, a, WeightPrecision::float32), InputError);
  // Members of different splits: no split is the ensemble's own.
  const std::string other_split = save_member(dir, "c.hpm", 3, member_header(), 2);
  save_ensemble_file({a, other_split}, dir / "ac.hpm", WeightPrecision::float32);
  EXPECT_FALSE(read_model_header(dir / "ac.hpm")["training"].contains("config"));
  // Cross-validation folds share a config but each trained on its own parts: none is the ensemble's.
  const std::string fold_a = save_member(dir, "fold_a.hpm", 1, member_header(), 1, "cross-validation fold 1.1");
  const std::string fold_b = save_member(dir, "fold_b.hpm", 2, member_header(), 1, "cross-validation fold 1.2");
  save_ensemble_file({fold_a, fold_b}, dir / "folds.hpm", WeightPrecision::float32);
  EXPECT_FALSE(read_model_header(dir / "folds.hpm")["training"].contains("config"));

  ClassifierPtr fresh = create_classifier("separable_cnn", member_header().options);
  try {
    load_pretrained(*fresh, ab);
    ADD_FAILURE() << "an ensemble was accepted as --pretrained";
  } catch (const ModelFileError& e) {
    EXPECT_TRUE(test::contains(e.what(), "ensemble")) << e.what();
  }
  // A header whose member list is damaged names the file.
  nlohmann::json header = read_model_header(ab);
  header["options"]["extra"]["members"].erase(1);
  const std::string broken = dir / "broken.hpm";
  save_model_file(broken, header, *load_classifier(ab, torch::kCPU).model);
  try {
    load_classifier(broken, torch::kCPU);
    ADD_FAILURE() << "an ensemble of one member was loaded";
  } catch (const ModelFileError& e) {
    EXPECT_TRUE(test::contains(e.what(), "broken.hpm")) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
