#pragma once
/// The files `hemapath analyze` writes for a smear: the cells drawn on the image, a per-cell
/// table, the cells for QuPath and a summary of counts; and a table over a batch of smears.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/infer/smear_analysis.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/instance_outputs.h"

namespace hemapath {

/// The class names of both kinds of cell, red first, as one legend (colours by position).
struct SmearClasses {
  std::vector<std::string> red, white;
  ClassLegend legend() const;
  /// Index of a cell's class in legend().
  int legend_index(const SmearCell& cell) const;
};

/// Counts and percentages per class of each kind (the red-cell morphology profile and the
/// white-cell differential), cell totals, image size and stage times. Percentages are of the
/// cells of that kind, 0 when there is none.
nlohmann::json smear_summary(const SmearResult& result, const SmearClasses& classes, const std::string& image,
                             const cv::Size& size);

/// Writes into `dir`: overlay.png (outlines coloured by class, legend), instances.png (16-bit
/// ids), cells.csv (id, type, class, probability, measurements, then p_<class> for every class
/// of both kinds, empty for the other kind), cells.geojson (QuPath detections with the
/// measurements and the probabilities of the cell's own classes) and summary.json
/// (smear_summary). Everything is rendered before the first file is written.
void write_smear_files(const std::string& dir, const cv::Mat& rgb, const SmearResult& result,
                       const SmearClasses& classes, const std::string& image);

/// One row per image: image, status (ok | error | pending), red_cells, white_cells, a count per
/// red class (red_<class>) and white class (white_<class>), seconds, error (the message).
class SmearBatchTable {
 public:
  explicit SmearBatchTable(const SmearClasses& classes);
  void add(const std::string& image, const SmearResult& result);
  /// The row of an image from its smear_summary (as read back from summary.json); InputError
  /// when the summary lacks one of the classes.
  void add_summary(const std::string& image, const nlohmann::json& summary);
  /// An image of the batch that no worker has finished yet (sharded runs).
  void add_pending(const std::string& image);
  void add_failure(const std::string& image, const std::string& message);
  void write(const std::string& path) const;

 private:
  SmearClasses classes_;
  size_t columns_;
  CsvWriter csv_;
};

}  // namespace hemapath
