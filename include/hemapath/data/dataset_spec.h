#pragma once
/// Where a labelled image set lives and how it is read: a CSV label file (`image,label`)
/// or class folders, optional masks to cut cells out with, and the classes to keep.
#include <map>
#include <string>
#include <vector>

#include "hemapath/core/config.h"
#include "hemapath/data/sample.h"

namespace hemapath {

struct DatasetSpec {
  std::string labels_csv;      ///< `image,label` CSV; or
  std::string class_folders;   ///< root/<class>/<image>
  std::string images;          ///< folder the CSV's image paths are relative to (default: the CSV's folder)
  std::string masks;           ///< optional folder of `<image stem>.png` masks; cells are cropped from them
  std::vector<std::string> classes;  ///< classes to keep, in this order; empty: every label found, sorted

  /// Reads keys labels, class_folders, images, masks, classes; relative paths are taken
  /// from `base_dir` (the config file's folder). ConfigError when neither or both sources are given.
  static DatasetSpec from_config(const ConfigNode& node, const std::string& base_dir);
  /// A spec for a folder given on the command line: `labels.csv` inside it if present (with
  /// `images/` and `masks/` beside it when they exist), otherwise class folders.
  static DatasetSpec from_folder(const std::string& dir);
  /// The folder the label CSV's image names are relative to.
  std::string csv_image_root() const;
  nlohmann::json to_json() const;
  static DatasetSpec from_json(const nlohmann::json& j);
};

/// Labelled samples with their class names and what was skipped.
struct LabeledSamples {
  std::vector<Sample> samples;
  std::vector<std::string> class_names;
  std::map<std::string, int> skipped;  ///< reason -> rows
  std::vector<int> labels() const;
};

/// Reads the samples a spec describes. Rows of classes outside `spec.classes` and rows
/// whose mask is missing are skipped and counted. InputError when a listed class has no
/// images, or nothing is left.
LabeledSamples load_samples(const DatasetSpec& spec);

/// As load_samples, but keeps only (and orders by) `classes`; a label outside them is an
/// InputError naming it (evaluating a model on classes it does not know is a mistake).
LabeledSamples load_samples_for_classes(DatasetSpec spec, const std::vector<std::string>& classes);

/// Every image file in `images_dir` (sorted by path, unlabelled: label -1) for self-supervised
/// training, each with its `<image stem>.png` mask from `masks_dir` when that is given (images
/// without one are skipped and counted). InputError naming the folder when it is missing or
/// no image is left.
LabeledSamples load_unlabelled_images(const std::string& images_dir, const std::string& masks_dir);

}  // namespace hemapath
