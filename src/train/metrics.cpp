#include "hemapath/train/metrics.h"

#include "hemapath/core/error.h"

namespace hemapath {

ConfusionMatrix::ConfusionMatrix(int num_classes) : num_classes_(num_classes) {
  HP_CHECK(num_classes >= 1, InputError, "confusion matrix: got ", num_classes, " classes, expected at least 1");
  counts_.assign(static_cast<size_t>(num_classes) * num_classes, 0);
}

void ConfusionMatrix::add(int truth, int predicted, int64_t count) {
  HP_CHECK(truth >= 0 && truth < num_classes_, InputError, "confusion matrix: true class ", truth,
           " is out of range, expected 0..", num_classes_ - 1);
  HP_CHECK(predicted >= 0 && predicted < num_classes_, InputError, "confusion matrix: predicted class ", predicted,
           " is out of range, expected 0..", num_classes_ - 1);
  HP_CHECK(count >= 0, InputError, "confusion matrix: a count of ", count, " samples is invalid");
  counts_[static_cast<size_t>(truth) * num_classes_ + predicted] += count;
  total_ += count;
}

int64_t ConfusionMatrix::at(int truth, int predicted) const {
  HP_CHECK(truth >= 0 && truth < num_classes_ && predicted >= 0 && predicted < num_classes_, InputError,
           "confusion matrix: cell (", truth, ", ", predicted, ") is out of range, expected 0..", num_classes_ - 1);
  return counts_[static_cast<size_t>(truth) * num_classes_ + predicted];
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  HP_CHECK(other.num_classes_ == num_classes_, InputError, "cannot merge a confusion matrix of ", other.num_classes_,
           " classes into one of ", num_classes_, " classes");
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

std::vector<std::vector<int64_t>> ConfusionMatrix::rows() const {
  std::vector<std::vector<int64_t>> out(num_classes_);
  for (int t = 0; t < num_classes_; ++t)
    out[t].assign(counts_.begin() + static_cast<ptrdiff_t>(t) * num_classes_,
                  counts_.begin() + static_cast<ptrdiff_t>(t + 1) * num_classes_);
  return out;
}

ClassificationReport classification_report(const ConfusionMatrix& confusion,
                                           const std::vector<std::string>& class_names) {
  const int n = confusion.num_classes();
  HP_CHECK(static_cast<int>(class_names.size()) == n, InputError, "classification report: ", class_names.size(),
           " class names for a confusion matrix of ", n, " classes, expected one name per class");
  HP_CHECK(confusion.total() > 0, InputError,
           "classification report: the confusion matrix is empty, expected at least one evaluated sample");

  ClassificationReport r;
  r.class_names = class_names;
  r.confusion = confusion;
  const double total = static_cast<double>(confusion.total());
  int64_t correct = 0;
  int classes_with_support = 0;
  double recall_sum_supported = 0;
  for (int c = 0; c < n; ++c) {
    int64_t tp = confusion.at(c, c), support = 0, predicted = 0;
    for (int k = 0; k < n; ++k) {
      support += confusion.at(c, k);
      predicted += confusion.at(k, c);
    }
    correct += tp;
    ClassMetrics m;
    m.name = class_names[c];
    m.support = support;
    m.precision_undefined = predicted == 0;
    m.recall_undefined = support == 0;
    m.precision = predicted > 0 ? static_cast<double>(tp) / predicted : 0.0;
    m.recall = support > 0 ? static_cast<double>(tp) / support : 0.0;
    // 2tp / (2tp + fp + fn) equals 2PR/(P+R) where both are defined and is 0 (not NaN)
    // when tp == 0, as scikit-learn reports it.
    const int64_t f1_den = support + predicted;
    m.f1 = f1_den > 0 ? 2.0 * tp / f1_den : 0.0;
    if (m.precision_undefined || m.recall_undefined) r.has_undefined = true;
    if (support > 0) {
      ++classes_with_support;
      recall_sum_supported += m.recall;
    }
    r.macro_precision += m.precision / n;
    r.macro_recall += m.recall / n;
    r.macro_f1 += m.f1 / n;
    const double w = support / total;
    r.weighted_precision += w * m.precision;
    r.weighted_recall += w * m.recall;
    r.weighted_f1 += w * m.f1;
    r.per_class.push_back(m);
  }
  r.accuracy = correct / total;
  r.balanced_accuracy = recall_sum_supported / classes_with_support;  // total > 0 => >= 1 class
  return r;
}

nlohmann::json ClassificationReport::to_json() const {
  nlohmann::json j;
  j["class_names"] = class_names;
  j["num_samples"] = confusion.total();
  j["accuracy"] = accuracy;
  j["balanced_accuracy"] = balanced_accuracy;
  j["macro_precision"] = macro_precision;
  j["macro_recall"] = macro_recall;
  j["macro_f1"] = macro_f1;
  j["weighted_precision"] = weighted_precision;
  j["weighted_recall"] = weighted_recall;
  j["weighted_f1"] = weighted_f1;
  j["has_undefined"] = has_undefined;
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& m : per_class) {
    classes.push_back({{"name", m.name},
                       {"precision", m.precision},
                       {"recall", m.recall},
                       {"f1", m.f1},
                       {"support", m.support},
                       {"precision_undefined", m.precision_undefined},
                       {"recall_undefined", m.recall_undefined}});
  }
  j["per_class"] = classes;
  j["confusion_matrix"] = confusion.rows();
  j["confusion_matrix_layout"] = "rows = truth, columns = predicted";
  return j;
}

std::vector<std::string> metric_names() {
  return {"accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall"};
}

double metric_by_name(const ClassificationReport& report, const std::string& name) {
  if (name == "accuracy") return report.accuracy;
  if (name == "balanced_accuracy") return report.balanced_accuracy;
  if (name == "macro_f1") return report.macro_f1;
  if (name == "weighted_f1") return report.weighted_f1;
  if (name == "macro_precision") return report.macro_precision;
  if (name == "macro_recall") return report.macro_recall;
  std::string valid;
  for (const auto& n : metric_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw InputError("unknown metric '" + name + "': expected one of " + valid);
}

}  // namespace hemapath
