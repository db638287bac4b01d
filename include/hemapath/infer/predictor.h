#pragma once
/// Classification of images with a model file: inputs gathered from files, folders or CSV
/// lists, cells cut out with the model's own crop settings, probabilities per class.
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/data/sample.h"
#include "hemapath/infer/inference_engine.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/evaluate.h"

namespace hemapath {

/// Expands inputs into samples: an image file, a folder (its image files, sorted), or a CSV
/// with an `image` column (paths relative to the CSV's folder). With `masks_dir`, each
/// image's `<stem>.png` mask there is used to cut the cell out. InputError naming the
/// input when it is missing, of an unknown kind, or yields no images, or a mask is missing.
std::vector<Sample> collect_prediction_inputs(const std::vector<std::string>& inputs, const std::string& masks_dir);

struct PredictorOptions {
  InferenceOptions inference;  ///< device and plan of the inference engine
  int batch_size = 32;
  int workers = 2;
  /// Flipped or turned views of each crop whose logits are averaged: 1, 2, 4, 8 or 16
  /// (symmetry_averaging.h). Each view costs one more forward pass.
  int symmetries = 1;
};

class ClassifierPredictor {
 public:
  /// Loads the model file (ModelFileError when unusable).
  ClassifierPredictor(const std::string& model_path, PredictorOptions options);
  const ClassifierHeader& header() const { return loaded_.header; }
  /// Probabilities for each sample (labels are ignored).
  PredictionResult predict(const std::vector<Sample>& samples) const;
  /// Probabilities [N, C] (CPU float) of cells already cut out of their images (CV_8UC3 RGB
  /// crops), each brought to the model's input size by its crop rule (fit_to_size) and
  /// normalised as in training; in batches of options.batch_size. [0, C] for no crop.
  torch::Tensor classify(const std::vector<cv::Mat>& crops) const;

 private:
  LoadedClassifier loaded_;
  PredictorOptions options_;
  InferenceEngine engine_;
  TensorFunction network_;  ///< engine_ averaged over options_.symmetries views
};

/// Writes one row per sample: image, mask, predicted class, its probability, then the
/// probability of every class (columns `p_<class>`). Atomic.
void write_predictions_csv(const std::string& path, const std::vector<Sample>& samples,
                           const PredictionResult& result, const std::vector<std::string>& classes);

}  // namespace hemapath
