#include "hemapath/infer/slide_outputs.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/infer/cell_measurements.h"
#include "hemapath/io/geojson.h"

namespace hemapath {
namespace {

// Raster row sampled for map row t of n over `extent` rows (the nearest, at the centre).
int source_index(int t, int n, int extent) {
  return std::min(extent - 1, static_cast<int>((t + 0.5) * extent / n));
}

void sample_rows(const cv::Mat& strip, int y0, int raster_height, cv::Mat& map) {
  const int width = strip.cols;
  std::vector<int> cols(map.cols);
  for (int s = 0; s < map.cols; ++s) cols[s] = source_index(s, map.cols, width);
  for (int t = 0; t < map.rows; ++t) {
    const int y = source_index(t, map.rows, raster_height);
    if (y < y0 || y >= y0 + strip.rows) continue;
    const uint8_t* in = strip.ptr<uint8_t>(y - y0);
    uint8_t* out = map.ptr<uint8_t>(t);
    for (int s = 0; s < map.cols; ++s) out[s] = in[cols[s]];
  }
}

// A closed ring of contour points in level-0 px (pixel centres), oriented so its shoelace
// sum has the sign asked for.
nlohmann::json ring(const std::vector<cv::Point>& contour, double scale, bool positive) {
  std::vector<cv::Point> points = contour;
  if (points.size() < 3) {  // a one-pixel line or dot: its pixels' box
    const cv::Rect box = cv::boundingRect(contour);
    points = {box.tl(), {box.x + box.width - 1, box.y}, {box.x + box.width - 1, box.y + box.height - 1},
              {box.x, box.y + box.height - 1}};
  }
  nlohmann::json r = nlohmann::json::array();
  for (const auto& p : points) r.push_back({(p.x + 0.5) * scale, (p.y + 0.5) * scale});
  r.push_back(r.front());
  if ((ring_shoelace(r) > 0) != positive) std::reverse(r.begin(), r.end());
  return r;
}

// Slide units for a tile cell's measurements: lengths and areas in um, positions in level-0 px.
std::vector<std::pair<std::string, double>> slide_values(const InstanceRecord& record, const TilePlacement& p) {
  std::map<std::string, double> v(record.values.begin(), record.values.end());
  auto get = [&](const char* name) { return v.count(name) ? v.at(name) : std::nan(""); };
  return {{"area_um2", get("area_px") * p.mpp * p.mpp},
          {"perimeter_um", get("perimeter_px") * p.mpp},
          {"equivalent_diameter_um", get("equivalent_diameter_px") * p.mpp},
          {"circularity", get("circularity")},
          {"eccentricity", get("eccentricity")},
          {"solidity", get("solidity")},
          {"centroid_x", p.x0 + (get("centroid_x") + 0.5) * p.downsample},
          {"centroid_y", p.y0 + (get("centroid_y") + 0.5) * p.downsample},
          {"bbox_x", p.x0 + get("bbox_x") * p.downsample},
          {"bbox_y", p.y0 + get("bbox_y") * p.downsample},
          {"bbox_w", get("bbox_w") * p.downsample},
          {"bbox_h", get("bbox_h") * p.downsample},
          {"mean_r", get("mean_r")},
          {"mean_g", get("mean_g")},
          {"mean_b", get("mean_b")}};
}

// Moves every coordinate of a (Multi)Polygon from tile px to level-0 px.
void place_geometry(nlohmann::json& node, const TilePlacement& p) {
  if (node.is_array() && node.size() == 2 && node[0].is_number()) {
    node = {p.x0 + node[0].get<double>() * p.downsample, p.y0 + node[1].get<double>() * p.downsample};
    return;
  }
  for (auto& child : node) place_geometry(child, p);
}

}  // namespace

RasterDigest digest_class_raster(const RasterFile& raster, cv::Size thumbnail, cv::Size region_map, int num_classes) {
  HP_CHECK(raster.bands() == 1, InputError, "class raster '", raster.path(), "' must have one band");
  RasterDigest digest;
  digest.thumbnail = cv::Mat::zeros(thumbnail, CV_8U);
  digest.region_map = cv::Mat::zeros(region_map, CV_8U);
  digest.counts.assign(256, 0);
  const int rows_per_strip = std::max(1, (32 << 20) / raster.width());  // ~32 MB a strip
  for (int y0 = 0; y0 < raster.height(); y0 += rows_per_strip) {
    const cv::Mat strip = raster.read(cv::Rect(0, y0, raster.width(), std::min(rows_per_strip, raster.height() - y0)));
    for (int y = 0; y < strip.rows; ++y) {
      const uint8_t* row = strip.ptr<uint8_t>(y);
      for (int x = 0; x < strip.cols; ++x) ++digest.counts[row[x]];
    }
    sample_rows(strip, y0, raster.height(), digest.thumbnail);
    sample_rows(strip, y0, raster.height(), digest.region_map);
  }
  for (int v = num_classes; v < 256; ++v)
    HP_CHECK(digest.counts[v] == 0, InputError, "class raster '", raster.path(), "' holds value ", v, " but the model has ",
             num_classes, " classes");
  digest.counts.resize(num_classes);
  return digest;
}

nlohmann::json score_class_raster(const RasterFile& raster, const SlideAnnotation& truth, double level0_per_px,
                                  const std::vector<std::string>& classes) {
  const int n = static_cast<int>(classes.size());
  std::vector<uint8_t> to_model(256, 0);
  for (size_t k = 0; k < truth.classes().size(); ++k) {
    const std::string& name = truth.classes()[k];
    const auto it = std::find(classes.begin(), classes.end(), name);
    int index = it != classes.end() ? static_cast<int>(it - classes.begin()) : -1;
    if (index < 0 && name == "class" + std::to_string(k + 1) && static_cast<int>(k + 1) < n) index = static_cast<int>(k + 1);
    HP_CHECK(index >= 0, InputError, "annotation class '", name, "' is not a class of the model (", classes.size(),
             " classes, background first)");
    to_model[k + 1] = static_cast<uint8_t>(index);
  }
  std::vector<int64_t> confusion(static_cast<size_t>(n) * n, 0);  // [truth][predicted]
  const int rows_per_strip = std::max(1, (16 << 20) / raster.width());
  for (int y0 = 0; y0 < raster.height(); y0 += rows_per_strip) {
    const int rows = std::min(rows_per_strip, raster.height() - y0);
    const cv::Mat predicted = raster.read(cv::Rect(0, y0, raster.width(), rows));
    const cv::Mat labels = truth.region(0, y0 * level0_per_px, level0_per_px, raster.width(), rows);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* p = predicted.ptr<uint8_t>(y);
      const uint8_t* t = labels.ptr<uint8_t>(y);
      for (int x = 0; x < raster.width(); ++x) ++confusion[static_cast<size_t>(to_model[t[x]]) * n + p[x]];
    }
  }
  auto at = [&](int t, int p) { return confusion[static_cast<size_t>(t) * n + p]; };
  nlohmann::json iou = nlohmann::json::object();
  int64_t correct = 0, total = 0, fg_both = 0, fg_either = 0;
  for (int c = 0; c < n; ++c) {
    int64_t tp = at(c, c), fp = 0, fn = 0;
    for (int o = 0; o < n; ++o)
      if (o != c) fp += at(o, c), fn += at(c, o);
    iou[classes[c]] = tp + fp + fn > 0 ? nlohmann::json(static_cast<double>(tp) / (tp + fp + fn)) : nlohmann::json(nullptr);
    correct += tp;
  }
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < n; ++p) {
      total += at(t, p);
      if (t > 0 && p > 0) fg_both += at(t, p);
      if (t > 0 || p > 0) fg_either += at(t, p);
    }
  return {{"iou", iou},
          {"foreground_iou", fg_either > 0 ? static_cast<double>(fg_both) / fg_either : 0.0},
          {"pixel_accuracy", total > 0 ? static_cast<double>(correct) / total : 0.0},
          {"pixels", total}};
}

