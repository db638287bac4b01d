#include "hemapath/io/annotation_raster.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

using Ring = std::vector<cv::Point2d>;
using Polygon = std::vector<Ring>;
using json = nlohmann::json;

// Reads one file's geometry, naming the file and the JSON path of the fault in every error.
class GeoJsonReader {
 public:
  explicit GeoJsonReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw InputError("annotation file '" + path_ + "': " + where + " " + what);
  }

  cv::Point2d position(const json& p, const std::string& where) const {
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number())
      fail(where, "is " + p.dump() + ": expected a position [x, y] of numbers (level-0 px)");
    const cv::Point2d pt(p[0].get<double>(), p[1].get<double>());
    if (!std::isfinite(pt.x) || !std::isfinite(pt.y)) fail(where, "is not finite: expected level-0 px");
    return pt;
  }

  Ring ring(const json& r, const std::string& where) const {
    if (!r.is_array()) fail(where, "is " + r.dump() + ": expected a ring, a list of positions [x, y]");
    Ring out;
    for (size_t i = 0; i < r.size(); ++i) {
      const cv::Point2d pt = position(r[i], where + "[" + std::to_string(i) + "]");
      if (out.empty() || pt != out.back()) out.push_back(pt);  // repeated points add no edge
    }
    if (out.size() > 1 && out.front() == out.back()) out.pop_back();  // GeoJSON closes rings
    if (out.size() < 3)
      fail(where, "has " + std::to_string(out.size()) + " distinct points: expected a ring of at least 3");
    return out;
  }

  Polygon polygon(const json& rings, const std::string& where) const {
    if (!rings.is_array() || rings.empty())
      fail(where, "is " + rings.dump() + ": expected a Polygon's rings, [exterior, hole, ...]");
    Polygon out;
    for (size_t i = 0; i < rings.size(); ++i) out.push_back(ring(rings[i], where + "[" + std::to_string(i) + "]"));
    return out;
  }

  // Appends the areal parts of `geometry` to `out`; non-areal geometries add nothing.
  void geometry(const json& geometry, const std::string& where, std::vector<Polygon>& out) const {
    if (!geometry.is_object() || !geometry.contains("type") || !geometry["type"].is_string())
      fail(where, "is " + geometry.dump().substr(0, 200) + ": expected a GeoJSON geometry object with a \"type\"");
    const std::string type = geometry["type"].get<std::string>();
    if (type == "Point" || type == "MultiPoint" || type == "LineString" || type == "MultiLineString") return;
    if (type == "GeometryCollection") {
      const auto it = geometry.find("geometries");
      if (it == geometry.end() || !it->is_array()) fail(where, "is a GeometryCollection without a \"geometries\" list");
      for (size_t i = 0; i < it->size(); ++i)
        this->geometry((*it)[i], where + ".geometries[" + std::to_string(i) + "]", out);
      return;
    }
    if (type != "Polygon" && type != "MultiPolygon")
      fail(where, "has type '" + type +
                      "': expected Polygon, MultiPolygon, GeometryCollection (or Point / LineString, skipped)");
    const auto it = geometry.find("coordinates");
    if (it == geometry.end()) fail(where, "(" + type + ") has no \"coordinates\"");
    const std::string at = where + ".coordinates";
    if (type == "Polygon") {
      out.push_back(polygon(*it, at));
      return;
    }
    if (!it->is_array() || it->empty()) fail(at, "is " + it->dump().substr(0, 200) + ": expected a list of Polygons");
    for (size_t i = 0; i < it->size(); ++i) out.push_back(polygon((*it)[i], at + "[" + std::to_string(i) + "]"));
  }

  std::string class_name(const json& feature, const std::string& where) const {
    const auto props = feature.find("properties");
    if (props == feature.end() || !props->is_object()) return "unclassified";
    auto text = [&](const json& v, const std::string& key) -> std::string {
      if (!v.is_string()) fail(where + ".properties." + key, "is " + v.dump() + ": expected a class name (string)");
      return v.get<std::string>();
    };
    if (const auto c = props->find("classification"); c != props->end() && !c->is_null()) {
      if (c->is_string()) return text(*c, "classification");
      if (c->is_object() && c->contains("name")) return text((*c)["name"], "classification.name");
      fail(where + ".properties.classification", "is " + c->dump() + ": expected {\"name\": ..., \"color\": ...}");
    }
    if (const auto c = props->find("class"); c != props->end() && !c->is_null()) return text(*c, "class");
    if (const auto c = props->find("name"); c != props->end() && !c->is_null()) return text(*c, "name");
    return "unclassified";
  }

  std::vector<AnnotationShape> read() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw InputError("annotation file '" + path_ + "' cannot be opened: expected a GeoJSON file");
    std::stringstream text;
    text << in.rdbuf();
    json root;
    try {
      root = json::parse(text.str());
    } catch (const json::exception& e) {
      throw InputError("annotation file '" + path_ + "' is not valid JSON: " + e.what());
    }
    const json* features = nullptr;
    if (root.is_array()) {
      features = &root;
    } else if (root.is_object() && root.value("type", json()) == "FeatureCollection") {
      const auto it = root.find("features");
      if (it == root.end() || !it->is_array())
        throw InputError("annotation file '" + path_ + "' is a FeatureCollection without a \"features\" list");
      features = &*it;
    } else {
      throw InputError("annotation file '" + path_ + "' is not a GeoJSON FeatureCollection (type " +
                       (root.is_object() ? root.value("type", json()).dump() : std::string(root.type_name())) +
                       "): expected {\"type\": \"FeatureCollection\", \"features\": [...]}");
    }
    std::vector<AnnotationShape> shapes;
    for (size_t i = 0; i < features->size(); ++i) {
      const json& f = (*features)[i];
      const std::string where = "features[" + std::to_string(i) + "]";
      if (!f.is_object() || f.value("type", json()) != "Feature")
        fail(where,
             "is not a GeoJSON Feature: expected {\"type\": \"Feature\", \"geometry\": ..., \"properties\": ...}");
      const auto g = f.find("geometry");
      if (g == f.end()) fail(where, "has no \"geometry\": expected a Polygon or MultiPolygon (null when unlocated)");
      AnnotationShape shape;
      shape.class_name = class_name(f, where);
      if (!g->is_null()) geometry(*g, where + ".geometry", shape.polygons);
      if (!shape.polygons.empty()) shapes.push_back(std::move(shape));
    }
    return shapes;
  }

 private:
  std::string path_;
};

