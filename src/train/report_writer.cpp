#include "hemapath/train/report_writer.h"

#include <filesystem>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/plot.h"

namespace hemapath {
namespace fs = std::filesystem;

void write_classification_report(const std::string& dir, const ClassificationReport& report,
                                 const nlohmann::json& extra) {
  HP_CHECK(extra.is_object(), InputError, "classification report for '", dir,
           "': extra fields must be a JSON object, got ", extra.type_name());
  const int n = report.confusion.num_classes();
  HP_CHECK(static_cast<int>(report.class_names.size()) == n && static_cast<int>(report.per_class.size()) == n,
           InputError, "classification report for '", dir, "': ", report.class_names.size(), " class names and ",
           report.per_class.size(), " per-class rows for ", n,
           " classes, expected a report from classification_report()");
  const fs::path out(dir);

  nlohmann::json j = report.to_json();
  j.update(extra);
  write_text_atomic(out / "report.json", j.dump(2) + "\n");

  CsvRow header = {"truth\\predicted"};
  header.insert(header.end(), report.class_names.begin(), report.class_names.end());
  CsvWriter confusion(header);
  const auto rows = report.confusion.rows();
  for (int t = 0; t < n; ++t) {
    CsvRow row = {report.class_names[t]};
    for (int64_t v : rows[t]) row.push_back(std::to_string(v));
    confusion.add_row(row);
  }
  confusion.write((out / "confusion.csv").string());

  write_matrix_heatmap((out / "confusion.png").string(), rows, report.class_names,
                       "Confusion matrix (n = " + std::to_string(report.confusion.total()) + ", accuracy " +
                           format_number(report.accuracy, 4) + ")");

  CsvWriter per_class({"class", "precision", "recall", "f1", "support"});
  for (const auto& m : report.per_class)
    per_class.add_row(
        {m.name, format_number(m.precision), format_number(m.recall), format_number(m.f1), std::to_string(m.support)});
  const std::string total = std::to_string(report.confusion.total());
  per_class.add_row({"macro avg", format_number(report.macro_precision), format_number(report.macro_recall),
                     format_number(report.macro_f1), total});
  per_class.add_row({"weighted avg", format_number(report.weighted_precision), format_number(report.weighted_recall),
                     format_number(report.weighted_f1), total});
  per_class.write((out / "per_class.csv").string());
}

}  // namespace hemapath
