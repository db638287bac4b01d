#pragma once
/// Initialising a classifier from pretrained weights for fine-tuning: a state dict converted
/// by scripts/convert_torchvision_weights.py, another classification model (.hpm), or an
/// autoencoder's encoder (.hpm from `hemapath pretrain`).
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// What was taken over; every list is sorted.
struct PretrainedReport {
  std::string source_kind;                 ///< "state dict", "classification model" or "autoencoder encoder"
  size_t loaded = 0;                       ///< tensors copied into the model
  /// Head tensors left freshly initialised: of another shape (other classes), or from an
  /// autoencoder, whose head is never trained.
  std::vector<std::string> head_reinitialised;
  std::vector<std::string> missing;        ///< backbone tensors the file lacks (left as initialised)
  std::vector<std::string> unexpected;     ///< tensors of the file the model lacks (ignored)
  /// The prior correction (`hemapath calibrate`) in the output bias of a head that was loaded:
  /// its tau and the class shares it used. Tau 0 when the file carries none or the head was not
  /// loaded.
  double head_correction_tau = 0;
  std::vector<double> head_correction_prior;
  /// One line for the log, e.g. "loaded 120 tensors from ...; head re-initialised: fc.weight, fc.bias".
  std::string summary(const std::string& path) const;
};

/// Copies the weights in `path` into `model` by name. Head tensors of another shape are
/// re-initialised (the model's own fresh initialisation is kept) and reported, and so is the
/// head of a classification model file whose classes differ from `classes` (the run's, in output
/// order; names or order): its outputs mean other classes. Empty `classes`: shapes alone decide.
/// ModelFileError naming the file when it cannot be read, when a backbone tensor has another
/// shape (a different architecture or variant), or when it matches none of the backbone's tensors.
PretrainedReport load_pretrained(ClassifierImpl& model, const std::string& path,
                                 const std::vector<std::string>& classes = {});

class SegmenterImpl;

/// Starts a segmenter's classifier backbone (the submodule `model.encoder_prefix()`, e.g. a
/// U-Net's "encoder", FCN's "backbone") from the weights in `path`: a state dict of that
/// classifier (a converted torchvision one), a classification model or an autoencoder (its
/// encoder), copied by the classifier's names. From a state dict with names under the prefix (a
/// whole segmenter's, e.g. torchvision's fcn_resnet50 "backbone.*") only those count, taken below
/// the prefix. The file's head tensors are ignored (the segmenter has no classifier head); the
/// report's `missing` and `unexpected` name backbone tensors. ConfigError when the segmenter has
/// no backbone; ModelFileError as load_pretrained when a tensor differs in shape or none matches.
PretrainedReport load_encoder_weights(SegmenterImpl& model, const std::string& path);

struct SegmenterOptions;

/// `train --pretrained` for a segmenter built as `arch` with `options`. A segmentation model file
/// starts the whole network (fine-tuning, e.g. the bundled red-cell U-Net on a lab's own smears):
/// it must be the same architecture with the same output classes (ModelFileError naming the file
/// otherwise, and when its tensors differ in name or shape, e.g. another depth or width). Any
/// other file starts the backbone only, as load_encoder_weights.
PretrainedReport load_pretrained_segmenter(SegmenterImpl& model, const std::string& arch,
                                           const SegmenterOptions& options, const std::string& path);

}  // namespace hemapath
