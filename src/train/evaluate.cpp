#include "hemapath/train/evaluate.h"

#include <chrono>

#include "hemapath/core/error.h"
#include "hemapath/core/progress.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/infer/symmetry_averaging.h"

namespace hemapath {

PredictionResult predict_dataset(const TensorFunction& network, const ClassificationDataset& data,
                                 const std::vector<size_t>& indices, int batch_size, int workers) {
  HP_CHECK(!indices.empty(), InputError, "nothing to predict: the image set is empty");
  auto start = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> probabilities;
  PredictionResult result;
  {
    torch::InferenceMode guard;
    BatchLoader loader(data, indices, batch_size, /*augment=*/false, /*seed=*/0, /*epoch=*/0, workers);
    while (auto batch = loader.next()) {
      torch::Tensor p = torch::softmax(network(batch->images), 1).to(torch::kCPU, torch::kFloat);
      probabilities.push_back(p);
      auto labels = batch->labels.accessor<int64_t, 1>();
      for (int64_t i = 0; i < labels.size(0); ++i) result.labels.push_back(static_cast<int>(labels[i]));
    }
  }
  result = with_probabilities(std::move(result), torch::cat(probabilities, 0));
  result.seconds = seconds_since(start);
  result.images_per_second = result.seconds > 0 ? indices.size() / result.seconds : 0;
  return result;
}

PredictionResult predict_dataset(ClassifierImpl& model, const ClassificationDataset& data,
                                 const std::vector<size_t>& indices, int batch_size, const c10::Device& device,
                                 int workers, int symmetries) {
  const TensorFunction network =
      symmetry_averaged([&](const torch::Tensor& x) { return model.forward(x.to(device)); }, symmetries);
  const bool was_training = model.is_training();
  model.eval();
  PredictionResult result = predict_dataset(network, data, indices, batch_size, workers);
  if (was_training) model.train();
  return result;
}

PredictionResult with_probabilities(PredictionResult predictions, torch::Tensor probabilities) {
  predictions.probabilities = std::move(probabilities);
  const torch::Tensor argmax = predictions.probabilities.argmax(1).to(torch::kInt).contiguous();
  predictions.predicted.assign(argmax.data_ptr<int>(), argmax.data_ptr<int>() + argmax.numel());
  return predictions;
}

EvalResult score_predictions(PredictionResult predictions, const std::vector<std::string>& class_names) {
  EvalResult out;
  out.predictions = std::move(predictions);
  ConfusionMatrix confusion(static_cast<int>(class_names.size()));
  for (size_t i = 0; i < out.predictions.labels.size(); ++i)
    confusion.add(out.predictions.labels[i], out.predictions.predicted[i]);
  out.report = classification_report(confusion, class_names);
  torch::Tensor labels = torch::tensor(std::vector<int64_t>(out.predictions.labels.begin(), out.predictions.labels.end()));
  out.loss = torch::nll_loss(torch::log(out.predictions.probabilities.clamp_min(1e-12)), labels).item<double>();
  return out;
}

EvalResult evaluate_dataset(ClassifierImpl& model, const ClassificationDataset& data,
                            const std::vector<size_t>& indices, const std::vector<std::string>& class_names,
                            int batch_size, const c10::Device& device, int workers) {
  return score_predictions(predict_dataset(model, data, indices, batch_size, device, workers), class_names);
}

}  // namespace hemapath
