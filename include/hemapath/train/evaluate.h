#pragma once
/// Batched inference of a classifier over a dataset, and its evaluation against labels.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hemapath/core/tensor_function.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/models/classifier.h"
#include "hemapath/train/metrics.h"

namespace hemapath {

struct PredictionResult {
  torch::Tensor probabilities;  ///< [N, C] float on CPU, softmax of the logits
  std::vector<int> predicted;   ///< argmax class per sample
  std::vector<int> labels;      ///< the dataset's labels of the same samples
  double seconds = 0;           ///< wall time of the whole pass, decoding included
  double images_per_second = 0;
};

/// `predictions` with new `probabilities` [N, C] (e.g. prior-corrected ones) and each
/// sample's predicted class recomputed from them.
PredictionResult with_probabilities(PredictionResult predictions, torch::Tensor probabilities);

/// Runs `network` (logits of a batch, on any device) in inference mode over `indices` of
/// `data`, batches prepared by `workers` background threads while the network computes.
PredictionResult predict_dataset(const TensorFunction& network, const ClassificationDataset& data,
                                 const std::vector<size_t>& indices, int batch_size, int workers);

/// predict_dataset with `model` in eval mode on `device` (its mode is restored after), its
/// logits averaged over `symmetries` views of each image (symmetry_averaging.h).
PredictionResult predict_dataset(ClassifierImpl& model, const ClassificationDataset& data,
                                 const std::vector<size_t>& indices, int batch_size, const c10::Device& device,
                                 int workers, int symmetries = 1);

struct EvalResult {
  PredictionResult predictions;
  ClassificationReport report;
  double loss = 0;  ///< mean cross-entropy of the true class
};

/// Scores predictions against their labels.
EvalResult score_predictions(PredictionResult predictions, const std::vector<std::string>& class_names);

/// Predicts and scores against the labels. InputError when `indices` is empty.
EvalResult evaluate_dataset(ClassifierImpl& model, const ClassificationDataset& data,
                            const std::vector<size_t>& indices, const std::vector<std::string>& class_names,
                            int batch_size, const c10::Device& device, int workers);

}  // namespace hemapath
