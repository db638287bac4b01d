#pragma once
/// The memory layout a network trains in (config key `train.memory_format`). oneDNN's
/// convolutions and their gradients run fastest in its own blocked layout for plain
/// convolutional networks (ResNet-18: 1.1-1.25x channels-last), in channels-last (NHWC) for
/// depthwise ones (EfficientNet: 1.6x NCHW), while the U-Net and MRN, with their thin layers,
/// upsampling and concatenations, train faster in the default NCHW layout (bench/run;
/// docs/speed.md). The numbers agree up to float rounding.
#include <string>

#include <torch/torch.h>

namespace hemapath {

class ClassifierImpl;
struct TrainConfig;

enum class TrainingLayout {
  contiguous,     ///< NCHW
  channels_last,  ///< NHWC
  /// Activations in oneDNN's blocked layout (LibTorch's MKLDNN tensors), weights plain for
  /// the optimiser. Only networks whose every op has a oneDNN kernel run in it (ResNets).
  mkldnn,
};

/// The layout named `name`: "contiguous", "channels_last" or "mkldnn" (std::invalid_argument
/// otherwise: configs are checked when read).
TrainingLayout training_layout(const std::string& name);

/// The config name of `layout`.
std::string layout_name(TrainingLayout layout);

/// Re-lays every 4-D parameter and buffer of `module` out for `layout` (channels-last, or
/// plain for the others), in place: the tensors stay the same objects, so an optimiser built
/// before or after sees them.
void use_layout(torch::nn::Module& module, TrainingLayout layout);

/// A 4-D batch in `layout` (an MKLDNN tensor for mkldnn); other tensors as they are.
torch::Tensor to_layout(const torch::Tensor& batch, TrainingLayout layout);

/// The layout `model` trains in for `config`'s train.memory_format (classifier_memory_formats(),
/// train_config.h). "auto" is mkldnn for a ResNet on the CPU whose training step (with the
/// config's loss head, if any) runs in it, else channels_last. The step is tried once on two
/// blank crops; the model's buffers (BatchNorm statistics), gradients and
/// the random generator are left as they were. ConfigError naming train.memory_format when
/// mkldnn is asked for and the step does not run in it.
TrainingLayout classifier_layout(const TrainConfig& config, ClassifierImpl& model, const c10::Device& device);

}  // namespace hemapath
