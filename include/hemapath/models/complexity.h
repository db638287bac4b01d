#pragma once
/// What a network costs: its parameter count and the multiply-accumulates (MACs) of one
/// forward pass, counted from the operations the pass actually runs, not looked up.
///
/// GFLOPs convention: like torchvision's published "GFLOPS" column (resnet18 1.81, resnet50
/// 4.09, vgg16 15.47, efficientnet_b0 0.39 at 224x224, 1000 classes), "GFLOPs" here are
/// giga multiply-accumulates of the convolutions and of the matrix products (linear layers,
/// matmul, mm, addmm, bmm, baddbmm), one image. A MAC counts once, not as a multiply plus an
/// add; batch norm, activations, pooling, additions and the like are not counted (they are
/// a few percent at most in these networks). Each layer counts once: an operation that runs
/// inside another counted one (conv2d -> convolution -> _convolution -> mkldnn_convolution,
/// linear -> addmm) adds nothing of its own. Per layer:
///   convolution:            output elements x (in_channels / groups) x kernel area
///   transposed convolution: input elements x (out_channels / groups) x kernel area
///   matrix product:         output elements x the contracted dimension
#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace hemapath {

class ClassifierImpl;

/// Number of parameter elements of `module` and all its submodules (buffers such as batch
/// norm's running statistics excluded); with `trainable_only`, only those requiring grad.
int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false);

/// MACs counted while a FlopCounter was alive.
struct FlopCount {
  int64_t conv_macs = 0;    ///< convolutions (plain, grouped, depthwise, transposed; 1-3 d)
  int64_t linear_macs = 0;  ///< linear layers and other matrix products
  int64_t conv_ops = 0;     ///< convolution layers seen
  int64_t linear_ops = 0;   ///< matrix products seen
  int64_t macs() const { return conv_macs + linear_macs; }
  /// macs() / 1e9: "GFLOPs" in torchvision's sense (see the file comment).
  double gflops() const { return static_cast<double>(macs()) / 1e9; }
};

/// Counts, while alive, the MACs of the convolutions and matrix products dispatched on the
/// thread that created it (through ATen's RecordFunction callbacks). Operations on other
/// threads, and any operation before construction or after destruction, are not counted.
/// One counter per thread at a time: a second one on the same thread throws
/// std::logic_error. Create and destroy it on the same thread.
class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  /// What has been counted so far.
  const FlopCount& count() const { return count_; }

 private:
  FlopCount count_;
  int depth_ = 0;  // counted operations in flight: nested ones are part of the outer one
  friend struct FlopCounterAccess;
};

/// One forward pass of `model` through `forward` on a zero float input [1, channels,
/// height, width] (px) on the device of the model's first parameter, in eval mode under
/// torch::NoGradGuard, counted by a FlopCounter. The model's training mode is restored
/// afterwards. Errors of the forward pass (e.g. an input too small for the network)
/// propagate unchanged.
FlopCount count_forward_flops(torch::nn::Module& model,
                              const std::function<torch::Tensor(const torch::Tensor&)>& forward, int64_t height,
                              int64_t width, int64_t channels = 3);

/// The same for a classifier through its own forward(); `channels` must be the
/// classifier's in_channels.
FlopCount count_forward_flops(ClassifierImpl& model, int64_t height, int64_t width, int64_t channels = 3);

}  // namespace hemapath
