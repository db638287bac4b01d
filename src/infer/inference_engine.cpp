#include "hemapath/infer/inference_engine.h"

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
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/memory.h"
#include "hemapath/core/progress.h"
#include "hemapath/infer/plan_cache.h"

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

// What a batch runs, and its output when that came with compiling (tracing runs the batch).
struct Step {
  CompiledShape shape;
  torch::Tensor output;
  bool timed = false;  // a candidate layout of "auto" taking its turn
};

// The layouts "auto" chooses between. Which is faster depends on the network (oneDNN's blocked
// layout for plain ResNets, channels-last for depthwise convolutions and for U-Nets' upsampling
// and concatenation), so it is measured, not guessed: each is compiled (and checked) on one
// batch of the first compiled shape, then the candidates take turns on the shape's next
// batches, kTimedRuns each, and the one with the fastest run is kept, with no compiling again.
// Taking turns puts both under the same load: timed one after the other, a burst of other work
// on a shared machine made a slide keep channels-last (0.333 against 0.341 s) though its tiles
// run 25% faster in oneDNN's layout, and the plan cache kept that choice for later slides.
// The batches are run anyway, so choosing costs the compiling, the checks and the slower
// layout's turns.
const std::vector<std::string> kAutoLayouts{"channels_last", "mkldnn"};
constexpr int kTimedRuns = 3;

struct Candidate {
  CompiledShape shape;
  int timed = 0;
  double seconds = 0;  // its fastest run
};

struct LayoutTrial {
  std::vector<int64_t> key;
  size_t next = 0;                    // index of the next layout in kAutoLayouts to compile
  std::vector<Candidate> candidates;  // the layouts compiled that reproduce the module
  size_t turn = 0;                    // counts the turns handed out

  bool compiling() const { return next < kAutoLayouts.size(); }
};

// What the speed of each layout depends on, in one string: the network's parameters and
// buffers (names and shapes), the input shape, the threads, the CPU and LibTorch.
std::string speed_identity(const torch::nn::Module& module, const std::vector<int64_t>& input) {
  std::ostringstream s;
  for (const auto& p : module.named_parameters()) s << p.key() << p.value().sizes() << ';';
  for (const auto& b : module.named_buffers()) s << b.key() << b.value().sizes() << ';';
  s << "|input " << c10::IntArrayRef(input) << "|threads " << at::get_num_threads() << "|cpu " << cpu_model_name()
    << "|torch " << TORCH_VERSION;
  return s.str();
}

struct InferenceEngine::Impl {
  std::shared_ptr<torch::nn::Module> module;
  TensorFunction forward;
  InferenceOptions options;
  mutable std::string plan;  // "auto" until the first compiled shape has decided it
  mutable std::mutex mutex;
  mutable std::map<std::vector<int64_t>, CompiledShape> compiled;
  mutable std::vector<std::vector<int64_t>> compile_order;
  mutable std::map<std::vector<int64_t>, int> eager_runs;
  mutable std::optional<LayoutTrial> trial;
  mutable std::shared_ptr<torch::jit::Graph> last_graph;
  PlanCache plan_cache;

  std::string cache_key(const std::vector<int64_t>& input) const {
    std::ostringstream hex;
    hex << std::hex << std::hash<std::string>{}(speed_identity(*module, input));
    return hex.str();
  }

  // The layout an earlier "auto" chose for this network, shape and machine, if remembered.
  std::optional<std::string> remembered_layout(const std::vector<int64_t>& input) const {
    std::optional<std::string> layout = plan_cache.find(cache_key(input));
    if (!layout || std::find(kAutoLayouts.begin(), kAutoLayouts.end(), *layout) == kAutoLayouts.end())
      return std::nullopt;
    logger("infer")->debug("inference plan {} on input {}: remembered in {}", *layout,
                           c10::str(c10::IntArrayRef(input)), plan_cache.file().string());
    return layout;
  }

