#include "hemapath/io/instance_outputs.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/plot.h"

namespace hemapath {

std::array<uint8_t, 3> ClassLegend::colour(int class_index) const {
  if (class_index < 0) return {255, 200, 0};
  return plot_colour(static_cast<size_t>(class_index));
}

const std::string& ClassLegend::name(int class_index) const {
  if (class_index < 0) return unclassified;
  HP_CHECK(class_index < static_cast<int>(names.size()), InputError, "instance class index ", class_index,
           " is outside the ", names.size(), " class names given");
  return names[class_index];
}

cv::Mat instance_map_32s(const cv::Mat& labels, const std::string& what) {
  HP_CHECK(labels.channels() == 1, InputError, what, " has ", labels.channels(),
           " channels: expected one instance id per pixel");
  HP_CHECK(labels.depth() == CV_8U || labels.depth() == CV_16U || labels.depth() == CV_32S, InputError, what,
           " must hold integer ids (CV_8U, CV_16U or CV_32S)");
  cv::Mat out;
  labels.convertTo(out, CV_32S);
  if (!out.empty()) {
    double lo = 0;
    cv::minMaxLoc(out, &lo);
    HP_CHECK(lo >= 0, InputError, what, " has a negative id ", lo, ": expected 0 (background) or positive ids");
  }
  return out;
}

std::map<int, cv::Rect> instance_boxes(const cv::Mat& labels) {
  const cv::Mat l = instance_map_32s(labels);
  std::map<int, cv::Vec4i> ext;  // min x, min y, max x, max y
  for (int y = 0; y < l.rows; ++y) {
    const int* row = l.ptr<int>(y);
    for (int x = 0; x < l.cols; ++x) {
      if (!row[x]) continue;
      auto [it, fresh] = ext.try_emplace(row[x], cv::Vec4i(x, y, x, y));
      if (fresh) continue;
      cv::Vec4i& e = it->second;
      e[0] = std::min(e[0], x), e[1] = std::min(e[1], y), e[2] = std::max(e[2], x), e[3] = std::max(e[3], y);
    }
  }
  std::map<int, cv::Rect> boxes;
  for (const auto& [id, e] : ext) boxes[id] = cv::Rect(e[0], e[1], e[2] - e[0] + 1, e[3] - e[1] + 1);
  return boxes;
}

std::map<int, std::vector<std::vector<cv::Point>>> instance_outlines(const cv::Mat& labels) {
  const cv::Mat l = instance_map_32s(labels);
  std::map<int, std::vector<std::vector<cv::Point>>> outlines;
  for (const auto& [id, box] : instance_boxes(l)) {
    cv::Mat mask = l(box) == id;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE, box.tl());
    std::stable_sort(contours.begin(), contours.end(), [](const auto& a, const auto& b) {
      return std::abs(cv::contourArea(a)) > std::abs(cv::contourArea(b)) ||
             (std::abs(cv::contourArea(a)) == std::abs(cv::contourArea(b)) && a.size() > b.size());
    });
    outlines[id] = std::move(contours);
  }
  return outlines;
}

void write_index_mask(const std::string& path, const cv::Mat& index_map) {
  HP_CHECK(!index_map.empty(), InputError, "cannot write index mask '", path, "': the map is empty");
  const cv::Mat m = instance_map_32s(index_map, "index mask '" + path + "'");
  double hi = 0;
  cv::minMaxLoc(m, nullptr, &hi);
  HP_CHECK(hi <= 255, InputError, "index mask '", path, "' has class ", hi, ": an 8-bit PNG holds 0..255");
  cv::Mat out;
  m.convertTo(out, CV_8U);
  write_image(path, out);
}

void write_instance_mask(const std::string& path, const cv::Mat& labels) {
  HP_CHECK(!labels.empty(), InputError, "cannot write instance mask '", path, "': the map is empty");
  const cv::Mat m = instance_map_32s(labels, "instance mask '" + path + "'");
  double hi = 0;
  cv::minMaxLoc(m, nullptr, &hi);
  HP_CHECK(hi <= 65535, InputError, "instance mask '", path, "' has id ", hi,
           ": a 16-bit PNG holds ids up to 65535 (split the image into tiles)");
  cv::Mat out;
  m.convertTo(out, CV_16U);
  write_image(path, out);
}

