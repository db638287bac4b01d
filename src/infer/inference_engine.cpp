#include "hemapath/infer/inference_engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include <ATen/autocast_mode.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/frozen_conv_add_relu_fusion.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/frozen_linear_transpose.h>
#include <torch/csrc/jit/passes/frozen_ops_to_mkldnn.h>
#include <torch/csrc/jit/passes/graph_rewrite_helper.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_dropout.h>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/memory.h"

namespace hemapath {
namespace {

// Compiled shapes kept per engine: a slide or a smear batch sees one or two.
constexpr size_t kMaxShapes = 16;

// The tracer bakes tensors it has not seen as inputs into the graph as constants, but refuses
// ones that require grad: switch that off for the trace and restore it after.
class GradientsOff {
 public:
  explicit GradientsOff(torch::nn::Module& module) {
    for (auto& p : module.parameters()) {
      saved_.emplace_back(p, p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~GradientsOff() {
    for (auto& [p, requires_grad] : saved_) p.requires_grad_(requires_grad);
  }

 private:
  std::vector<std::pair<torch::Tensor, bool>> saved_;
};

class AutocastScope {
 public:
  AutocastScope() { at::autocast::set_enabled(true); }
  ~AutocastScope() {
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
  }
};

// The last non-empty line of an error: the graph interpreter puts its reason there.
std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return text;
  const auto begin = text.find_last_of("\n", end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

int64_t padded_batch(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

const std::vector<std::string>& inference_plans() {
  static const std::vector<std::string> plans{"auto", "mkldnn", "channels_last", "frozen", "eager"};
  return plans;
}

void check_inference_options(const InferenceOptions& options, const std::string& option) {
  const auto& plans = inference_plans();
  if (std::find(plans.begin(), plans.end(), options.plan) == plans.end()) {
    std::string valid;
    for (const auto& p : plans) valid += (valid.empty() ? "" : ", ") + p;
    throw ConfigError(option + " '" + options.plan + "' is not an inference plan: expected one of " + valid);
  }
  HP_CHECK(!(options.plan == "mkldnn" && options.device.is_cuda()), DeviceError, option,
           " mkldnn runs on the CPU only; use auto, channels_last or frozen with a CUDA device");
  HP_CHECK(!options.mixed_precision || options.device.is_cuda(), DeviceError,
           "mixed precision runs on a CUDA device only (--device cuda)");
}

// One input shape's way of running: a compiled graph, or the module itself when no compiled
// plan reproduced it.
struct CompiledShape {
  std::string plan;
  std::shared_ptr<torch::jit::GraphFunction> function;
};

// A shape not compiled yet: how often it has run eagerly, and its first batch and output,
// which the compiled graph must reproduce.
struct Reference {
  torch::Tensor input, output;
  int runs = 0;
};

struct InferenceEngine::Impl {
  std::shared_ptr<torch::nn::Module> module;
  TensorFunction forward;
  InferenceOptions options;
  mutable std::string plan;  // "auto" until the first compiled shape has decided it
  mutable std::mutex mutex;
  mutable std::map<std::vector<int64_t>, CompiledShape> compiled;
  mutable std::vector<std::vector<int64_t>> compile_order;
  mutable std::map<std::vector<int64_t>, Reference> references;
  mutable std::shared_ptr<torch::jit::Graph> last_graph;

  static torch::Tensor to_layout(const torch::Tensor& x, const std::string& plan) {
    return plan == "channels_last" && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x.contiguous();
  }

  static torch::Tensor run(const CompiledShape& shape, const torch::Tensor& x) {
    torch::jit::Stack stack{to_layout(x, shape.plan)};
    shape.function->run(stack);
    return stack.back().toTensor();
  }

  // Records the network on `example` and optimises the graph as torch.jit.freeze and
  // optimize_for_inference do for a frozen module.
  CompiledShape compile(const torch::Tensor& example, const std::string& layout) const {
    torch::NoGradGuard no_grad;
    GradientsOff gradients_off(*module);
    std::pair<std::shared_ptr<torch::jit::tracer::TracingState>, torch::jit::Stack> traced;
    try {
      traced = torch::jit::tracer::trace(
          {to_layout(example, layout)},
          [this](torch::jit::Stack inputs) { return torch::jit::Stack{forward(inputs[0].toTensor())}; },
          [](const torch::autograd::Variable&) { return std::string(); }, /*strict=*/false);
    } catch (const c10::Error& e) {
      throw ModelFileError("the network cannot be compiled for inference on input " + c10::str(example.sizes()) +
                           " (plan eager runs it as it is): " + e.what_without_backtrace());
    }
    std::shared_ptr<torch::jit::Graph> graph = traced.first->graph;
    torch::jit::Inline(*graph);
    torch::jit::graph_rewrite_helper::replaceConvolutionWithAtenConv(graph);
    torch::jit::removeDropout(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
    torch::jit::FuseFrozenConvAddRelu(graph);
    if (layout == "mkldnn") torch::jit::ConvertFrozenOpsToMKLDNN(graph);
    torch::jit::FrozenLinearTranspose(graph);
    torch::jit::EliminateDeadCode(graph);
    return {layout, std::make_shared<torch::jit::GraphFunction>("hemapath_inference", graph, nullptr,
                                                                torch::jit::ExecutorExecutionMode::SIMPLE)};
  }

  // Whether `shape` runs the reference input and gives the module's own output (to 1e-3 of its
  // scale): oneDNN lacks some ops at some sizes (adaptive pooling to a size that does not divide).
  static bool reproduces(const CompiledShape& shape, const Reference& reference, std::string& why) {
    try {
      torch::InferenceMode guard;
      const torch::Tensor& expected = reference.output;
      const torch::Tensor got = run(shape, reference.input);
      const double scale = std::max(1.0, expected.abs().max().item<double>());
      const double diff = (got.to(torch::kFloat) - expected.to(torch::kFloat)).abs().max().item<double>();
      if (got.sizes() == expected.sizes() && diff <= 1e-3 * scale) return true;
      why = "output differs by " + std::to_string(diff);
    } catch (const c10::Error& e) {
      why = e.what_without_backtrace();
    } catch (const std::exception& e) {  // the graph interpreter's own errors
      why = e.what();
    }
    return false;
  }

  // `layout`'s graph for this shape when it reproduces the module, else nothing (warned).
  std::optional<CompiledShape> compile_checked(const Reference& reference, const std::string& layout) const {
    CompiledShape shape = compile(reference.input, layout);
    std::string why;
    if (reproduces(shape, reference, why)) return shape;
    logger("infer")->warn("inference plan {} does not run this network on input {}: {}", layout,
                          c10::str(reference.input.sizes()), last_line(why));
    return std::nullopt;
  }

  // Seconds of one run of `shape` (after the check's run has warmed it up): the faster of two,
  // as one run alone is at the mercy of whatever else the machine is doing.
  static double seconds_per_run(const CompiledShape& shape, const torch::Tensor& example) {
    torch::InferenceMode guard;
    double best = 0;
    for (int run_index = 0; run_index < 2; ++run_index) {
      const auto start = std::chrono::steady_clock::now();
      run(shape, example);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = run_index == 0 ? seconds : std::min(best, seconds);
    }
    return best;
  }

  // The first shape of an "auto" engine decides its plan: each CPU layout is compiled, checked
  // and timed on it, and the faster one is kept for every shape after. Which one wins depends
  // on the network (oneDNN's blocked layout for plain ResNets, channels-last for depthwise
  // convolutions and for U-Nets' upsampling and concatenation), so it is measured, not guessed.
  CompiledShape choose_plan(const Reference& reference) const {
    std::string best;
    double best_seconds = 0;
    std::optional<CompiledShape> candidate;
    for (const std::string layout : {"channels_last", "mkldnn"}) {
      // One candidate's constants and activations at a time: the peak memory is then the
      // larger candidate's, not both together.
      candidate.reset();
      release_free_memory();
      candidate = compile_checked(reference, layout);
      if (!candidate) continue;
      const double seconds = seconds_per_run(*candidate, reference.input);
      logger("infer")->debug("inference plan {} on input {}: {:.4f} s", layout, c10::str(reference.input.sizes()),
                             seconds);
      if (best.empty() || seconds < best_seconds) best = layout, best_seconds = seconds;
    }
    plan = best.empty() ? "frozen" : best;
    if (candidate && candidate->plan == plan) return *candidate;
    candidate.reset();  // an earlier candidate won: compile it again
    release_free_memory();
    return compile_for_plan(reference);
  }

  // The plan's graph for this shape; a plan that fails falls back to the default layout, then
  // to the module itself.
  CompiledShape compile_for_plan(const Reference& reference) const {
    if (auto shape = compile_checked(reference, plan)) return *shape;
    if (plan != "frozen")
      if (auto shape = compile_checked(reference, "frozen")) return *shape;
    return {"eager", nullptr};
  }

  // How to run a batch of this shape. A shape's first kEagerRunsBeforeCompiling batches run
  // the module itself ("record"); the next compiles the plan, checked against the first
  // batch's output. Compiled shapes are kept, the oldest dropped beyond kMaxShapes.
  CompiledShape shape_for(const std::vector<int64_t>& key) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = compiled.find(key);
    if (found != compiled.end()) return found->second;
    auto reference = references.find(key);
    if (reference == references.end() || reference->second.runs < InferenceEngine::kEagerRunsBeforeCompiling)
      return {"record", nullptr};
    if (compiled.size() >= kMaxShapes) {
      compiled.erase(compile_order.front());
      compile_order.erase(compile_order.begin());
    }
    // The eager batches' freed memory is laid out for the module's own tensors: hand it back
    // before the compiled graph allocates its own, so the two do not add up at the peak.
    release_free_memory();
    CompiledShape shape = plan == "auto" ? choose_plan(reference->second) : compile_for_plan(reference->second);
    references.erase(reference);
    release_free_memory();  // what compiling and checking left free
    if (shape.function) last_graph = shape.function->graph();
    compiled.emplace(key, shape);
    compile_order.push_back(key);
    return shape;
  }

  // Counts an eager batch of a shape, keeping the first with its output (plain copies:
  // inference tensors cannot be traced).
  void record(const std::vector<int64_t>& key, const torch::Tensor& input, const torch::Tensor& output) const {
    std::lock_guard<std::mutex> lock(mutex);
    Reference& r = references[key];
    if (r.runs++ > 0) return;
    c10::InferenceMode off(false);
    r.input = input.clone();
    r.output = output.clone();
  }
};

InferenceEngine::InferenceEngine(std::shared_ptr<torch::nn::Module> module, TensorFunction forward,
                                 InferenceOptions options)
    : impl_(std::make_shared<Impl>()) {
  HP_CHECK(module != nullptr && forward, InputError, "inference engine: no network given");
  check_inference_options(options);
  module->eval();
  module->to(options.device);
  impl_->module = std::move(module);
  impl_->forward = std::move(forward);
  impl_->options = options;
  std::string plan = options.plan;
  if (options.mixed_precision) plan = "eager";
  if (plan == "auto" && options.device.is_cuda()) plan = "channels_last";  // oneDNN is CPU only
  impl_->plan = plan;
}

torch::Tensor InferenceEngine::operator()(const torch::Tensor& input) const {
  const Impl& e = *impl_;
  HP_CHECK(input.dim() >= 1 && input.size(0) >= 1, InputError, "inference: expected a batch [N,...] with N >= 1, got ",
           input.sizes());
  torch::InferenceMode guard;
  torch::Tensor x = input.to(e.options.device, torch::kFloat);
  if (e.options.plan == "eager" || e.options.mixed_precision) {
    if (!e.options.mixed_precision) return e.forward(x);
    AutocastScope autocast;
    return e.forward(x.contiguous(torch::MemoryFormat::ChannelsLast)).to(torch::kFloat);
  }
  const int64_t n = x.size(0), padded = padded_batch(n);
  if (padded != n) {
    std::vector<int64_t> pad_shape = x.sizes().vec();
    pad_shape[0] = padded - n;
    x = torch::cat({x, torch::zeros(pad_shape, x.options())});
  }
  const std::vector<int64_t> key = x.sizes().vec();
  CompiledShape shape;
  {
    // Tracing must not run under inference mode: its constants would be inference tensors.
    c10::InferenceMode off(false);
    shape = e.shape_for(key);
  }
  const torch::Tensor out = shape.function ? Impl::run(shape, x) : e.forward(x);
  if (shape.plan == "record") e.record(key, x, out);
  return padded != n ? out.narrow(0, 0, n) : out;
}

TensorFunction InferenceEngine::function() const {
  return [engine = *this](const torch::Tensor& x) { return engine(x); };
}

std::string InferenceEngine::plan() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->plan;
}
const InferenceOptions& InferenceEngine::options() const { return impl_->options; }

size_t InferenceEngine::compiled_shapes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->compiled.size();
}

std::vector<std::string> InferenceEngine::compiled_operators() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> ops;
  if (impl_->last_graph)
    for (const torch::jit::Node* node : impl_->last_graph->nodes()) ops.push_back(node->kind().toQualString());
  return ops;
}

}  // namespace hemapath

