#include "hemapath/models/complexity.h"

#include <ATen/record_function.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "hemapath/models/classifier.h"

namespace hemapath {

int64_t count_parameters(const torch::nn::Module& module, bool trainable_only) {
  int64_t n = 0;
  for (const torch::Tensor& p : module.parameters(/*recurse=*/true))
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

// The callbacks are plain function pointers (RecordFunctionCallback takes no state), so the
// counter they feed is found through a thread-local pointer: set only by a live FlopCounter
// on its own thread, it keeps operations of other threads and of other times out.
struct FlopCounterAccess {
  static thread_local FlopCounter* active;
  static FlopCount& count(FlopCounter& c) { return c.count_; }
  static int& depth(FlopCounter& c) { return c.depth_; }
};
thread_local FlopCounter* FlopCounterAccess::active = nullptr;

namespace {

enum class OpKind { none, conv, matmul };

// Only the entry points: the native kernels below them (_convolution, mkldnn_convolution,
// slow_conv2d ...) run nested inside and are skipped by the depth rule anyway, but listing
// them would count a direct call to one twice if it also ran an op listed here.
OpKind kind_of(const char* name) {
  if (std::strncmp(name, "aten::", 6) != 0) return OpKind::none;
  const char* op = name + 6;
  if (std::strcmp(op, "convolution") == 0) return OpKind::conv;
  for (const char* m : {"linear", "matmul", "mm", "addmm", "bmm", "baddbmm"})
    if (std::strcmp(op, m) == 0) return OpKind::matmul;
  return OpKind::none;
}

// What the start callback learnt from the inputs (only visible there) for the end callback,
// which sees the output.
struct OpContext : at::ObserverContext {
  OpKind kind = OpKind::none;
  bool counted = false;    // false for an op nested in a counted one
  int64_t per_output = 0;  // MACs per output element
  int64_t fixed = 0;       // MACs known without the output (transposed convolution)
};

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  FlopCounter* counter = FlopCounterAccess::active;
  if (counter == nullptr) return nullptr;
  const OpKind kind = kind_of(fn.name());
  if (kind == OpKind::none) return nullptr;
  auto ctx = std::make_unique<OpContext>();
  ctx->kind = kind;
  int& depth = FlopCounterAccess::depth(*counter);
  ctx->counted = depth++ == 0;
  if (!ctx->counted) return ctx;

  const auto inputs = fn.inputs();
  if (kind == OpKind::conv) {
    // convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    if (inputs.size() < 7 || !inputs[0].isTensor() || !inputs[1].isTensor()) {
      ctx->counted = false;
      return ctx;
    }
    const at::Tensor& input = inputs[0].toTensor();
    const at::Tensor& weight = inputs[1].toTensor();
    const bool transposed = inputs[6].isBool() && inputs[6].toBool();
    // weight: [out, in/groups, k...] (plain) or [in, out/groups, k...] (transposed); either way
    // numel / size(0) is the MACs one output (plain) or one input (transposed) element takes.
    const int64_t per_element = weight.size(0) > 0 ? weight.numel() / weight.size(0) : 0;
    if (transposed)
      ctx->fixed = input.numel() * per_element;
    else
      ctx->per_output = per_element;
    return ctx;
  }
  // linear(input, weight, bias); matmul/mm/bmm(a, b); addmm/baddbmm(self, a, b): the
  // contracted dimension is the last one of the first matrix operand.
  const char* op = fn.name() + 6;
  const size_t a = (std::strcmp(op, "addmm") == 0 || std::strcmp(op, "baddbmm") == 0) ? 1 : 0;
  if (inputs.size() <= a || !inputs[a].isTensor() || inputs[a].toTensor().dim() == 0) {
    ctx->counted = false;
    return ctx;
  }
  ctx->per_output = inputs[a].toTensor().size(-1);
  return ctx;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* base) {
  FlopCounter* counter = FlopCounterAccess::active;
  if (counter == nullptr || base == nullptr) return;
  auto* ctx = static_cast<OpContext*>(base);
  --FlopCounterAccess::depth(*counter);
  if (!ctx->counted) return;
  int64_t macs = ctx->fixed;
  if (macs == 0) {
    const auto& outputs = fn.outputs();
    if (outputs.empty() || !outputs[0].isTensor()) return;
    macs = outputs[0].toTensor().numel() * ctx->per_output;
  }
  FlopCount& count = FlopCounterAccess::count(*counter);
  if (ctx->kind == OpKind::conv) {
    count.conv_macs += macs;
    ++count.conv_ops;
  } else {
    count.linear_macs += macs;
    ++count.linear_ops;
  }
}

// One global callback shared by every live counter (two would count each op twice), added
// by the first and removed by the last.
std::mutex callback_mutex;
int callback_users = 0;
at::CallbackHandle callback_handle = at::INVALID_CALLBACK_HANDLE;

}  // namespace

FlopCounter::FlopCounter() {
  if (FlopCounterAccess::active != nullptr)
    throw std::logic_error("FlopCounter: another counter is already active on this thread");
  {
    std::lock_guard<std::mutex> lock(callback_mutex);
    if (callback_users++ == 0) {
      callback_handle = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end)
                                                  .needsInputs(true)
                                                  .needsOutputs(true)
                                                  .scopes({at::RecordScope::FUNCTION}));
    }
  }
  FlopCounterAccess::active = this;
}

FlopCounter::~FlopCounter() {
  FlopCounterAccess::active = nullptr;
  std::lock_guard<std::mutex> lock(callback_mutex);
  if (--callback_users == 0) {
    at::removeCallback(callback_handle);
    callback_handle = at::INVALID_CALLBACK_HANDLE;
  }
}

FlopCount count_forward_flops(torch::nn::Module& model,
                              const std::function<torch::Tensor(const torch::Tensor&)>& forward, int64_t height,
                              int64_t width, int64_t channels) {
  torch::Device device = torch::kCPU;
  for (const torch::Tensor& p : model.parameters()) {
    device = p.device();
    break;
  }
  const bool was_training = model.is_training();
  model.eval();
  // Restores the mode whether the forward pass succeeds or throws.
  struct ModeRestore {
    torch::nn::Module& model;
    bool training;
    ~ModeRestore() { model.train(training); }
  } restore{model, was_training};

  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::zeros({1, channels, height, width}, torch::TensorOptions().device(device));
  FlopCounter counter;
  forward(input);
  return counter.count();
}

FlopCount count_forward_flops(ClassifierImpl& model, int64_t height, int64_t width, int64_t channels) {
  return count_forward_flops(
      model, [&model](const torch::Tensor& x) { return model.forward(x); }, height, width, channels);
}

}  // namespace hemapath
