#include "hemapath/infer/smear_report.h"

#include <filesystem>
#include <map>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/io/geojson.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace fs = std::filesystem;

ClassLegend SmearClasses::legend() const {
  ClassLegend legend;
  legend.names = red;
  legend.names.insert(legend.names.end(), white.begin(), white.end());
  return legend;
}

int SmearClasses::legend_index(const SmearCell& cell) const {
  return cell.kind == CellKind::red ? cell.class_index : static_cast<int>(red.size()) + cell.class_index;
}

namespace {

const std::vector<std::string>& names_of(const SmearClasses& classes, CellKind kind) {
  return kind == CellKind::red ? classes.red : classes.white;
}

std::vector<int64_t> class_counts(const SmearResult& result, CellKind kind, size_t num_classes) {
  std::vector<int64_t> counts(num_classes, 0);
  for (const auto& cell : result.cells)
    if (cell.kind == kind) ++counts[cell.class_index];
  return counts;
}

nlohmann::json profile(const SmearResult& result, CellKind kind, const std::vector<std::string>& names) {
  const std::vector<int64_t> counts = class_counts(result, kind, names.size());
  const int64_t total = static_cast<int64_t>(result.count(kind));
  nlohmann::json classes = nlohmann::json::object();
  for (size_t c = 0; c < names.size(); ++c)
    classes[names[c]] = {{"count", counts[c]}, {"percent", total ? 100.0 * counts[c] / total : 0.0}};
  return {{"count", total}, {"classes", classes}};
}

// The record of a cell for the GeoJSON: measurements, then its probability and those of its classes.
InstanceRecord geojson_record(const SmearCell& cell, const SmearClasses& classes) {
  InstanceRecord record = to_record(cell.measurement);
  record.class_index = classes.legend_index(cell);
  record.values.emplace_back("probability", cell.probabilities[cell.class_index]);
  const auto& names = names_of(classes, cell.kind);
  for (size_t c = 0; c < names.size(); ++c) record.values.emplace_back("p_" + names[c], cell.probabilities[c]);
  return record;
}

std::string cells_csv(const SmearResult& result, const SmearClasses& classes) {
  CsvRow header{"id", "type", "class", "probability"};
  CellMeasurement with_colour;  // every cell is measured with the image, so has mean colours
  with_colour.has_colour = true;
  for (const auto& [name, value] : to_record(with_colour).values) header.push_back(name);
  for (const auto& name : classes.red) header.push_back("p_" + name);
  for (const auto& name : classes.white) header.push_back("p_" + name);
  CsvWriter csv(header);
  for (const auto& cell : result.cells) {
    CsvRow row{std::to_string(cell.measurement.id), kind_name(cell.kind),
               names_of(classes, cell.kind)[cell.class_index], format_number(cell.probabilities[cell.class_index], 5)};
    for (const auto& [name, value] : to_record(cell.measurement).values) row.push_back(format_number(value));
    for (CellKind kind : {CellKind::red, CellKind::white})
      for (size_t c = 0; c < names_of(classes, kind).size(); ++c)
        row.push_back(kind == cell.kind ? format_number(cell.probabilities[c], 5) : "");
    csv.add_row(row);
  }
  return csv.text();
}

}  // namespace

nlohmann::json smear_summary(const SmearResult& result, const SmearClasses& classes, const std::string& image,
                             const cv::Size& size) {
  const StageSeconds& s = result.seconds;
  return {{"image", image},
          {"width", size.width},
          {"height", size.height},
          {"cells", result.cells.size()},
          {"red_cells", profile(result, CellKind::red, classes.red)},
          {"white_cells", profile(result, CellKind::white, classes.white)},
          {"seconds",
           {{"red_segmentation", s.red_segmentation},
            {"red_classification", s.red_classification},
            {"white_segmentation", s.white_segmentation},
            {"white_classification", s.white_classification},
            {"total", s.total()}}}};
}

void write_smear_files(const std::string& dir, const cv::Mat& rgb, const SmearResult& result,
                       const SmearClasses& classes, const std::string& image) {
  std::vector<InstanceRecord> records;
  for (const auto& cell : result.cells) records.push_back(geojson_record(cell, classes));
  const ClassLegend legend = classes.legend();
  const cv::Mat overlay = render_instance_overlay(rgb, result.labels, records, legend);
  const std::string geojson = instances_geojson(result.labels, records, legend).dump();
  const std::string csv = cells_csv(result, classes);
  const std::string summary = smear_summary(result, classes, image, rgb.size()).dump(2) + "\n";
  const fs::path out(dir);
  write_image((out / "overlay.png").string(), overlay);
  write_instance_mask((out / "instances.png").string(), result.labels);
  write_text_atomic(out / "cells.csv", csv);
  write_text_atomic(out / "cells.geojson", geojson);
  write_text_atomic(out / "summary.json", summary);
}

namespace {
CsvRow batch_header(const SmearClasses& classes) {
  CsvRow header{"image", "status", "red_cells", "white_cells"};
  for (const auto& name : classes.red) header.push_back("red_" + name);
  for (const auto& name : classes.white) header.push_back("white_" + name);
  header.push_back("seconds");
  header.push_back("error");
  return header;
}
}  // namespace

SmearBatchTable::SmearBatchTable(const SmearClasses& classes)
    : classes_(classes), columns_(batch_header(classes).size()), csv_(batch_header(classes)) {}

void SmearBatchTable::add(const std::string& image, const SmearResult& result) {
  add_summary(image, smear_summary(result, classes_, image, result.labels.size()));
}

void SmearBatchTable::add_summary(const std::string& image, const nlohmann::json& summary) {
  try {
    CsvRow row{image, "ok", summary.at("red_cells").at("count").dump(), summary.at("white_cells").at("count").dump()};
    for (const auto& [key, names] : {std::pair{"red_cells", &classes_.red}, std::pair{"white_cells", &classes_.white}})
      for (const auto& name : *names) row.push_back(summary.at(key).at("classes").at(name).at("count").dump());
    row.push_back(format_number(summary.at("seconds").at("total").get<double>(), 4));
    row.push_back("");
    csv_.add_row(row);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("the summary of '" + image + "' does not match the models' classes (" + e.what() +
                     "): was it analysed with other models?");
  }
}

void SmearBatchTable::add_pending(const std::string& image) {
  CsvRow row{image, "pending"};
  row.resize(columns_);
  csv_.add_row(row);
}

void SmearBatchTable::add_failure(const std::string& image, const std::string& message) {
  CsvRow row{image, "error"};
  row.resize(columns_ - 1);
  row.push_back(message);
  csv_.add_row(row);
}

void SmearBatchTable::write(const std::string& path) const { csv_.write(path); }

}  // namespace hemapath
