// The inference engine gives the eval-mode network's numbers (within 1e-4) for every
// registered architecture and plan, with BatchNorm really folded away, few compiled shapes,
// and clear errors for plans the device cannot run.
#include "hemapath/infer/inference_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

// Running statistics and affine terms away from their defaults, so folding has work to do.
void randomize_batch_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (const auto& m : module.modules()) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->running_mean.normal_(0, 0.2);
      bn->running_var.uniform_(0.5, 1.5);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0, 0.2);
    }
  }
}

// The batches of a shape that run the module itself, and the one the plan is compiled from
// (recording runs it); the next one runs the compiled plan.
void warm_up(const InferenceEngine& engine, const torch::Tensor& batch) {
  for (int i = 0; i <= InferenceEngine::kEagerRunsBeforeCompiling; ++i) engine(batch);
}

// A registered classifier with 4 classes and seeded weights, and its forward as a function.
ClassifierPtr seeded_classifier(const std::string& arch, uint64_t seed) {
  torch::manual_seed(seed);
  ClassifierOptions options;
  options.num_classes = 4;
  return create_classifier(arch, options);
}
TensorFunction forward_of(const ClassifierPtr& model) {
  return [model](const torch::Tensor& x) { return model->forward(x); };
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

// Eager eval output against each compiled plan's, on a batch of 3 (padded to 4 inside; the
// call after the warm-up is the compiled one): equal
// within 1e-4, relative to the outputs' scale where that exceeds 1 (deep networks with these
// statistics reach logits of ~100, where float32 keeps ~6 digits).
void expect_plans_match(const std::string& name, const std::shared_ptr<torch::nn::Module>& module,
                        const TensorFunction& forward, const torch::Tensor& input) {
  randomize_batch_norms(*module);
  module->eval();
  torch::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    reference = forward(input);
  }
  // "auto" is one of mkldnn and channels_last, chosen by timing (tested on its own below).
  for (const std::string plan : {"mkldnn", "channels_last", "frozen"}) {
    InferenceEngine engine(module, forward, {c10::kCPU, plan});
    for (int i = 0; i < InferenceEngine::kEagerRunsBeforeCompiling; ++i) engine(input);
    ASSERT_EQ(engine.compiled_shapes(), 0u);
    // The batch the plan is recorded from gives the module's own output (run in the plan's
    // memory layout, so equal to float rounding).
    EXPECT_LT(max_abs_diff(engine(input), reference), 1e-4 * std::max(1.0, reference.abs().max().item<double>()));
    ASSERT_EQ(engine.compiled_shapes(), 1u) << name << " " << plan;
    const torch::Tensor out = engine(input);
    ASSERT_EQ(out.sizes(), reference.sizes()) << name << " " << plan;
    const double diff = max_abs_diff(out, reference);
    const double scale = std::max(1.0, reference.abs().max().item<double>());
    EXPECT_LT(diff, 1e-4 * scale) << name << " plan " << plan << " (" << engine.plan() << ")";
    std::cout << "[ engine   ] " << name << " " << plan << ": max abs diff " << diff << " (outputs up to " << scale
              << ")\n";
  }
}

TEST(InferenceEngine, EveryClassifierMatchesEagerEvalUnderEveryPlan) {
  for (const auto& arch : classifier_names()) {
    torch::manual_seed(1);
    ClassifierOptions options;
    options.num_classes = 5;
    ClassifierPtr model = create_classifier(arch, options);
    const int64_t size = arch == "inception_resnet_v2" ? 96 : 64;
    expect_plans_match(arch, model, [model](const torch::Tensor& x) { return model->forward(x); },
                       torch::rand({3, 3, size, size}));
  }
}

TEST(InferenceEngine, EverySegmenterMatchesEagerEvalUnderEveryPlan) {
  for (const auto& arch : segmenter_names()) {
    torch::manual_seed(2);
    SegmenterOptions options;
    options.num_classes = 3;
    if (arch == "mrn") options.in_channels = 6;
    if (arch == "unet" || arch == "mrn") options.extra = {{"depth", 3}, {"width", 8}};
    if (arch == "fcn_resnet50" || arch == "deeplabv3_resnet50") options.extra = {{"backbone", "resnet18"}};
    SegmenterPtr model = create_segmenter(arch, options);
    expect_plans_match(arch, model, [model](const torch::Tensor& x) { return model->forward(x); },
                       torch::rand({3, options.in_channels, 64, 64}));
  }
}