// One polygon edge for the scanline fill, in output-pixel units with the edge's top end
// (smaller y) first. Horizontal edges are never stored: no scanline crosses them under the
// half-open rule.
struct Edge {
  double y_top, y_bottom, x_top, slope;  // x at y = x_top + (y - y_top) * slope
  size_t ring;
};

struct Crossing {
  double x;
  size_t ring;
  bool operator<(const Crossing& o) const { return x < o.x; }
};

// Paints `value` on every pixel of `out` whose centre (i + 0.5, j + 0.5) in `polygon` (output
// px) lies inside the exterior ring and outside every hole. Exact on the centres, unlike
// cv::fillPoly, which rounds vertices to whole pixels and fills closed outlines (a square
// over 4 x 4 pixel centres fills 5 x 5) even with a sub-pixel shift. Rings are tested one by
// one (each by the even-odd rule) rather than all together, so a hole that leaks outside its
// exterior, or a hole overlapping another, removes area instead of adding it.
void fill_polygon(cv::Mat& out, const Polygon& polygon, uchar value, int row_begin, int row_end) {
  std::vector<Edge> edges;
  const double y_first = row_begin + 0.5, y_last = row_end - 0.5;
  for (size_t r = 0; r < polygon.size(); ++r) {
    const Ring& ring = polygon[r];
    for (size_t k = 0; k < ring.size(); ++k) {
      cv::Point2d a = ring[k], b = ring[(k + 1) % ring.size()];
      if (a.y == b.y) continue;
      if (a.y > b.y) std::swap(a, b);
      if (b.y <= y_first || a.y > y_last) continue;  // no scanline of these rows crosses it
      edges.push_back({a.y, b.y, a.x, (b.x - a.x) / (b.y - a.y), r});
    }
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& l, const Edge& r) { return l.y_top < r.y_top; });

  std::vector<const Edge*> active;
  std::vector<Crossing> crossings;
  std::vector<char> inside(polygon.size());
  size_t next = 0;
  for (int j = row_begin; j < row_end; ++j) {
    const double yc = j + 0.5;
    while (next < edges.size() && edges[next].y_top <= yc) active.push_back(&edges[next++]);
    // Half-open in y: an edge crosses the scanline when y_top <= yc < y_bottom, so a vertex
    // shared by two edges is counted once and a centre on a bottom edge is outside.
    active.erase(std::remove_if(active.begin(), active.end(), [yc](const Edge* e) { return e->y_bottom <= yc; }),
                 active.end());
    if (active.empty()) continue;
    crossings.clear();
    for (const Edge* e : active) crossings.push_back({e->x_top + (yc - e->y_top) * e->slope, e->ring});
    std::sort(crossings.begin(), crossings.end());
    std::fill(inside.begin(), inside.end(), 0);
    int holes_inside = 0;
    uchar* row = out.ptr<uchar>(j);
    for (size_t k = 0; k + 1 < crossings.size(); ++k) {
      const size_t r = crossings[k].ring;
      inside[r] = !inside[r];
      if (r > 0) holes_inside += inside[r] ? 1 : -1;
      if (!inside[0] || holes_inside > 0) continue;
      // Half-open in x: centres i + 0.5 in [x_left, x_right).
      const double xl = crossings[k].x, xr = crossings[k + 1].x;
      const double cols = out.cols;
      const double lo = std::clamp(std::ceil(xl - 0.5), 0.0, cols), hi = std::clamp(std::ceil(xr - 0.5), 0.0, cols);
      for (int i = int(lo); i < int(hi); ++i) row[i] = value;
    }
  }
}

