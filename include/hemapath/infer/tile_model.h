#pragma once
/// A segmentation network as slide inference sees it: RGB tiles in, class probabilities out.
/// Two kinds of file make one: a hemapath segmentation model (.hpm) and a TorchScript module
/// exported from PyTorch (.pt) with a JSON sidecar beside it (same stem, .json), so a lab's
/// Python-trained model runs through the same pipeline.
///
/// Sidecar keys: "classes" (names, background first, >= 2), "mpp" (um/px the model works at),
/// "tile_size" (px, optional), "stride" (inputs are padded to multiples of it, default 1),
/// "normalization" (as in model files: {"mode": "unit"|"symmetric"|"standardize", "mean",
/// "std"}), "output" ("logits", the default, or "probabilities"). The module takes float
/// [N,3,H,W] and returns [N,C,H,W]: C = number of classes (softmax), or 1 for two classes
/// (sigmoid of the foreground).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hemapath/image/normalization.h"
#include "hemapath/infer/inference_options.h"
#include "hemapath/image/stain_normalization.h"

namespace hemapath {

/// What a tile model says about itself.
struct TileModelInfo {
  std::string source;                  ///< the file it came from
  std::string kind;                    ///< "hpm" or "torchscript"
  std::vector<std::string> classes;    ///< background first
  Normalization normalization;
  std::optional<double> mpp;           ///< um/px it was trained at, when known
  std::optional<int> tile_size;        ///< its preferred tile side, px
  int64_t stride = 1;                  ///< tile sides must be multiples of this
  /// "classes", "foreground" or "boundary" (hpm segmenters; see SegmenterHeader::target).
  std::string target = "classes";
  nlohmann::json instances = nlohmann::json::object();  ///< cell-separation settings (hpm)
  /// Multi-resolution models (MRN): the context patch's mpp over the working mpp. Each tile
  /// then goes in with a context patch of the same size around its centre: [N,6,H,W].
  std::optional<double> context_ratio;
  /// The stain normaliser the model was trained with (data.stain), applied to every tile.
  std::optional<StainNormalizer> stain;
};

class TileModel {
 public:
  /// Loads `path` (.hpm, or .pt/.pth/.ts with its .json sidecar) onto the device, for the
  /// inference plan of `inference` (a TorchScript module is frozen and optimised unless the
  /// plan is eager). ModelFileError naming the file (and the sidecar key) when unusable.
  static std::unique_ptr<TileModel> load(const std::string& path, const InferenceOptions& inference);
  static std::unique_ptr<TileModel> load(const std::string& path, const c10::Device& device) {
    return load(path, InferenceOptions{device});
  }
  virtual ~TileModel() = default;

  const TileModelInfo& info() const { return info_; }
  /// Probabilities [N,C,H,W] (float, CPU; C = number of classes) of normalised tiles
  /// [N,3,H,W] ([N,6,H,W] with context; H, W multiples of info().stride), in inference mode.
  virtual torch::Tensor probabilities(const torch::Tensor& tiles) = 0;

 protected:
  TileModelInfo info_;
};

/// Reads a TorchScript sidecar's JSON into `info` (classes, mpp, tile size, stride,
/// normalisation). ModelFileError naming `source` and the key when malformed; returns whether
/// the module outputs logits (true) or probabilities.
bool read_torchscript_sidecar(const nlohmann::json& sidecar, const std::string& source, TileModelInfo& info);

}  // namespace hemapath
