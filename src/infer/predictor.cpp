#include "hemapath/infer/predictor.h"

#include <algorithm>
#include <filesystem>

#include "hemapath/core/error.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/data/split.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/infer/symmetry_averaging.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
std::vector<std::string> images_in_csv(const std::string& csv_path) {
  std::vector<CsvRow> rows = read_csv(csv_path);
  HP_CHECK(!rows.empty(), InputError, "CSV list '", csv_path, "' is empty: expected a header with an 'image' column");
  auto column = std::find(rows[0].begin(), rows[0].end(), "image");
  HP_CHECK(column != rows[0].end(), InputError, "CSV list '", csv_path, "' has no 'image' column in its header");
  const size_t c = column - rows[0].begin();
  const fs::path base = fs::path(csv_path).parent_path();
  std::vector<std::string> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    HP_CHECK(c < rows[r].size() && !rows[r][c].empty(), InputError, "CSV list '", csv_path, "' line ", r + 1,
             ": the image field is empty");
    fs::path p(rows[r][c]);
    out.push_back((p.is_absolute() ? p : base / p).string());
  }
  return out;
}
}  // namespace

std::vector<Sample> collect_prediction_inputs(const std::vector<std::string>& inputs, const std::string& masks_dir) {
  HP_CHECK(!inputs.empty(), InputError, "no input images given");
  HP_CHECK(masks_dir.empty() || fs::is_directory(masks_dir), InputError, "--masks '", masks_dir,
           "' is not a folder");
  std::vector<std::string> images;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(input))
        if (entry.is_regular_file() && has_image_extension(entry.path().string())) found.push_back(entry.path().string());
      HP_CHECK(!found.empty(), InputError, "folder '", input, "' holds no images (.png .jpg .jpeg .tif .tiff .bmp)");
      std::sort(found.begin(), found.end());
      images.insert(images.end(), found.begin(), found.end());
    } else if (fs::path(input).extension() == ".csv") {
      auto listed = images_in_csv(input);
      images.insert(images.end(), listed.begin(), listed.end());
    } else {
      HP_CHECK(fs::exists(input), InputError, "input '", input, "' does not exist");
      HP_CHECK(has_image_extension(input), InputError, "input '", input,
               "' is not an image, a folder or a .csv list: expected .png .jpg .jpeg .tif .tiff .bmp");
      images.push_back(input);
    }
  }
  std::vector<Sample> samples;
  for (const auto& image : images) {
    HP_CHECK(fs::is_regular_file(image), InputError, "image '", image, "' does not exist");
    Sample s;
    s.image_path = image;
    if (!masks_dir.empty()) {
      fs::path mask = fs::path(masks_dir) / (fs::path(image).stem().string() + ".png");
      HP_CHECK(fs::is_regular_file(mask), InputError, "mask '", mask.string(), "' for image '", image,
               "' does not exist");
      s.mask_path = mask.string();
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

ClassifierPredictor::ClassifierPredictor(const std::string& model_path, PredictorOptions options)
    : loaded_(load_classifier(model_path, options.inference.device)),
      options_(options),
      engine_(
          loaded_.model, [model = loaded_.model](const torch::Tensor& x) { return model->forward(x); },
          options.inference),
      network_(symmetry_averaged(engine_.function(), options.symmetries)) {}

PredictionResult ClassifierPredictor::predict(const std::vector<Sample>& samples) const {
  ClassificationDataset dataset(samples, loaded_.header.inference_data_options());
  return predict_dataset(network_, dataset, all_indices(samples.size()), options_.batch_size, options_.workers);
}

torch::Tensor ClassifierPredictor::classify(const std::vector<cv::Mat>& crops) const {
  const ClassifierHeader& h = loaded_.header;
  std::vector<torch::Tensor> probabilities;
  torch::InferenceMode guard;
  for (size_t start = 0; start < crops.size(); start += options_.batch_size) {
    const size_t end = std::min(crops.size(), start + static_cast<size_t>(options_.batch_size));
    std::vector<torch::Tensor> batch;
    for (size_t i = start; i < end; ++i) batch.push_back(image_to_tensor(fit_to_size(crops[i], h.crop), h.normalization));
    probabilities.push_back(torch::softmax(network_(torch::stack(batch)), 1).to(torch::kCPU, torch::kFloat));
  }
  if (probabilities.empty()) return torch::zeros({0, static_cast<int64_t>(h.classes.size())});
  return torch::cat(probabilities, 0);
}

void write_predictions_csv(const std::string& path, const std::vector<Sample>& samples,
                           const PredictionResult& result, const std::vector<std::string>& classes) {
  CsvRow header{"image", "mask", "predicted", "probability"};
  for (const auto& c : classes) header.push_back("p_" + c);
  CsvWriter csv(header);
  auto probs = result.probabilities.accessor<float, 2>();
  for (size_t i = 0; i < samples.size(); ++i) {
    const int k = result.predicted[i];
    CsvRow row{samples[i].image_path, samples[i].mask_path, classes[k], format_number(probs[i][k], 5)};
    for (size_t c = 0; c < classes.size(); ++c) row.push_back(format_number(probs[i][c], 5));
    csv.add_row(row);
  }
  csv.write(path);
}

}  // namespace hemapath
