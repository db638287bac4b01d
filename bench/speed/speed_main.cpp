// hemapath's side of the speed benchmark (bench/run drives it beside bench/peers/pytorch_peer.py):
//
//   hemapath_speed peak    --threads T --seconds S
//   hemapath_speed forward --arch A --weights W.pt --batch N --size HxW --plan P --threads T --seconds S [--device D]
//   hemapath_speed train   --arch A --weights W.pt --batch N --size HxW --threads T --seconds S
//   hemapath_speed hpm     --arch unet --weights W.pt --mpp X --out M.hpm   (for slide segment)
//   hemapath_speed compare --weights A.hpm --other B.hpm   (largest parameter difference of two classifiers)
//
// Weights come from the Python peer (same names, loaded strictly), and before timing the
// network's output on the peer's input/output pair (W_io.pt) is checked, so both sides run
// the same network. Each mode prints one JSON line.
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hemapath/core/device.h"
#include "hemapath/core/memory.h"
#include "hemapath/infer/inference_engine.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/complexity.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/models/weight_import.h"
#include "hemapath/train/memory_format.h"
#include "hemapath/train/segmentation_config.h"

namespace {
using namespace hemapath;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string arch, weights, size = "64x64", plan = "auto", out, other, device = "cpu";
  std::string memory_format;  ///< train: a train.memory_format value; empty: as hemapath trains the network
  double mpp = 2;
  int batch = 1, threads = 1;
  double seconds = 3;
};

// The networks at hemapath's working settings (as bench/peers/pytorch_peer.py builds them).
struct Network {
  std::shared_ptr<torch::nn::Module> module;
  TensorFunction forward;
  int64_t in_channels = 3, classes = 1;
  bool dense = false;
  SegmenterOptions segmenter;  ///< what a segmentation network was built with
};

Network build(const std::string& arch) {
  Network n;
  if (arch == "resnet18" || arch == "efficientnet_b0") {
    ClassifierOptions o;
    o.num_classes = arch == "resnet18" ? 4 : 12;
    ClassifierPtr m = create_classifier(arch, o);
    n = {m, [m](const torch::Tensor& x) { return m->forward(x); }, 3, o.num_classes, false, {}};
  } else if (arch == "unet" || arch == "mrn") {
    SegmenterOptions o;
    o.num_classes = arch == "unet" ? 3 : 1;
    o.in_channels = arch == "unet" ? 3 : 6;
    o.extra = arch == "unet" ? nlohmann::json{{"depth", 4}, {"width", 16}, {"upsampling", "bilinear"}}
                             : nlohmann::json{{"depth", 4}, {"width", 8}, {"context_width", 8}, {"context_ratio", 4.0}};
    SegmenterPtr m = create_segmenter(arch, o);
    n = {m, [m](const torch::Tensor& x) { return m->forward(x); }, o.in_channels, o.num_classes, true, o};
  } else {
    throw std::invalid_argument("unknown --arch '" + arch + "': expected resnet18, efficientnet_b0, unet or mrn");
  }
  return n;
}

std::pair<int64_t, int64_t> parse_size(const std::string& text) {
  const auto x = text.find('x');
  if (x == std::string::npos) throw std::invalid_argument("--size '" + text + "': expected HxW");
  return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
}

