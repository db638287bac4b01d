#pragma once
/// The `.hpm` model file: one self-describing file holding a JSON header (architecture
/// and options, task, class names, input size and crop, normalisation, training config and
/// metrics, versions) and the weights. `predict` needs nothing but this file.
///
/// Layout (little-endian): "HPM1" | u64 header bytes | header JSON | u64 weight bytes |
/// LibTorch archive of the module | u64 FNV-1a hash of the weight bytes. The lengths and
/// the hash let a truncated or damaged file be reported as such instead of crashing.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hemapath/data/classification_dataset.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/normalization.h"
#include "hemapath/models/autoencoder.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/segmenter.h"

namespace hemapath {

/// What a classification model file says about its model.
struct ClassifierHeader {
  std::string arch;
  ClassifierOptions options;
  std::vector<std::string> classes;
  CropOptions crop;                 ///< how cells are cut out and sized (crop.size = input side, px)
  Normalization normalization;
  nlohmann::json training = nlohmann::json::object();  ///< resolved training config, epoch, seed
  nlohmann::json metrics = nlohmann::json::object();   ///< validation figures at save time

  nlohmann::json to_json() const;
  /// How to prepare images for this model at inference (its crop and normalisation, no augmentation).
  ClassificationDataOptions inference_data_options() const;
  /// Throws ModelFileError naming `source` when a field is missing or malformed.
  static ClassifierHeader from_json(const nlohmann::json& header, const std::string& source);
};

/// The fields every model file's header starts with (format, versions, `task`).
nlohmann::json model_header_base(const std::string& task);

/// How weights are stored, for models bundled in the repository. float16 halves the file;
/// int8 quarters it: each convolution and linear weight as 8-bit integers with one scale per
/// output channel (its largest magnitude / 127), every other floating tensor as float16. Both
/// are widened to float32 on load. float16 changes outputs by about 1e-3 relative, int8 by
/// about 1e-2: check a model's figures after converting it.
enum class WeightPrecision { float32, float16, int8 };

/// "float32", "float16", "int8".
const std::vector<std::string>& weight_precision_names();
/// The precision of that name; ConfigError naming `option` and listing the names otherwise.
WeightPrecision weight_precision(const std::string& name, const std::string& option = "--precision");

/// Writes header + weights atomically to `path`; a float16 file says so in its header
/// ("weights_precision": "float16").
void save_model_file(const std::string& path, nlohmann::json header, torch::nn::Module& module,
                     WeightPrecision precision = WeightPrecision::float32);

/// Writes a copy of the model file `from` to `to` with `header` instead of its own, the weights
/// copied byte for byte (re-encoding float16 or int8 weights could move them). For adding
/// figures to a header; InputError when `to` is `from`.
void copy_model_file_with_header(const std::string& from, const std::string& to, const nlohmann::json& header);

/// Reads only the header. ModelFileError when the file is missing, not a hemapath model,
/// truncated or damaged.
nlohmann::json read_model_header(const std::string& path);

/// A classifier ready for inference.
struct LoadedClassifier {
  ClassifierHeader header;
  ClassifierPtr model;  ///< in eval mode, on the requested device
};

/// Loads a classification model. ModelFileError when the file is of another task, names an
/// unknown architecture, or its weights do not match the architecture.
LoadedClassifier load_classifier(const std::string& path, const c10::Device& device);

/// What an autoencoder model file (task "autoencoder", from `hemapath pretrain`) says.
struct AutoencoderHeader {
  AutoencoderOptions options;       ///< options.input_size == crop.size
  CropOptions crop;
  Normalization normalization;
  nlohmann::json training = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();

  nlohmann::json to_json() const;
  /// Throws ModelFileError naming `source` when it is of another task or a field is malformed.
  static AutoencoderHeader from_json(const nlohmann::json& header, const std::string& source);
};

struct LoadedAutoencoder {
  AutoencoderHeader header;
  Autoencoder model{nullptr};  ///< in eval mode, on the requested device
};

/// Loads an autoencoder model file. ModelFileError as load_classifier.
LoadedAutoencoder load_autoencoder(const std::string& path, const c10::Device& device);

/// What a segmentation model file (task "segmentation") says about its network.
struct SegmenterHeader {
  std::string arch;
  SegmenterOptions options;          ///< options.num_classes = output channels (1 for binary)
  std::vector<std::string> classes;  ///< class names in index order, background first (>= 2)
  /// What the classes are: "classes" (from index masks), "foreground" (background / cell) or
  /// "boundary" (background / cell interior / cell boundary, from instance masks).
  std::string target = "classes";
  double scale = 1;                  ///< images are resized by this factor before the network
  int64_t output_stride = 1;         ///< inputs are padded to multiples of this
  Normalization normalization;
  /// How `predict` turns the class map into cells (the training config's `instances`).
  nlohmann::json instances = nlohmann::json::object();
  nlohmann::json training = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();

  bool binary() const { return options.num_classes == 1; }
  nlohmann::json to_json() const;
  /// ModelFileError naming `source` when of another task or a field is missing or malformed.
  static SegmenterHeader from_json(const nlohmann::json& header, const std::string& source);
};

struct LoadedSegmenter {
  SegmenterHeader header;
  SegmenterPtr model;  ///< in eval mode, on the requested device
};

/// Loads a segmentation model file. ModelFileError as load_classifier.
LoadedSegmenter load_segmenter(const std::string& path, const c10::Device& device);

}  // namespace hemapath
