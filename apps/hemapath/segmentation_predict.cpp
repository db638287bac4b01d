#include "segmentation_predict.h"

#include <cstdio>
#include <filesystem>
#include <set>

#include <opencv2/core.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/cell_measurements.h"
#include "hemapath/infer/predictor.h"
#include "hemapath/infer/segmentation_predictor.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/geojson.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/instance_outputs.h"

namespace hemapath::cli {
namespace fs = std::filesystem;

void predict_segmentation(const std::string& model, const std::vector<std::string>& inputs, const std::string& out,
                          const CellFlags& cells, const InferenceOptions& inference) {
  const SegmentationPredictor predictor(model, inference);
  const InstanceOptions options = cells.applied_to(predictor.instance_options());
  validate(options);
  const std::vector<Sample> samples = collect_prediction_inputs(inputs, "");
  // Outputs go to <out>/<image stem>/: two inputs with one stem would overwrite each other.
  std::set<std::string> stems;
  for (const Sample& s : samples) {
    const std::string stem = fs::path(s.image_path).stem().string();
    HP_CHECK(stems.insert(stem).second, InputError, "two inputs are named '", stem,
             "': predict writes each image's results to <out>/<image stem>/, so stems must differ");
    read_image_rgb(s.image_path);  // every image decodes before anything is written
  }

  const auto& classes = predictor.header().classes;
  // Cells take the majority class under them when the classes are kinds of cell part; a
  // foreground or boundary model has one kind of cell.
  const bool classified = predictor.header().target == "classes";
  ClassLegend legend;
  if (classified) legend.names.assign(classes.begin() + 1, classes.end());
  CsvRow header = {"image", "cells", "mean_cell_area_px", "foreground_fraction"};
  for (size_t c = 1; c < classes.size(); ++c) header.push_back(classes[c] + "_fraction");
  CsvWriter summary(header);
  size_t total_cells = 0;
  for (const Sample& s : samples) {
    const cv::Mat rgb = read_image_rgb(s.image_path);
    const SegmentationMaps maps = predictor.predict(rgb);
    const cv::Mat foreground = maps.foreground();
    const cv::Mat labels = predictor.cells(maps, options);
    std::vector<CellMeasurement> measured = measure_instances(labels, rgb);
    if (classified) assign_majority_class(measured, labels, maps.classes, 1);
    const fs::path dir = fs::path(out) / fs::path(s.image_path).stem();
    write_cell_files(dir.string(), rgb, labels, to_records(measured), legend);
    write_index_mask((dir / "classes.png").string(), maps.classes);
    cv::Mat probability;
    foreground.convertTo(probability, CV_8U, 255.0);
    write_image((dir / "foreground.png").string(), probability);

    double area = 0;
    for (const auto& m : measured) area += static_cast<double>(m.area);
    CsvRow row = {s.image_path, std::to_string(measured.size()),
                  format_number(measured.empty() ? 0.0 : area / measured.size()),
                  format_number(static_cast<double>(cv::countNonZero(maps.classes)) / maps.classes.total())};
    for (size_t c = 1; c < classes.size(); ++c)
      row.push_back(format_number(static_cast<double>(cv::countNonZero(maps.classes == static_cast<int>(c))) /
                                  maps.classes.total()));
    summary.add_row(row);
    total_cells += measured.size();
  }
  summary.write((fs::path(out) / "summary.csv").string());
  std::printf("%zu images segmented by %s: %zu cells (%s)\n", samples.size(), model.c_str(), total_cells,
              predictor.cell_separation(options).c_str());
  std::printf("results: %s/<image>/{classes,foreground,instances,overlay}.png, cells.csv, cells.geojson; %s/summary.csv\n",
              out.c_str(), out.c_str());
}

}  // namespace hemapath::cli
