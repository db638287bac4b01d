#pragma once
/// Evaluation results on disk, in the forms people read them: JSON for programs, CSV for
/// spreadsheets, PNG for eyes.
#include <nlohmann/json.hpp>
#include <string>

#include "hemapath/train/metrics.h"

namespace hemapath {

/// Writes into `dir` (created when missing), each file atomically:
/// - report.json: report.to_json() with the keys of `extra` (an object, e.g. model name,
///   split, timings) added at the top level, replacing same-named keys;
/// - confusion.csv: header `truth\predicted` then the class names; one row per true class;
/// - confusion.png: the heat map (write_matrix_heatmap);
/// - per_class.csv: class,precision,recall,f1,support, one row per class then
///   "macro avg" and "weighted avg" rows whose support is the number of samples.
/// Throws InputError when `extra` is not a JSON object, OutputError when writing fails.
void write_classification_report(const std::string& dir, const ClassificationReport& report,
                                 const nlohmann::json& extra = nlohmann::json::object());

}  // namespace hemapath