  static torch::Tensor to_layout(const torch::Tensor& x, const std::string& plan) {
    return plan == "channels_last" && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x.contiguous();
  }

  static torch::Tensor run(const CompiledShape& shape, const torch::Tensor& x) {
    torch::jit::Stack stack{to_layout(x, shape.plan)};
    shape.function->run(stack);
    return stack.back().toTensor();
  }

  // Records the network on `example` and optimises the graph as torch.jit.freeze and
  // optimize_for_inference do for a frozen module. `output` gets the network's output for
  // `example`, which recording computes.
  CompiledShape compile(const torch::Tensor& example, const std::string& layout, torch::Tensor& output) const {
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
    output = traced.second.back().toTensor();
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

  // Whether `shape` runs `input` and gives `expected`, the module's own output (to 1e-3 of its
  // scale): oneDNN lacks some ops at some sizes (adaptive pooling to a size that does not divide).
  static bool reproduces(const CompiledShape& shape, const torch::Tensor& input, const torch::Tensor& expected,
                         std::string& why) {
    try {
      torch::InferenceMode guard;
      const torch::Tensor got = run(shape, input);
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

  // `layout`'s graph for `input`'s shape when it reproduces the module, else nothing (warned);
  // either way `output` is the module's output for `input`.
  std::optional<CompiledShape> compile_checked(const torch::Tensor& input, const std::string& layout,
                                               torch::Tensor& output) const {
    CompiledShape shape = compile(input, layout, output);
    std::string why;
    if (reproduces(shape, input, output, why)) return shape;
    logger("infer")->warn("inference plan {} does not run this network on input {}: {}", layout,
                          c10::str(input.sizes()), last_line(why));
    return std::nullopt;
  }

  // The plan's graph for this shape; a plan that fails falls back to the default layout, then
  // to the module itself.
  CompiledShape compile_for_plan(const torch::Tensor& input, torch::Tensor& output) const {
    if (auto shape = compile_checked(input, plan, output)) return *shape;
    if (plan != "frozen")
      if (auto shape = compile_checked(input, "frozen", output)) return *shape;
    return {"eager", nullptr};
  }

  // The trial's next candidate layout, compiled on `input` and kept in the trial when it
  // reproduces the module. With fewer than two candidates once all are compiled there is
  // nothing to time: the trial ends.
  CompiledShape compile_candidate(const torch::Tensor& input, torch::Tensor& output) const {
    const std::string layout = kAutoLayouts[trial->next++];
    std::optional<CompiledShape> shape = compile_checked(input, layout, output);
    if (shape) trial->candidates.push_back({*shape});
    if (!trial->compiling() && trial->candidates.size() < 2) decide(true);
    return shape ? *shape : CompiledShape{"eager", nullptr};
  }

  // How this batch runs. A shape's first kEagerRunsBeforeCompiling batches run the module
  // itself; the next is recorded while it runs, and the graph compiled from it serves the
  // shape's later batches. Compiled shapes are kept, the oldest dropped beyond kMaxShapes.
  Step step(const std::vector<int64_t>& key, const torch::Tensor& x) const {
    std::lock_guard<std::mutex> lock(mutex);
    const bool trial_shape = trial && trial->key == key;
    if (trial_shape && !trial->compiling()) {
      const Candidate& turn = trial->candidates[trial->turn++ % trial->candidates.size()];
      return {turn.shape, {}, true};
    }
    auto found = compiled.find(key);
    if (found != compiled.end()) return {found->second, {}, false};
    int& runs = eager_runs[key];
    // Another shape waits for "auto" to decide on the first, but not for ever: that shape
    // may not come again.
    if (trial && !trial_shape && runs >= 2 * InferenceEngine::kEagerRunsBeforeCompiling) decide(false);
    if (!trial_shape && (runs < InferenceEngine::kEagerRunsBeforeCompiling || trial)) {
      ++runs;
      return {{"eager", nullptr}, {}, false};
    }
    if (compiled.size() >= kMaxShapes) {
      compiled.erase(compile_order.front());
      compile_order.erase(compile_order.begin());
    }
    // The eager batches' freed memory is laid out for the module's own tensors: hand it back
    // before the compiled graph allocates its own, so the two do not add up at the peak.
    release_free_memory();
    const torch::Tensor input = x.clone();  // outside inference mode, so it can be recorded
    Step s;
    if (plan == "auto" && !trial) {
      if (std::optional<std::string> layout = remembered_layout(key))
        plan = *layout;
      else
        trial.emplace().key = key;
    }
    const bool candidate = trial.has_value();
    s.shape = candidate ? compile_candidate(input, s.output) : compile_for_plan(input, s.output);
    release_free_memory();  // what compiling and checking left free
    if (s.shape.function) last_graph = s.shape.function->graph();
    if (!candidate) keep(key, s.shape);
    return s;
  }

  void keep(const std::vector<int64_t>& key, const CompiledShape& shape) const {
    compiled.emplace(key, shape);
    compile_order.push_back(key);
  }

  // A candidate's timed turn. Once every candidate has had kTimedRuns, the trial decides.
  void timed(const std::vector<int64_t>& key, const std::string& layout, double seconds) const {
    std::lock_guard<std::mutex> lock(mutex);
    if (!trial || trial->key != key) return;
    bool all_timed = true;
    for (Candidate& c : trial->candidates) {
      if (c.shape.plan == layout) c.seconds = c.timed++ == 0 ? seconds : std::min(c.seconds, seconds);
      all_timed = all_timed && c.timed >= kTimedRuns;
    }
    if (all_timed) decide(true);
  }

  // Ends the trial: the candidate with the fastest run becomes the plan, and its graph serves
  // the shape from now on (else the first candidate compiled, else the default layout, which
  // the shape's next batch compiles). The other candidates' graphs are dropped. A choice made
  // once every layout was timed or failed its check (`complete`) is remembered.
  void decide(bool complete) const {
    const Candidate* best = nullptr;
    std::string timings;
    for (const Candidate& c : trial->candidates) {
      if (c.timed == 0) continue;
      timings += (timings.empty() ? "" : ", ") + c.shape.plan + " " + std::to_string(c.seconds) + " s";
      if (!best || c.seconds < best->seconds) best = &c;
    }
    if (!best && !trial->candidates.empty()) best = &trial->candidates.front();
    const std::string input = c10::str(c10::IntArrayRef(trial->key));
    plan = best ? best->shape.plan : "frozen";
    logger("infer")->debug("inference plan {} on input {} ({})", plan, input, timings.empty() ? "untimed" : timings);
    if (complete && best)
      plan_cache.store(cache_key(trial->key), plan,
                       "input " + input + ", " + std::to_string(at::get_num_threads()) + " threads: " +
                           (timings.empty() ? "the only layout that reproduces the network" : timings));
    if (best) keep(trial->key, best->shape);
    trial.reset();
    release_free_memory();
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
  impl_->plan_cache = PlanCache(options.plan_cache);
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
  Step step;
  {
    // Recording must not run under inference mode: its constants would be inference tensors.
    c10::InferenceMode off(false);
    step = e.step(key, x);
  }
  torch::Tensor out = step.output;
  if (!out.defined()) {
    const auto start = std::chrono::steady_clock::now();
    out = step.shape.function ? Impl::run(step.shape, x) : e.forward(x);
    if (step.timed)
      e.timed(key, step.shape.plan, seconds_since(start));
  }
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
  const bool trial_compiled = impl_->trial && !impl_->trial->candidates.empty();
  return impl_->compiled.size() + (trial_compiled ? 1 : 0);
}

std::vector<std::string> InferenceEngine::compiled_operators() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> ops;
  if (impl_->last_graph)
    for (const torch::jit::Node* node : impl_->last_graph->nodes()) ops.push_back(node->kind().toQualString());
  return ops;
}

}  // namespace hemapath

