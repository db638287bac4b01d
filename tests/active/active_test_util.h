#pragma once
// A tiny, learnable cell-crop set for active-learning tests: three classes of 32 px crops that
// differ in the colour and size of a disc on a light background, with seeded noise.
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace hemapath::test {

inline const std::vector<std::string>& colour_classes() {
  static const std::vector<std::string> names = {"red", "blue", "green"};
  return names;
}

/// Writes `per_class` crops per class into dir/images (named <class>_<i>.png) and returns their
/// names with labels, in that order.
inline std::vector<std::pair<std::string, std::string>> write_colour_pool(const std::filesystem::path& dir,
                                                                          int per_class) {
  std::filesystem::create_directories(dir / "images");
  cv::RNG rng(12345);
  const cv::Scalar colours[] = {{60, 60, 200}, {200, 80, 60}, {70, 180, 70}};  // BGR
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < per_class; ++i) {
    for (size_t c = 0; c < colour_classes().size(); ++c) {
      cv::Mat image(32, 32, CV_8UC3, cv::Scalar(225, 225, 225));
      const cv::Point centre(16 + rng.uniform(-4, 5), 16 + rng.uniform(-4, 5));
      cv::circle(image, centre, 6 + static_cast<int>(c) * 2 + rng.uniform(0, 3), colours[c], cv::FILLED);
      cv::Mat noise(image.size(), CV_8UC3);
      rng.fill(noise, cv::RNG::UNIFORM, 0, 30);
      image = image - noise / 2 + noise / 4;
      const std::string name = colour_classes()[c] + "_" + std::to_string(i) + ".png";
      cv::imwrite((dir / "images" / name).string(), image);
      items.push_back({name, colour_classes()[c]});
    }
  }
  return items;
}

/// labels.csv for `items` (image names relative to dir/images) in `dir`; returns its path.
inline std::string write_colour_labels(const std::filesystem::path& dir,
                                       const std::vector<std::pair<std::string, std::string>>& items) {
  std::string csv = "image,label\n";
  for (const auto& [image, label] : items) csv += image + "," + label + "\n";
  write_file((dir / "labels.csv").string(), csv);
  return (dir / "labels.csv").string();
}

/// The settings of a fast ResNet-18 run on the colour crops (no `data.labels`: callers add it).
inline std::string colour_training_yaml(int epochs) {
  return "seed: 3\n"
         "data:\n"
         "  crop: {size: 32, mode: resize, margin: 0}\n"
         "  workers: 1\n"
         "model: {arch: resnet18, dropout: 0.2, extra: {attention: cbam, loss_net_width: 8}}\n"
         "normalization: {mode: standardize}\n"
         "augment: {hflip: true, vflip: true}\n"
         "train: {epochs: " + std::to_string(epochs) + ", batch_size: 8, optimizer: {name: adam, lr: 0.002},\n"
         "        schedule: {name: constant}}\n";
}

}  // namespace hemapath::test