void draw_legend(cv::Mat& canvas, const ClassLegend& legend) {
  if (legend.names.empty() || canvas.cols < 8 || canvas.rows < 8) return;
  // Legend: a white box with a swatch and the name of each class, scaled to the image.
  const double scale = std::clamp(std::max(canvas.cols, canvas.rows) / 1200.0, 0.35, 1.0);
  const int font = cv::FONT_HERSHEY_SIMPLEX, pad = std::max(3, static_cast<int>(8 * scale));
  int baseline = 0, text_w = 0, text_h = 0;
  for (const auto& n : legend.names) {
    const cv::Size s = cv::getTextSize(n, font, scale, 1, &baseline);
    text_w = std::max(text_w, s.width), text_h = std::max(text_h, s.height + baseline);
  }
  const int row_h = text_h + pad, swatch = text_h;
  const cv::Rect box(0, 0, std::min(canvas.cols, pad * 3 + swatch + text_w),
                     std::min(canvas.rows, pad + row_h * static_cast<int>(legend.names.size())));
  cv::Mat roi = canvas(box);
  roi.convertTo(roi, -1, 0.25, 191);  // a light box that still shows the cells beneath
  for (size_t i = 0; i < legend.names.size(); ++i) {
    const int y = pad + static_cast<int>(i) * row_h;
    const auto c = legend.colour(static_cast<int>(i));
    cv::rectangle(canvas, cv::Rect(pad, y, swatch, swatch), cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    cv::putText(canvas, legend.names[i], cv::Point(pad * 2 + swatch, y + text_h - baseline), font, scale,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
}

cv::Mat render_instance_overlay(const cv::Mat& rgb, const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                                const ClassLegend& legend) {
  HP_CHECK(rgb.type() == CV_8UC3, InputError, "overlay image must be 8-bit RGB (3 channels)");
  HP_CHECK(rgb.size() == labels.size(), InputError, "overlay image is ", rgb.cols, "x", rgb.rows,
           " px but the instance map is ", labels.cols, "x", labels.rows, " px: expected the same size");
  for (const auto& r : records) legend.name(r.class_index);  // checks every class before drawing
  const auto outlines = instance_outlines(labels);
  cv::Mat canvas = rgb.clone();
  const int thickness = std::max(rgb.cols, rgb.rows) >= 1000 ? 2 : 1;
  for (const auto& r : records) {
    const auto it = outlines.find(r.id);
    if (it == outlines.end()) continue;
    const auto c = legend.colour(r.class_index);
    cv::drawContours(canvas, it->second, -1, cv::Scalar(c[0], c[1], c[2]), thickness, cv::LINE_8);
  }
  draw_legend(canvas, legend);
  return canvas;
}

void write_instance_overlay(const std::string& path, const cv::Mat& rgb, const cv::Mat& labels,
                            const std::vector<InstanceRecord>& records, const ClassLegend& legend) {
  write_image(path, render_instance_overlay(rgb, labels, records, legend));
}

void write_instance_csv(const std::string& path, const std::vector<InstanceRecord>& records,
                        const ClassLegend& legend) {
  CsvRow header = {"id", "class", "class_index"};
  if (!records.empty())
    for (const auto& [name, v] : records.front().values) header.push_back(name);
  CsvWriter csv(header);
  for (const auto& r : records) {
    HP_CHECK(r.values.size() + 3 == header.size(), InputError, "instance ", r.id, " has ", r.values.size(),
             " values but the first instance has ", header.size() - 3, ": cannot write '", path, "'");
    CsvRow row = {std::to_string(r.id), legend.name(r.class_index), std::to_string(r.class_index)};
    for (size_t i = 0; i < r.values.size(); ++i) {
      HP_CHECK(r.values[i].first == header[i + 3], InputError, "instance ", r.id, " has column '", r.values[i].first,
               "' where the first instance has '", header[i + 3], "': cannot write '", path, "'");
      row.push_back(format_number(r.values[i].second, 8));
    }
    csv.add_row(row);
  }
  csv.write(path);
}

}  // namespace hemapath