int64_t write_class_regions(const std::string& path, const cv::Mat& region_map, const ClassLegend& legend,
                            double level0_per_px, double min_area_px) {
  HP_CHECK(region_map.type() == CV_8U, InputError, "region map must be CV_8U class indices");
  AtomicFile file(path);
  std::ofstream out(file.temp_path());
  out << "{\"type\":\"FeatureCollection\",\"features\":[";
  int64_t count = 0;
  for (int c = 1; c <= static_cast<int>(legend.names.size()); ++c) {
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    cv::findContours(region_map == c, contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_SIMPLE);
    const auto colour = legend.colour(c - 1);
    const nlohmann::json classification = {{"name", legend.names[c - 1]}, {"color", {colour[0], colour[1], colour[2]}}};
    for (size_t i = 0; i < contours.size(); ++i) {
      if (hierarchy[i][3] >= 0) continue;  // a hole: written with its exterior
      const double area_px = cv::contourArea(contours[i]);
      // Specks of a map px or two are noise at this scale, and would swamp a viewer.
      if (area_px < min_area_px && contours[i].size() > 2) continue;
      nlohmann::json rings = nlohmann::json::array({ring(contours[i], level0_per_px, true)});
      for (int h = hierarchy[i][2]; h >= 0; h = hierarchy[h][0]) rings.push_back(ring(contours[h], level0_per_px, false));
      const nlohmann::json feature = {
          {"type", "Feature"},
          {"geometry", {{"type", "Polygon"}, {"coordinates", rings}}},
          {"properties",
           {{"objectType", "annotation"},
            {"classification", classification},
            {"measurements", {{"outline_area_level0_px2", area_px * level0_per_px * level0_per_px}}}}}};
      out << (count++ ? ",\n" : "\n") << feature.dump();
    }
  }
  out << "\n]}\n";
  out.close();
  HP_CHECK(out.good(), OutputError, "writing '", path, "' failed");
  file.commit();
  return count;
}

