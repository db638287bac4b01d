#pragma once
/// Which labelled images a model is evaluated on: a part of the split a training config
/// defines (recomputed exactly, so the test part is the one training never saw), or every
/// image of a data folder.
#include <string>
#include <vector>

#include "hemapath/data/dataset_spec.h"
#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/models/model_file.h"

namespace hemapath {

struct EvalSetRequest {
  std::string config;    ///< training config file; or
  std::string data_dir;  ///< a folder (labels.csv with images/ [and masks/], or class folders); or neither:
                         ///< the training config stored in the model file
  std::string split = "test";  ///< train, val, test or all
  std::vector<std::string> overrides;  ///< "key=value" applied to `config`
};

struct EvalSet {
  LabeledSamples data;          ///< classes in the model's order
  std::vector<size_t> indices;  ///< the samples to evaluate
  std::string description;      ///< e.g. "test split of configs/wbc.yaml (52 images)"
};

/// InputError when the data's classes differ from the model's, the split name is unknown or
/// the chosen part is empty.
EvalSet resolve_eval_set(const ClassifierHeader& model, const EvalSetRequest& request);

/// The image + mask pairs a segmentation model is evaluated on.
struct SegmentationEvalSet {
  SegmentationDataSpec spec;  ///< how masks are read (mask kind, target, classes)
  std::vector<SegmentationPair> pairs;
  std::string description;
};

/// As resolve_eval_set: a part of a segmentation config's split, of the config stored in the
/// model, or every pair of a folder holding images/ and masks/ (read as the model's training
/// data was). InputError when the split name is unknown, the chosen part is empty, the classes
/// differ from the model's, or a folder has no pairs.
SegmentationEvalSet resolve_segmentation_eval_set(const SegmenterHeader& model, const EvalSetRequest& request);

}  // namespace hemapath
