#pragma once
/// Classifier ensembles: trained classifiers of the same classes, crop and normalisation held
/// in one model file (`hemapath ensemble`). An ensemble's output is the mean of its members'
/// log-probabilities: the log of their geometric-mean probability up to a per-image constant,
/// which softmax removes. So predict, eval, analyze and symmetry averaging take an ensemble
/// file as they take any classifier. Independently seeded runs err on different cells, which
/// is what the mean gains from. Ensembles are for inference: they are never trained or
/// fine-tuned themselves.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "hemapath/models/classifier.h"
#include "hemapath/models/model_file.h"

namespace hemapath {

/// The architecture name of an ensemble in a model file's header; its members are listed in
/// options.extra.members, each {"arch", "dropout", "extra"}.
inline constexpr const char* kEnsembleArch = "ensemble";

class EnsembleClassifierImpl : public ClassifierImpl {
 public:
  /// Members "members.0", "members.1" ... (at least two, else InputError).
  explicit EnsembleClassifierImpl(std::vector<ClassifierPtr> members);
  /// Mean over the members of log_softmax(member(x)), [N, num_classes].
  torch::Tensor forward(torch::Tensor x) override;
  /// An ensemble has no single head or feature map: ConfigError (it cannot be fine-tuned or
  /// serve as an encoder).
  std::string head_prefix() const override;
  torch::Tensor forward_features(torch::Tensor x) override;
  size_t size() const { return members_.size(); }
  ClassifierImpl& member(size_t i) const { return *members_.at(i); }

 private:
  std::vector<ClassifierPtr> members_;
};

/// The (untrained) ensemble an ensemble header's options describe. ConfigError when
/// options.extra.members is missing, lists fewer than two members or a malformed one;
/// InputError for an unknown member architecture.
ClassifierPtr create_ensemble(const ClassifierOptions& options);

/// Loads the classifier model files `members` (at least two) and writes them to `path` as one
/// ensemble model file, whose header keeps each member's training config and metrics, and the
/// members' config as its own when they were all trained on the same data and split.
/// InputError naming the file whose classes, crop, normalisation or channels differ from the
/// first member's, or that is itself an ensemble; ModelFileError for an unusable file.
/// Returns the ensemble's header.
ClassifierHeader save_ensemble_file(const std::vector<std::string>& members, const std::string& path,
                                    WeightPrecision precision);

}  // namespace hemapath