cv::Mat class_overlay(const cv::Mat& rgb, const cv::Mat& classes, const ClassLegend& legend) {
  HP_CHECK(rgb.type() == CV_8UC3 && classes.type() == CV_8U && rgb.size() == classes.size(), InputError,
           "class overlay: expected an RGB image and a class map of the same size");
  cv::Mat canvas = rgb.clone();
  for (int c = 1; c <= static_cast<int>(legend.names.size()); ++c) {
    const auto colour = legend.colour(c - 1);
    cv::Mat tint(rgb.size(), CV_8UC3, cv::Scalar(colour[0], colour[1], colour[2]));
    cv::Mat blended;
    cv::addWeighted(rgb, 0.45, tint, 0.55, 0, blended);
    blended.copyTo(canvas, classes == c);
  }
  draw_legend(canvas, legend);
  return canvas;
}

std::string cell_csv_header() {
  return "id,class,area_um2,perimeter_um,equivalent_diameter_um,circularity,eccentricity,solidity,centroid_x,"
         "centroid_y,bbox_x,bbox_y,bbox_w,bbox_h,mean_r,mean_g,mean_b";
}

TileCells tile_cells(const cv::Mat& labels, const cv::Mat& rgb, const cv::Mat& class_map, bool classify,
                     const TilePlacement& placement, const ClassLegend& legend, int64_t first_id) {
  std::vector<CellMeasurement> cells = measure_instances(labels, rgb);
  if (classify) assign_majority_class(cells, labels, class_map, 1);
  const cv::Mat labels32 = instance_map_32s(labels);
  std::vector<InstanceRecord> records;
  std::vector<bool> kept;
  for (const CellMeasurement& cell : cells) {
    InstanceRecord r = to_record(cell);
    std::map<std::string, double> v(r.values.begin(), r.values.end());
    const cv::Point2d centre(v["centroid_x"], v["centroid_y"]);
    if (!placement.keep.contains(cv::Point(static_cast<int>(std::floor(centre.x)), static_cast<int>(std::floor(centre.y)))))
      continue;
    if (static_cast<size_t>(r.id) >= kept.size()) kept.resize(r.id + 1, false);
    kept[r.id] = true;
    if (!classify) r.class_index = 0;
    r.values = slide_values(r, placement);
    records.push_back(r);
  }
  TileCells out;
  if (records.empty()) return out;
  // Only the kept cells' pixels, so each outline is traced once.
  cv::Mat kept_labels = cv::Mat::zeros(labels.size(), CV_32S);
  for (int y = 0; y < labels32.rows; ++y) {
    const int32_t* in = labels32.ptr<int32_t>(y);
    int32_t* out = kept_labels.ptr<int32_t>(y);
    for (int x = 0; x < labels32.cols; ++x)
      if (in[x] > 0 && static_cast<size_t>(in[x]) < kept.size() && kept[in[x]]) out[x] = in[x];
  }
  nlohmann::json collection = instances_geojson(kept_labels, records, legend);
  for (size_t i = 0; i < records.size(); ++i) {
    nlohmann::json& feature = collection["features"][i];
    place_geometry(feature["geometry"]["coordinates"], placement);
    const int64_t id = first_id + static_cast<int64_t>(i);
    feature["properties"]["id"] = id;
    out.features.push_back(feature.dump());
    std::ostringstream row;
    row.precision(10);
    row << id << ',' << legend.name(records[i].class_index);
    for (const auto& [name, value] : records[i].values) {
      row << ',';
      if (std::isfinite(value)) row << value;
    }
    out.csv_rows.push_back(row.str());
  }
  return out;
}

}  // namespace hemapath
