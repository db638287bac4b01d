#include "hemapath/io/slide_annotation.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"

namespace hemapath {

SlideAnnotation::SlideAnnotation(const std::string& path, const std::vector<std::string>& names, double slide_width,
                                 double slide_height)
    : slide_width_(slide_width), slide_height_(slide_height) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".geojson" || ext == ".json") {
    shapes_ = read_geojson_annotations(path);
    classes_ = names;
    if (classes_.empty()) {
      std::set<std::string> found;
      for (const auto& s : shapes_) found.insert(s.class_name);
      classes_.assign(found.begin(), found.end());
    }
    HP_CHECK(classes_.size() <= 255, InputError, "annotation '", path, "' has ", classes_.size(),
             " classes: at most 255 fit an 8-bit mask");
    for (size_t i = 0; i < classes_.size(); ++i) index_[classes_[i]] = static_cast<int>(i) + 1;
    return;
  }
  labels_ = read_mask(path);
  HP_CHECK(labels_.depth() == CV_8U, InputError, "annotation '", path,
           "' must be an 8-bit label image (class indices), got 16-bit");
  double max_value = 0;
  cv::minMaxLoc(labels_, nullptr, &max_value);
  classes_ = names;
  if (classes_.empty())
    for (int c = 1; c <= static_cast<int>(max_value); ++c) classes_.push_back("class" + std::to_string(c));
  HP_CHECK(max_value <= classes_.size(), InputError, "annotation '", path, "' holds class ", max_value, " but ",
           classes_.size(), " class names were given");
}

cv::Mat SlideAnnotation::region(double x0, double y0, double downsample, int width, int height) const {
  if (labels_.empty()) return rasterize_annotations(shapes_, index_, x0, y0, downsample, width, height);
  // Label-image px per level-0 px; each output px takes the label under its centre.
  const double sx = labels_.cols / slide_width_, sy = labels_.rows / slide_height_;
  std::vector<int> columns(width);
  for (int i = 0; i < width; ++i) columns[i] = static_cast<int>(std::floor((x0 + (i + 0.5) * downsample) * sx));
  cv::Mat out(height, width, CV_8U, cv::Scalar(0));
  for (int j = 0; j < height; ++j) {
    const int ly = static_cast<int>(std::floor((y0 + (j + 0.5) * downsample) * sy));
    if (ly < 0 || ly >= labels_.rows) continue;
    const uint8_t* in = labels_.ptr<uint8_t>(ly);
    uint8_t* row = out.ptr<uint8_t>(j);
    for (int i = 0; i < width; ++i)
      if (columns[i] >= 0 && columns[i] < labels_.cols) row[i] = in[columns[i]];
  }
  return out;
}

}  // namespace hemapath
