// hemapath instances: cell instances from a probability map, an index mask or an instance
// mask, measured and written as a 16-bit mask, overlay, CSV, GeoJSON and a JSON summary.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/infer/cell_measurements.h"
#include "hemapath/infer/instances.h"
#include "hemapath/io/geojson.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/instance_outputs.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct InstancesCommand {
  std::string map, image, out, type = "auto", object_type = "detection";
  std::vector<int> foreground;
  std::vector<std::string> classes;
  CellFlags cells;
};

// An 8-bit map is read as an index mask when classes are named or chosen, or when it holds
// few small values (class ids); otherwise as a probability map scaled 0..255.
std::string detect_type(const cv::Mat& map, const InstancesCommand& cmd) {
  if (cmd.type != "auto") return cmd.type;
  if (map.depth() == CV_16U) return "instances";
  if (!cmd.classes.empty() || !cmd.foreground.empty()) return "index";
  int hist[256] = {0};
  for (int y = 0; y < map.rows; ++y)
    for (int x = 0; x < map.cols; ++x) ++hist[map.at<uchar>(y, x)];
  int distinct = 0, max_value = 0;
  for (int v = 0; v < 256; ++v)
    if (hist[v]) ++distinct, max_value = v;
  return distinct <= 16 && max_value <= 31 ? "index" : "probability";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void run_instances(InstancesCommand cmd, const GlobalOptions& global) {
  apply_global(global);
  const InstanceOptions options = cmd.cells.applied_to({});

  // Everything is read and checked before the first file is written.
  const cv::Mat map = read_mask(cmd.map);
  const std::string type = detect_type(map, cmd);
  HP_CHECK(type != "probability" || map.depth() == CV_8U, InputError, "map '", cmd.map,
           "' is 16-bit: a probability map must be 8-bit (0..255 for p = 0..1); use --type instances or index");
  cv::Mat rgb;
  if (!cmd.image.empty()) {
    rgb = read_image_rgb(cmd.image);
    HP_CHECK(rgb.size() == map.size(), InputError, "image '", cmd.image, "' is ", rgb.cols, "x", rgb.rows,
             " px but map '", cmd.map, "' is ", map.cols, "x", map.rows, " px: expected the same size");
  }
  double max_value = 0;
  cv::minMaxLoc(map, nullptr, &max_value);
  const int n_classes = static_cast<int>(cmd.classes.size());
  if (type == "index" && n_classes > 0)
    HP_CHECK(max_value <= n_classes, InputError, "index mask '", cmd.map, "' has class ", max_value,
             " but --classes names ", n_classes, " (classes 1..", n_classes, ", 0 = background)");
  for (int c : cmd.foreground)
    HP_CHECK(c >= 1 && (n_classes == 0 || c <= n_classes), InputError, "--foreground class ", c, " is outside 1..",
             n_classes ? n_classes : 255, " (0 is background)");
  HP_CHECK(type == "index" || cmd.foreground.empty(), InputError, "--foreground applies to index masks, but map '",
           cmd.map, "' is read as a ", type, " map");

  cv::Mat labels;
  if (type == "probability")
    labels = extract_instances_from_probability(map, options);
  else if (type == "index")
    labels = extract_instances_from_classes(map, cmd.foreground, options);
  else
    labels = instance_map_32s(map, "instance mask '" + cmd.map + "'");

  std::vector<CellMeasurement> cells = measure_instances(labels, rgb);
  ClassLegend legend;
  if (type == "index") {
    assign_majority_class(cells, labels, map, 1);  // value v names class index v - 1
    if (n_classes > 0) {
      legend.names = cmd.classes;
    } else {
      for (int v = 1; v <= static_cast<int>(max_value); ++v) legend.names.push_back("class_" + std::to_string(v));
    }
  }
  const std::vector<InstanceRecord> records = to_records(cells);

  const fs::path out = cmd.out.empty() ? fs::path("runs/instances") / fs::path(cmd.map).stem() : fs::path(cmd.out);
  GeoJsonOptions geo;
  geo.object_type = cmd.object_type;
  write_cell_files(out.string(), rgb, labels, records, legend, geo);

  std::vector<double> areas;
  int64_t foreground = 0;
  std::map<std::string, int> per_class;
  for (const auto& c : cells) {
    areas.push_back(static_cast<double>(c.area));
    foreground += c.area;
    ++per_class[legend.name(c.class_index)];
  }
  double mean_area = 0;
  for (double a : areas) mean_area += a;
  if (!areas.empty()) mean_area /= areas.size();
  nlohmann::json summary = {{"map", cmd.map},
                            {"map_type", type},
                            {"image", cmd.image.empty() ? nlohmann::json(nullptr) : nlohmann::json(cmd.image)},
                            {"width", map.cols},
                            {"height", map.rows},
                            {"count", cells.size()},
                            {"mean_area_px", mean_area},
                            {"median_area_px", median(areas)},
                            {"min_area_px", areas.empty() ? 0.0 : *std::min_element(areas.begin(), areas.end())},
                            {"max_area_px", areas.empty() ? 0.0 : *std::max_element(areas.begin(), areas.end())},
                            {"foreground_px", foreground},
                            {"foreground_fraction", map.total() ? static_cast<double>(foreground) / map.total() : 0.0},
                            {"per_class", per_class}};
  // An instance mask is measured as is: the extraction options did not apply to it.
  if (type != "instances")
    summary["options"] = {
        {"threshold", options.threshold},          {"foreground", cmd.foreground},
        {"watershed", options.watershed},          {"marker_height_px", options.marker_height},
        {"min_distance_px", options.min_distance}, {"min_area_px", options.min_area},
        {"max_area_px", options.max_area},         {"fill_holes", options.fill_holes}};
  write_text_atomic(out / "summary.json", summary.dump(2) + "\n");

  std::printf("%zu cells (mean area %.1f px) in %s (%s map, %dx%d px) -> %s\n", cells.size(), mean_area,
              cmd.map.c_str(), type.c_str(), map.cols, map.rows, out.string().c_str());
}

}  // namespace

void setup_instances(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<InstancesCommand>();
  CLI::App* sub = app.add_subcommand(
      "instances", "Cut cell instances out of a probability map, index mask or instance mask and measure them");
  sub->add_option("map", cmd->map,
                  "8-bit probability map (0..255 = p 0..1), 8-bit index mask (0 = background) or 16-bit instance "
                  "mask (measured as is)")
      ->required();
  sub->add_option("--type", cmd->type,
                  "How to read MAP: auto (16-bit = instances; 8-bit = index when --classes/--foreground are given or "
                  "it holds at most 16 values up to 31, else probability), probability, index or instances")
      ->check(CLI::IsMember({"auto", "probability", "index", "instances"}));
  sub->add_option("--image", cmd->image, "The image MAP belongs to (same size): overlay.png and mean colours");
  sub->add_option("--out", cmd->out, "Output folder (default runs/instances/<MAP stem>)");
  sub->add_option("--foreground", cmd->foreground, "Index masks: classes that make up cells (default: all non-zero)")
      ->delimiter(',');
  sub->add_option("--classes", cmd->classes, "Index masks: names of classes 1, 2, ... (comma-separated)")
      ->delimiter(',');
  add_cell_flags(*sub, cmd->cells);
  sub->add_option("--object-type", cmd->object_type, "GeoJSON objectType for QuPath")
      ->check(CLI::IsMember({"detection", "annotation"}));
  sub->callback([cmd, &global] { run_instances(*cmd, global); });
}

}  // namespace hemapath::cli
