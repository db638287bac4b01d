#pragma once
/// Active learning on a lab's own unlabelled cell images, cycle after cycle, with all state in
/// one project folder:
///   project.json        pool folder, class names, rounds so far, the current model
///   labelled.csv        image,label: the labels a person has given (image names relative to the pool)
///   round-NNN/query.csv         rank, image, score, predicted class and its probability
///   round-NNN/to_label.csv      image,label with the label empty: fill it in, then `al import` it
///   round-NNN/contact_sheet.png the queried crops, most wanted first
///   models/round-NNN/           the run folder `al train` writes (best.hpm becomes the model)
/// A cycle: `al query` -> a person labels to_label.csv -> `al import` -> `al train`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "hemapath/train/trainer.h"

namespace hemapath {

struct QueryOptions {
  std::string project;    ///< created on the first query
  std::string pool;       ///< folder of unlabelled images; required on the first query, then remembered
  std::string model;      ///< a classifier .hpm; empty: the project's current model
  size_t k = 0;
  std::string strategy = "entropy";
  size_t subset = 0;      ///< score a random subset of this many unlabelled images (0: all)
  int mc_passes = 10;
  int batch_size = 64;
  int workers = 2;
  uint64_t seed = 1;
  c10::Device device = c10::kCPU;
};

struct QueryItem {
  std::string image;  ///< relative to the pool
  double score = 0;   ///< the strategy's score (NaN for random and coreset)
  std::string predicted;
  double probability = 0;
};

struct QueryResult {
  int round = 0;
  std::string folder;  ///< round-NNN
  std::vector<QueryItem> items;
  size_t unlabelled = 0;  ///< pool images neither labelled nor asked before
};

/// Picks the k unlabelled pool images to label next and writes round-NNN. Images already
/// labelled or asked in an earlier round are not asked again. InputError when k is 0 or larger
/// than the unlabelled images left, the pool is empty or differs from the project's, or there is
/// no model; ConfigError when the strategy needs what the model lacks. Nothing is written then.
QueryResult query_labels(const QueryOptions& options);

struct ImportResult {
  size_t added = 0, changed = 0, unchanged = 0;
  size_t blank = 0;  ///< rows whose label was left empty (skipped)
  size_t labelled = 0;  ///< labelled images in the project afterwards
};

/// Adds the `image,label` rows of `labels_csv` to the project's labelled set (a relabelled image
/// takes the new label). InputError naming the file, rows and values when an image is not in the
/// pool, a class is not one of the project's, or one image gets two labels; nothing is written then.
ImportResult import_labels(const std::string& project, const std::string& labels_csv);

/// Trains a classifier on the project's labelled images with the training config `config_file`
/// (its data section names no images: the project supplies them) into models/round-NNN and makes
/// its best model the project's current one.
TrainResult train_project_model(const std::string& project, const std::string& config_file,
                                const std::vector<std::string>& overrides, const c10::Device& device);

}  // namespace hemapath
