#include "hemapath/io/geojson.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/json_number.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

// A closed ring, positive shoelace sum on the coordinates as written (see the header).
nlohmann::json ring_of(const std::vector<cv::Point>& contour) {
  std::vector<cv::Point2d> pts;
  if (std::abs(cv::contourArea(contour)) < 0.5) {
    // One pixel or a one-pixel line: the polygon through pixel centres has no area, so the
    // rectangle around the pixels stands in for it (boundingRect of integer points spans
    // them: width = max x - min x + 1).
    const cv::Rect box = cv::boundingRect(contour);
    pts = {{double(box.x), double(box.y)},
           {double(box.x), double(box.y + box.height)},
           {double(box.x + box.width), double(box.y + box.height)},
           {double(box.x + box.width), double(box.y)}};
  } else {
    for (const auto& p : contour) pts.emplace_back(p.x + 0.5, p.y + 0.5);
  }
  double twice_area = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    const auto& a = pts[i];
    const auto& b = pts[(i + 1) % pts.size()];
    twice_area += a.x * b.y - b.x * a.y;
  }
  if (twice_area < 0) std::reverse(pts.begin(), pts.end());
  nlohmann::json ring = nlohmann::json::array();
  for (const auto& p : pts) ring.push_back({p.x, p.y});
  ring.push_back(ring.front());
  return ring;
}

}  // namespace

double ring_shoelace(const nlohmann::json& ring) {
  double sum = 0;
  for (size_t i = 0; i + 1 < ring.size(); ++i)
    sum += ring[i][0].get<double>() * ring[i + 1][1].get<double>() -
           ring[i + 1][0].get<double>() * ring[i][1].get<double>();
  return sum;  // a closed ring's last edge returns to the first point, so it is included
}

nlohmann::json instances_geojson(const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                                 const ClassLegend& legend, const GeoJsonOptions& options) {
  HP_CHECK(options.object_type == "detection" || options.object_type == "annotation", InputError,
           "GeoJSON objectType '", options.object_type, "' is not 'detection' or 'annotation'");
  for (const auto& r : records) legend.name(r.class_index);
  const auto outlines = instance_outlines(labels);
  nlohmann::json features = nlohmann::json::array();
  for (const auto& r : records) {
    const auto it = outlines.find(r.id);
    HP_CHECK(it != outlines.end() && !it->second.empty(), InputError, "instance ", r.id,
             " is not in the instance map: cannot draw its outline");
    nlohmann::json polygons = nlohmann::json::array();
    for (const auto& contour : it->second) polygons.push_back(nlohmann::json::array({ring_of(contour)}));
    nlohmann::json geometry = polygons.size() == 1
                                  ? nlohmann::json{{"type", "Polygon"}, {"coordinates", polygons[0]}}
                                  : nlohmann::json{{"type", "MultiPolygon"}, {"coordinates", polygons}};
    const auto colour = legend.colour(r.class_index);
    nlohmann::json measurements = nlohmann::json::object();
    for (const auto& [name, v] : r.values) measurements[name] = number_or_null(v);
    nlohmann::json properties = {
        {"objectType", options.object_type},
        {"id", r.id},
        {"classification", {{"name", legend.name(r.class_index)}, {"color", {colour[0], colour[1], colour[2]}}}},
        {"measurements", measurements}};
    for (const auto& [name, v] : measurements.items())
      if (!properties.contains(name)) properties[name] = v;
    features.push_back({{"type", "Feature"}, {"geometry", geometry}, {"properties", properties}});
  }
  return {{"type", "FeatureCollection"}, {"features", features}};
}

void write_instances_geojson(const std::string& path, const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                             const ClassLegend& legend, const GeoJsonOptions& options) {
  write_text_atomic(path, instances_geojson(labels, records, legend, options).dump() + "\n");
}

void write_cell_files(const std::string& dir, const cv::Mat& rgb, const cv::Mat& labels,
                      const std::vector<InstanceRecord>& records, const ClassLegend& legend,
                      const GeoJsonOptions& options) {
  const std::filesystem::path out(dir);
  // Built first: a bad record or legend fails before anything is written.
  const nlohmann::json collection = instances_geojson(labels, records, legend, options);
  cv::Mat overlay;
  if (!rgb.empty()) overlay = render_instance_overlay(rgb, labels, records, legend);
  std::filesystem::create_directories(out);
  write_instance_mask((out / "instances.png").string(), labels);
  if (!overlay.empty()) write_image((out / "overlay.png").string(), overlay);
  write_instance_csv((out / "cells.csv").string(), records, legend);
  write_text_atomic(out / "cells.geojson", collection.dump() + "\n");
}

}  // namespace hemapath
