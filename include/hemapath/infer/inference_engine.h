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
  /// several forward passes (more for "auto", which times two plans), which a shape that comes
  /// a few times only (the crops of one smear) would not earn back.
  static constexpr int kEagerRunsBeforeCompiling = 4;

  /// `forward` runs `module` (kept alive by the engine, switched to eval mode) on a batch.
  InferenceEngine(std::shared_ptr<torch::nn::Module> module, TensorFunction forward, InferenceOptions options = {});

  /// The network's output for `input` (batch first; moved to the engine's device), computed
  /// in inference mode. A batch is padded up to a power of two so that few shapes are ever
  /// compiled; the padding rows are dropped from the output. The first
  /// kEagerRunsBeforeCompiling batches of a shape run the module as it is; the next compiles
  /// the plan for that shape and checks it against the first batch's output.
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