TEST(InferenceEngine, FoldsBatchNormAndAutoDecidesOnTheFirstShape) {
  ClassifierPtr resnet = seeded_classifier("resnet18", 3);
  const torch::Tensor first = torch::rand({2, 3, 32, 32}), second = torch::rand({5, 3, 32, 32});
  InferenceEngine automatic(resnet, forward_of(resnet));
  warm_up(automatic, first);
  EXPECT_EQ(automatic.plan(), "auto");  // the layouts are tried on the batches that follow
  // The second layout is compiled on the next batch (the first on warm_up's last), then the
  // two take turns on the six after.
  int batches = 0;
  while (automatic.plan() == "auto" && batches < 20) automatic(first), ++batches;
  EXPECT_EQ(batches, 7);
  const std::string chosen = automatic.plan();
  EXPECT_TRUE(chosen == "mkldnn" || chosen == "channels_last") << chosen;
  EXPECT_EQ(automatic.compiled_shapes(), 1u);
  // The winner's graph, compiled during the trial, runs on: nothing is compiled again, so the
  // last graph compiled is still oneDNN's (the second candidate) whichever layout won.
  automatic(first);
  const std::vector<std::string> last = automatic.compiled_operators();
  EXPECT_NE(std::find(last.begin(), last.end(), "aten::to_mkldnn"), last.end());
  warm_up(automatic, second);
  automatic(second);
  EXPECT_EQ(automatic.compiled_shapes(), 2u);
  EXPECT_EQ(automatic.plan(), chosen);  // later shapes keep it

  // A shape that stops coming does not keep the others waiting: the layout compiled is kept.
  InferenceEngine abandoned(resnet, forward_of(resnet));
  warm_up(abandoned, first);
  for (int i = 0; i < 2 * InferenceEngine::kEagerRunsBeforeCompiling; ++i) abandoned(second);
  EXPECT_EQ(abandoned.plan(), "auto");
  EXPECT_EQ(abandoned.compiled_shapes(), 1u);
  abandoned(second);
  EXPECT_EQ(abandoned.plan(), "channels_last");
  EXPECT_EQ(abandoned.compiled_shapes(), 2u);

  InferenceEngine frozen(resnet, forward_of(resnet), {c10::kCPU, "frozen"});
  for (int i = 0; i < InferenceEngine::kEagerRunsBeforeCompiling; ++i) frozen(first);
  EXPECT_TRUE(frozen.compiled_operators().empty());
  frozen(first);
  const std::vector<std::string> ops = frozen.compiled_operators();
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "aten::conv2d"), 20);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "aten::batch_norm"), 0);
}

TEST(InferenceEngine, AutoRemembersItsChoiceAndALaterEngineCompilesItAtOnce) {
  test::ScratchDir dir;
  const std::string file = dir / "plans.json";
  ClassifierPtr resnet = seeded_classifier("resnet18", 3);
  const torch::Tensor first = torch::rand({2, 3, 32, 32}), other = torch::rand({2, 3, 48, 48});
  const InferenceOptions remembering{c10::kCPU, "auto", false, file};
  InferenceEngine timing(resnet, forward_of(resnet), remembering);
  warm_up(timing, first);
  for (int i = 0; i < 20 && timing.plan() == "auto"; ++i) timing(first);
  const std::string chosen = timing.plan();
  ASSERT_TRUE(chosen == "mkldnn" || chosen == "channels_last") << chosen;
  std::ifstream in(file);
  nlohmann::json entries = nlohmann::json::parse(in);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.begin().value().at("plan"), chosen);

  // Another engine for the same network and shape compiles the remembered layout on the batch
  // it compiles from: no trial. What it compiles is what the file says, not a new timing.
  const std::string key = entries.begin().key(), other_layout = chosen == "mkldnn" ? "channels_last" : "mkldnn";
  entries[key]["plan"] = other_layout;
  test::write_file(file, entries.dump());
  InferenceEngine remembered(resnet, forward_of(resnet), remembering);
  warm_up(remembered, first);
  EXPECT_EQ(remembered.plan(), other_layout);
  EXPECT_EQ(remembered.compiled_shapes(), 1u);
  torch::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    resnet->eval();
    reference = resnet->forward(first);
  }
  EXPECT_LT(max_abs_diff(remembered(first), reference), 1e-4 * std::max(1.0, reference.abs().max().item<double>()));

  // A shape the file does not know is timed; an engine without the file always times.
  InferenceEngine new_shape(resnet, forward_of(resnet), remembering);
  warm_up(new_shape, other);
  EXPECT_EQ(new_shape.plan(), "auto");
  InferenceEngine forgetful(resnet, forward_of(resnet));
  warm_up(forgetful, first);
  EXPECT_EQ(forgetful.plan(), "auto");
}

TEST(InferenceEngine, PadsBatchesToFewShapesAndLeavesTheModuleTrainable) {
  ClassifierPtr model = seeded_classifier("separable_cnn", 4);
  InferenceEngine engine(model, forward_of(model), {c10::kCPU, "channels_last"});  // "auto" would try it first
  const torch::Tensor batch = torch::rand({7, 3, 48, 48});
  warm_up(engine, batch);
  const torch::Tensor whole = engine(batch);
  EXPECT_EQ(engine.compiled_shapes(), 1u);  // 7 -> 8
  // Compiled rows do not depend on their batch-mates or on the padding.
  for (int64_t n : {3, 1}) {  // 3 -> 4, 1
    warm_up(engine, batch.narrow(0, 0, n));
    EXPECT_LT(max_abs_diff(engine(batch.narrow(0, 0, n)), whole.narrow(0, 0, n)), 1e-5) << n;
  }
  engine(batch.narrow(0, 0, 4));  // 4, already compiled
  engine(batch.narrow(0, 0, 5));  // 8, already compiled
  EXPECT_EQ(engine.compiled_shapes(), 3u);
  for (const auto& p : model->parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_THROW(engine(torch::rand({0, 3, 48, 48})), InputError);
}

TEST(InferenceEngine, RefusesPlansTheDeviceCannotRun) {
  ClassifierPtr model = seeded_classifier("separable_cnn", 5);
  const TensorFunction forward = forward_of(model);
  try {
    InferenceEngine(model, forward, {c10::kCPU, "fastest"});
    FAIL() << "an unknown plan was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mkldnn, channels_last"), std::string::npos) << e.what();
  }
  EXPECT_THROW(InferenceEngine(model, forward, {c10::kCPU, "auto", /*mixed_precision=*/true}), DeviceError);
}

}  // namespace
}  // namespace hemapath