// Images/s of `step` after two warm-up runs, over at least `seconds` and 3 runs (as the peer).
// On a GPU each step waits for the device, so the time is the work's, not the launch's.
double timed(const std::function<void()>& work, int batch, double seconds, const c10::Device& device) {
  auto step = [&] {
    work();
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  step();
  step();
  int runs = 0;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (runs < 3 || elapsed() < seconds) {
    step();
    ++runs;
  }
  return batch * runs / elapsed();
}

Network load(const Args& a) {
  Network n = build(a.arch);
  import_state_dict(*n.module, read_state_dict(a.weights), /*strict=*/true, a.weights);
  n.module->to(resolve_device(a.device));
  return n;
}

// Runs `x` until the engine has decided its plan and compiled it for x's shape; returns the
// compiled graph's output.
torch::Tensor settled(const InferenceEngine& engine, const torch::Tensor& x) {
  for (int i = 0; i <= InferenceEngine::kEagerRunsBeforeCompiling || engine.plan() == "auto"; ++i) engine(x);
  engine(x);  // compiled again when "auto" chose a layout other than the last one it tried
  return engine(x);
}

// Largest difference from the peer's own output on its input, eager and through the engine.
nlohmann::json parity(Network& n, const std::string& weights, const InferenceOptions& options) {
  const std::string io_path = weights.substr(0, weights.size() - 3) + "_io.pt";
  const StateDict io = read_state_dict(io_path);
  n.module->eval();
  const torch::Tensor input = io.at("input").to(options.device);
  torch::Tensor eager;
  {
    torch::NoGradGuard no_grad;
    eager = n.forward(input).cpu();
  }
  InferenceEngine engine(n.module, n.forward, options);
  const torch::Tensor compiled = settled(engine, input).cpu();
  const torch::Tensor expected = io.at("output");
  return {{"eager_vs_pytorch", (eager - expected).abs().max().item<double>()},
          {"engine_vs_pytorch", (compiled - expected).abs().max().item<double>()},
          {"output_scale", expected.abs().max().item<double>()}};
}

nlohmann::json forward(const Args& a) {
  Network n = load(a);
  const auto [h, w] = parse_size(a.size);
  const InferenceOptions options{resolve_device(a.device), a.plan};
  nlohmann::json out = {{"parity", parity(n, a.weights, options)}};
  const torch::Tensor x = torch::rand({a.batch, n.in_channels, h, w}).to(options.device);
  FlopCount flops;
  {
    torch::NoGradGuard no_grad;
    FlopCounter counter;
    n.forward(x.narrow(0, 0, 1));
    flops = counter.count();
  }
  InferenceEngine engine(n.module, n.forward, options);
  settled(engine, x);
  out["images_per_second"] = timed([&] { engine(x); }, a.batch, a.seconds, options.device);
  out["plan"] = engine.plan();
  out["gmacs_per_image"] = flops.gflops();
  out["gflops_per_second"] = 2 * flops.gflops() * out["images_per_second"].get<double>();
  return out;
}

nlohmann::json train(const Args& a) {
  Network n = load(a);
  const auto [h, w] = parse_size(a.size);
  n.module->train();
  const c10::Device device = resolve_device(a.device);
  // The layout `hemapath train` gives this network, unless told otherwise.
  TrainingLayout layout;
  if (n.dense) {
    layout = training_layout(a.memory_format.empty() ? SegmentationTrainConfig{}.memory_format : a.memory_format);
  } else {
    TrainConfig config;
    config.arch = a.arch;
    if (!a.memory_format.empty()) config.memory_format = a.memory_format;
    config.crop.size = static_cast<int>(h);
    config.model.in_channels = n.in_channels;
    layout = classifier_layout(config, dynamic_cast<ClassifierImpl&>(*n.module), device);
  }
  use_layout(*n.module, layout);
  const torch::Tensor x = torch::rand({a.batch, n.in_channels, h, w}).to(device);
  torch::Tensor target = (!n.dense         ? torch::randint(0, n.classes, {a.batch})
                          : n.classes == 1 ? torch::rand({a.batch, 1, h, w})
                                           : torch::randint(0, n.classes, {a.batch, h, w}))
                             .to(device);
  torch::optim::AdamW optimizer(n.module->parameters(), torch::optim::AdamWOptions(1e-3));
  namespace F = torch::nn::functional;
  auto step = [&] {
    optimizer.zero_grad();
    const torch::Tensor out = n.forward(to_layout(x, layout));  // each batch is converted, as in training
    torch::Tensor loss = n.dense && n.classes == 1 ? F::binary_cross_entropy_with_logits(out, target)
                                                   : F::cross_entropy(out, target);
    loss.backward();
    optimizer.step();
  };
  return {{"images_per_second", timed(step, a.batch, a.seconds, device)}, {"memory_format", layout_name(layout)}};
}

// The peer's segmentation weights as a hemapath model file working at `mpp` um/px (plain
// [0,1] inputs, as the Python slide reference feeds them), so both slide pipelines run one network.
nlohmann::json write_model_file(const Args& a) {
  Network n = load(a);
  auto* segmenter = dynamic_cast<SegmenterImpl*>(n.module.get());
  if (!segmenter || n.in_channels != 3) throw std::invalid_argument("hpm: --arch must be unet");
  SegmenterHeader h;
  h.arch = a.arch;
  h.options = n.segmenter;
  for (int64_t c = 0; c < n.classes; ++c) h.classes.push_back(c == 0 ? "background" : "class" + std::to_string(c));
  h.output_stride = segmenter->output_stride();
  h.training = {{"config", {{"data", {{"mpp", a.mpp}}}}}};
  save_model_file(a.out, h.to_json(), *n.module, WeightPrecision::float32);
  return {{"model", a.out}};
}

// The machine's convolution and matrix-product peak as LibTorch reaches them: large 3x3
// convolutions through the engine's oneDNN plan, and a 2048^2 GEMM; FLOPs = 2 x MACs. Each
// shape runs as a chain of kChained convolutions: a network converts its input to oneDNN's
// layout once, and one convolution alone would carry that conversion (and the output's) too.
// The 512-channel shapes are there because ResNet-18's deepest layers outran the old best shape.
nlohmann::json peak(const Args& a) {
  constexpr int kChained = 4;
  nlohmann::json convs = nlohmann::json::array();
  double best = 0;
  for (auto [channels, side, batch] :
       {std::tuple<int64_t, int64_t, int64_t>{64, 112, 8}, {128, 56, 16}, {256, 28, 32}, {512, 14, 32}, {512, 7, 32}}) {
    torch::nn::Sequential chain;
    for (int i = 0; i < kChained; ++i)
      chain->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
    const auto module = chain.ptr();
    InferenceEngine engine(module, [module](const torch::Tensor& x) { return module->forward(x); },
                           {c10::kCPU, "mkldnn"});
    const torch::Tensor x = torch::rand({batch, channels, side, side});
    settled(engine, x);
    const double macs = kChained * static_cast<double>(batch) * channels * side * side * channels * 9;
    const double per_second = timed([&] { engine(x); }, 1, a.seconds / 4, c10::kCPU);
    const double gflops = 2 * macs * per_second / 1e9;
    best = std::max(best, gflops);
    convs.push_back({{"channels", channels}, {"side", side}, {"batch", batch}, {"gflops_per_second", gflops}});
  }
  const torch::Tensor m = torch::rand({2048, 2048});
  const double gemm = 2.0 * 2048 * 2048 * 2048 * timed([&] { torch::mm(m, m); }, 1, a.seconds / 4, c10::kCPU) / 1e9;
  return {{"conv", convs}, {"conv_peak_gflops_per_second", best}, {"gemm_gflops_per_second", gemm}};
}

// How far apart two classifier files' weights are (bench/distributed_train.sh).
nlohmann::json compare_classifiers(const Args& a) {
  const auto x = load_classifier(a.weights, c10::kCPU).model->named_parameters();
  const auto y = load_classifier(a.other, c10::kCPU).model->named_parameters();
  double difference = 0, largest = 0;
  for (const auto& p : x) {
    difference = std::max(difference, (p.value() - y[p.key()]).abs().max().item<double>());
    largest = std::max(largest, p.value().abs().max().item<double>());
  }
  return {{"parameters", x.size()}, {"max_abs_difference", difference}, {"max_abs_parameter", largest}};
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory_for_reuse();  // as the hemapath command line does
  CLI::App app{"hemapath speed benchmark (run through bench/run)"};
  std::string mode;
  Args a;
  app.add_option("mode", mode, "peak, forward or train")
      ->required()
      ->check(CLI::IsMember({"peak", "forward", "train", "hpm", "compare"}));
  app.add_option("--arch", a.arch);
  app.add_option("--weights", a.weights);
  app.add_option("--batch", a.batch);
  app.add_option("--size", a.size);
  app.add_option("--plan", a.plan);
  app.add_option("--threads", a.threads);
  app.add_option("--seconds", a.seconds);
  app.add_option("--mpp", a.mpp);
  app.add_option("--out", a.out);
  app.add_option("--other", a.other);
  app.add_option("--memory-format", a.memory_format,
                 "train: train.memory_format's values (default: as hemapath train lays out this network)")
      ->check(CLI::IsMember(classifier_memory_formats()));
  app.add_option("--device", a.device, "cpu or cuda[:N] (forward and train; the peak is the CPU's)");
  CLI11_PARSE(app, argc, argv);
  try {
    set_threads(a.threads);
    torch::manual_seed(0);
    nlohmann::json result = mode == "peak"      ? peak(a)
                            : mode == "forward" ? forward(a)
                            : mode == "train"   ? train(a)
                            : mode == "compare" ? compare_classifiers(a)
                                                : write_model_file(a);
    result.update({{"side", "hemapath"}, {"mode", mode}, {"threads", torch::get_num_threads()}});
    if (mode != "peak" && mode != "compare")
      result.update({{"arch", a.arch}, {"batch", a.batch}, {"size", a.size}, {"device", a.device}});
    std::cout << result.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "hemapath_speed " << mode << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
