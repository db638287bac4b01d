#pragma once
/// Classification metrics from a confusion matrix, following scikit-learn's definitions so
/// figures compare directly with published results computed in Python.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hemapath {

/// Counts of (true class, predicted class); classes are indices 0..num_classes-1.
class ConfusionMatrix {
 public:
  /// Throws InputError if `num_classes` < 1.
  explicit ConfusionMatrix(int num_classes);
  /// Counts `count` samples (one by default). Throws InputError when either class is outside
  /// 0..num_classes-1 or the count is negative.
  void add(int truth, int predicted, int64_t count = 1);
  /// Count of samples of class `truth` predicted as `predicted`. Throws InputError when out of range.
  int64_t at(int truth, int predicted) const;
  int num_classes() const { return num_classes_; }
  /// Number of samples counted.
  int64_t total() const { return total_; }
  /// Adds another matrix's counts (e.g. from another worker or fold). Throws InputError
  /// when the class counts differ.
  void merge(const ConfusionMatrix& other);
  /// The counts as rows (index = true class) of columns (index = predicted class).
  std::vector<std::vector<int64_t>> rows() const;

 private:
  int num_classes_;
  int64_t total_ = 0;
  std::vector<int64_t> counts_;  // row-major [truth][predicted]
};

/// Figures for one class. A precision with no predictions of the class, or a recall with
/// no samples of it, is undefined: it is reported as 0 (as scikit-learn's zero_division=0)
/// and flagged so a reader can tell "0" from "not measurable".
struct ClassMetrics {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;
  /// Number of samples whose true class is this one.
  int64_t support = 0;
  /// True when the class was never predicted (precision reported as 0).
  bool precision_undefined = false;
  /// True when the class has no samples (recall reported as 0).
  bool recall_undefined = false;
};

/// Accuracy, balanced accuracy (mean recall over the classes with support, as
/// scikit-learn's balanced_accuracy_score), per-class precision/recall/F1/support, macro
/// averages over every class in the label set (undefined figures count as 0, as
/// scikit-learn's average='macro' with labels given) and support-weighted averages.
struct ClassificationReport {
  std::vector<std::string> class_names;
  ConfusionMatrix confusion{1};
  double accuracy = 0, balanced_accuracy = 0;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
  std::vector<ClassMetrics> per_class;
  /// True when some class's precision or recall was undefined and entered the macro
  /// averages as 0.
  bool has_undefined = false;

  /// Every figure, the per-class table, the confusion matrix (key "confusion_matrix",
  /// rows = truth, columns = predicted) and the class names. Top-level keys of the averages
  /// match metric_names().
  nlohmann::json to_json() const;
};

/// Computes the report. Throws InputError when `class_names` does not have one name per
/// class or when the matrix is empty (total() == 0).
ClassificationReport classification_report(const ConfusionMatrix& confusion,
                                           const std::vector<std::string>& class_names);

/// Looks up a figure by name for early stopping and checkpoint selection (higher is
/// better for every one). Throws InputError listing the valid names for an unknown name.
double metric_by_name(const ClassificationReport& report, const std::string& name);

/// The names metric_by_name accepts: accuracy, balanced_accuracy, macro_f1, weighted_f1,
/// macro_precision, macro_recall.
std::vector<std::string> metric_names();

}  // namespace hemapath
