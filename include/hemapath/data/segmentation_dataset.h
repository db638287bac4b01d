#pragma once
/// Image + mask pairs for segmentation: index masks (a class per pixel) or 16-bit instance
/// masks (an id per cell) turned into class targets, random patches, and augmentation applied
/// identically to image and mask (nearest-neighbour for the mask).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/core/config.h"
#include "hemapath/image/augment.h"
#include "hemapath/image/normalization.h"
#include "hemapath/image/stain_normalization.h"

namespace hemapath {

/// Where the pairs live and what the network learns from each mask.
///   data: {images: DIR, masks: DIR, mask: index|instance, target: foreground|boundary,
///          classes: [background, cytoplasm, nucleus]}
struct SegmentationDataSpec {
  std::string images;              ///< folder of images
  std::string masks;               ///< folder of `<image stem>.png` masks
  std::string mask_kind = "index"; ///< "index": class ids; "instance": 0 background, 1..N one id per cell
  /// For instance masks: "foreground" (0 background, 1 cell) or "boundary" (0 background,
  /// 1 cell interior, 2 cell boundary: pixels next to another cell or the background), the
  /// target of a network that learns to keep touching cells apart.
  std::string target = "foreground";
  /// For instance masks annotated in part (e.g. cells marked by a point on some cells only):
  /// the id of pixels whose class nobody knows, such as a cell no one labelled. They become
  /// kUnlabelledTarget, which the loss and the validation figures skip. 0 = every pixel labelled.
  int unlabelled_id = 0;
  std::vector<std::string> classes;  ///< class names in index order, background first
  /// Optional folder of context patches for multi-resolution networks: for each image, a file
  /// of the same name and size centred on the same point at a coarser mpp (as `hemapath slide
  /// tile --context-mpp` writes them). Empty = none.
  std::string context;

  /// Relative paths from `base_dir`. ConfigError naming the key for wrong values; for index
  /// masks `classes` is required (at least 2), for instance masks it follows from `target`.
  static SegmentationDataSpec from_config(const ConfigNode& node, const std::string& base_dir);
  nlohmann::json to_json() const;
  static SegmentationDataSpec from_json(const nlohmann::json& j);
  int64_t num_classes() const { return static_cast<int64_t>(classes.size()); }
};

struct SegmentationPair {
  std::string image_path, mask_path;
  std::string context_path;  ///< empty unless the spec has a context folder
};

/// Every image in spec.images (sorted) that has a mask; images without one are skipped and
/// logged. InputError naming the folder when it is missing or no pair is left, and naming the
/// file when the spec has a context folder without an image's context patch.
std::vector<SegmentationPair> list_segmentation_pairs(const SegmentationDataSpec& spec);

/// The class targets (CV_8U) of a pair's mask, at the image's size. InputError naming the
/// files when the mask is missing or corrupt, of another size than `image_size`, or holds a
/// class outside 0..C-1.
cv::Mat load_segmentation_target(const SegmentationPair& pair, const SegmentationDataSpec& spec,
                                 const cv::Size& image_size);
/// The same from a mask already decoded (read_mask) from pair.mask_path.
cv::Mat segmentation_target(const cv::Mat& mask, const SegmentationPair& pair, const SegmentationDataSpec& spec,
                            const cv::Size& image_size);

/// Class target of pixels whose class is unknown (SegmentationDataSpec::unlabelled_id).
constexpr int kUnlabelledTarget = 255;

/// An instance mask (CV_16U or CV_8U ids) as class targets (CV_8U) per `target`; pixels of
/// `unlabelled_id` (when > 0) become kUnlabelledTarget, and cell pixels next to them boundary.
cv::Mat instance_targets(const cv::Mat& instances, const std::string& target, int unlabelled_id = 0);

/// `size` scaled by `scale`, rounded, at least 1 x 1: the size images are worked on at.
cv::Size scaled_size(const cv::Size& size, double scale);

struct SegmentationDataOptions {
  /// Resize factor applied to every image (area interpolation when shrinking) and mask
  /// (nearest neighbour) as they are loaded: the network works at this scale.
  double scale = 1;
  int patch = 256;          ///< side of the random training patches, px (images smaller are padded)
  AugmentOptions augment;
  Normalization normalization;
  /// Applied to every image (and context patch) as it is loaded, so the network learns one
  /// stain appearance (stain_normalization.h); empty = none.
  std::optional<StainNormalizer> stain;
};

/// Decodes every pair once (load), then serves normalised image tensors and int64 targets.
class SegmentationDataset {
 public:
  SegmentationDataset(std::vector<SegmentationPair> pairs, SegmentationDataSpec spec, SegmentationDataOptions options);
  /// Decodes (and rescales) all pairs on `threads` threads. InputError naming the files when an
  /// image or mask is missing or corrupt, their sizes differ, or a mask holds a class outside 0..C-1.
  void load(int threads);

  size_t size() const { return pairs_.size(); }
  int64_t num_classes() const { return spec_.num_classes(); }
  const SegmentationDataSpec& spec() const { return spec_; }
  const SegmentationPair& pair(size_t i) const { return pairs_.at(i); }
  const cv::Mat& image(size_t i) const { return images_.at(i); }    ///< CV_8UC3 RGB, at options().scale
  const cv::Mat& target(size_t i) const { return targets_.at(i); }  ///< CV_8U class indices, at options().scale
  bool has_context() const { return !spec_.context.empty(); }
  /// Input channels of a network for this data: 3, or 6 with context patches.
  int64_t input_channels() const { return has_context() ? 6 : 3; }
  const SegmentationDataOptions& options() const { return options_; }
  void set_normalization(const Normalization& normalization) { options_.normalization = normalization; }

  /// A training example: a patch x patch crop at a random position (padded when the image is
  /// smaller: image reflected, target 0), augmented, drawn from an Rng seeded by `seed`.
  /// Image [3,P,P] float, target [P,P] int64. With context patches the image is the whole
  /// tile (the patch size must equal it) and comes with its context, augmented alike:
  /// [6,P,P], fine channels first. Thread-safe.
  std::pair<torch::Tensor, torch::Tensor> patch(size_t i, uint64_t seed) const;
  /// The whole image [3,H,W] ([6,H,W] with its context) and target [H,W], unaugmented, for
  /// evaluation and prediction.
  std::pair<torch::Tensor, torch::Tensor> whole(size_t i) const;

 private:
  std::vector<SegmentationPair> pairs_;
  SegmentationDataSpec spec_;
  SegmentationDataOptions options_;
  std::vector<cv::Mat> images_, targets_, contexts_;
};

}  // namespace hemapath
