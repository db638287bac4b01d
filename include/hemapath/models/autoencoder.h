#pragma once
/// A convolutional autoencoder whose encoder is a registered classifier's backbone, for
/// self-supervised pretraining on unlabelled images: once trained to reconstruct cells, its
/// encoder initialises a classifier of the same architecture (`train --pretrained`), whose
/// parameter names it shares under the "encoder." prefix.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "hemapath/models/classifier.h"

namespace hemapath {

struct AutoencoderOptions {
  std::string arch = "resnet18";                     ///< encoder: any registered classifier
  nlohmann::json extra = nlohmann::json::object();   ///< the encoder's architecture options
  int64_t input_size = 112;                          ///< side of the square input, px
  int64_t decoder_width = 256;  ///< channels after the first decoder layer, halved per upsampling (>= 16)
};

/// images [N,3,S,S] (S = input_size, normalised) -> reconstruction [N,3,S,S] on the same scale.
/// The decoder maps the encoder's feature map [N,C,h,w] back with one bilinear x2 upsampling
/// + conv-BN-ReLU per halving of S (until >= S; a final resize covers encoders whose stride
/// does not divide S) and a last 3x3 convolution to RGB without activation, since standardised
/// targets are not bounded.
class AutoencoderImpl : public torch::nn::Module {
 public:
  /// Builds the encoder through the registry (InputError for an unknown arch, ConfigError for
  /// bad options) and sizes the decoder from one dry run at input_size.
  explicit AutoencoderImpl(const AutoencoderOptions& options);
  torch::Tensor forward(torch::Tensor x);
  /// The encoder's feature map [N,C,h,w].
  torch::Tensor encode(torch::Tensor x);
  ClassifierImpl& encoder() { return *encoder_; }
  const AutoencoderOptions& options() const { return options_; }

  /// Prefix of the encoder's parameter names in this module's state dict.
  static constexpr const char* kEncoderPrefix = "encoder";

 private:
  AutoencoderOptions options_;
  ClassifierPtr encoder_;
  torch::nn::Sequential decoder_{nullptr};
};
TORCH_MODULE(Autoencoder);

}  // namespace hemapath