std::string known_classes(const std::map<std::string, int>& classes) {
  if (classes.empty()) return "(none)";
  std::string list;
  for (const auto& [name, index] : classes)
    list += (list.empty() ? "'" : ", '") + name + "' (" + std::to_string(index) + ")";
  return list;
}

}  // namespace

std::vector<AnnotationShape> read_geojson_annotations(const std::string& path) { return GeoJsonReader(path).read(); }

cv::Mat rasterize_annotations(const std::vector<AnnotationShape>& shapes, const std::map<std::string, int>& classes,
                              double x0, double y0, double downsample, int width, int height) {
  HP_CHECK(std::isfinite(downsample) && downsample > 0, InputError, "annotation raster: downsample ", downsample,
           ": expected a positive number of level-0 px per output px");
  HP_CHECK(width >= 1 && height >= 1, InputError, "annotation raster: size ", width, " x ", height,
           ": expected at least 1 x 1 output px");
  HP_CHECK(std::isfinite(x0) && std::isfinite(y0), InputError, "annotation raster: origin (", x0, ", ", y0,
           ") is not finite: expected level-0 px");
  for (const auto& [name, index] : classes)
    HP_CHECK(index >= 1 && index <= 255, InputError, "annotation class '", name, "' has index ", index,
             ": expected 1..255 (0 is the background of an 8-bit label mask)");

  cv::Mat out(height, width, CV_8U, cv::Scalar(0));
  // Every class and coordinate is checked before the first pixel is painted: whether a bad
  // shape is reported must not depend on which tile of the slide is being rasterised.
  std::vector<uchar> values;
  for (const auto& shape : shapes) {
    const auto it = classes.find(shape.class_name);
    HP_CHECK(it != classes.end(), InputError, "annotation class '", shape.class_name,
             "' is not a known class: expected one of ", known_classes(classes));
    values.push_back(uchar(it->second));
    for (const auto& polygon : shape.polygons)
      for (const auto& ring : polygon)
        for (const auto& p : ring)
          HP_CHECK(std::isfinite(p.x) && std::isfinite(p.y), InputError, "annotation of class '", shape.class_name,
                   "' has a non-finite point: expected level-0 px");
  }

  for (size_t s = 0; s < shapes.size(); ++s) {
    for (const auto& polygon : shapes[s].polygons) {
      if (polygon.empty() || polygon[0].size() < 3) continue;
      // The exterior's box bounds the polygon: holes only remove area inside it.
      double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
      for (const auto& p : polygon[0]) {
        x_min = std::min(x_min, p.x), x_max = std::max(x_max, p.x);
        y_min = std::min(y_min, p.y), y_max = std::max(y_max, p.y);
      }
      // Output px whose centres (i + 0.5) can lie in [min, max) (level-0 -> output px).
      const double u_min = (x_min - x0) / downsample, u_max = (x_max - x0) / downsample;
      const double v_min = (y_min - y0) / downsample, v_max = (y_max - y0) / downsample;
      const double col_begin = std::max(std::ceil(u_min - 0.5), 0.0);
      const double col_end = std::min(std::ceil(u_max - 0.5), double(width));
      const double row_begin = std::max(std::ceil(v_min - 0.5), 0.0);
      const double row_end = std::min(std::ceil(v_max - 0.5), double(height));
      if (col_begin >= col_end || row_begin >= row_end) continue;  // misses the region

      Polygon local(polygon.size());
      for (size_t r = 0; r < polygon.size(); ++r) {
        local[r].reserve(polygon[r].size());
        for (const auto& p : polygon[r]) local[r].emplace_back((p.x - x0) / downsample, (p.y - y0) / downsample);
      }
      fill_polygon(out, local, values[s], int(row_begin), int(row_end));
    }
  }
  return out;
}

}  // namespace hemapath
