#pragma once
/// The inference engine every predict / analyze / slide path runs its networks through.
///
/// Eager LibTorch runs a network op by op, each BatchNorm and activation a separate pass over
/// memory. The engine instead records the network once per input shape (LibTorch's tracer),
/// bakes the weights in as constants, folds every BatchNorm (and constant add/mul) into the
/// convolution before it, fuses convolution + add + ReLU, and then either converts the graph
/// to oneDNN's blocked layout ("mkldnn") or runs it channels-last ("channels_last"). Each
/// compiled shape is checked once against the module's own output (a plan that does not
/// reproduce it falls back, with a warning), so outputs equal the eval-mode network's within
/// float rounding (tested to 1e-4). Weights are snapshotted when a shape is first seen: build
/// the engine after the weights are final.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hemapath/core/tensor_function.h"
#include "hemapath/infer/inference_options.h"

namespace hemapath {

class InferenceEngine {
 public:
  /// Batches of a shape the module runs itself before the shape is compiled. Compiling costs
  /// about two forward passes (recording, and the check), which a shape that comes a few times
  /// only (the crops of one smear) would not earn back.
  static constexpr int kEagerRunsBeforeCompiling = 4;

  /// `forward` runs `module` (kept alive by the engine, switched to eval mode) on a batch.
  InferenceEngine(std::shared_ptr<torch::nn::Module> module, TensorFunction forward, InferenceOptions options = {});

  /// The network's output for `input` (batch first; moved to the engine's device), computed
  /// in inference mode. A batch is padded up to a power of two so that few shapes are ever
  /// compiled; the padding rows are dropped from the output. The first
  /// kEagerRunsBeforeCompiling batches of a shape run the module as it is; the next is
  /// recorded as it runs, and the plan compiled from the recording (checked against that
  /// batch's output) runs the shape's later batches. "auto" decides on its first compiled
  /// shape: each layout is compiled on one of its batches, then the layouts take turns on the
  /// shape's next batches, three each, and the one with the fastest run is kept (and
  /// remembered in options.plan_cache, whose choice a later engine
  /// for the same network, shape and machine compiles at once). Until then other shapes run
  /// the module.
  torch::Tensor operator()(const torch::Tensor& input) const;

  /// The plan of this network ("mkldnn", "channels_last", "frozen" or "eager"; "auto" until
  /// the first batch has decided it).
  std::string plan() const;
  const InferenceOptions& options() const;
  /// How many input shapes have been compiled so far.
  size_t compiled_shapes() const;
  /// The operators (e.g. "aten::conv2d") of the most recently compiled graph, in order: what
  /// the optimisation left. Empty before the first compiled run.
  std::vector<std::string> compiled_operators() const;
  /// The engine as a TensorFunction (shares its compiled graphs).
  TensorFunction function() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hemapath
