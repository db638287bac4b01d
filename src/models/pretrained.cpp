#include "hemapath/models/pretrained.h"

#include <fstream>

#include "hemapath/core/error.h"
#include "hemapath/models/ensemble.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/weight_import.h"

namespace hemapath {
namespace {

bool is_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in && std::string(magic, 4) == "HPM1";
}

bool under(const std::string& name, const std::string& prefix) { return name.rfind(prefix + ".", 0) == 0; }

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// The weights `path` holds, what kind of file it is and, for a model file, its header.
StateDict read_weights(const std::string& path, std::string& kind, nlohmann::json& header) {
  if (!is_model_file(path)) {
    kind = "state dict";
    return read_state_dict(path);
  }
  header = read_model_header(path);
  const std::string task = header.value("task", "");
  if (task == "autoencoder") {
    kind = "autoencoder encoder";
    return state_dict_of(load_autoencoder(path, c10::kCPU).model->encoder());
  }
  HP_CHECK(task == "classification", ModelFileError, "--pretrained '", path, "' is a ",
           task.empty() ? "model of unknown task" : task + " model",
           ": expected a classification model, an autoencoder or a state dict");
  HP_CHECK(header.value("arch", "") != kEnsembleArch, ModelFileError, "--pretrained '", path,
           "' is an ensemble of classifiers: start from one of its member files");
  kind = "classification model";
  return state_dict_of(*load_classifier(path, c10::kCPU).model);
}

}  // namespace

std::string PretrainedReport::summary(const std::string& path) const {
  std::string text = "loaded " + std::to_string(loaded) + " tensors from " + source_kind + " '" + path + "'";
  if (!head_reinitialised.empty()) text += "; head freshly initialised: " + join(head_reinitialised);
  if (!missing.empty()) text += "; " + std::to_string(missing.size()) + " not in the file (kept as initialised)";
  if (!unexpected.empty()) text += "; " + std::to_string(unexpected.size()) + " of the file's tensors unused";
  return text;
}

PretrainedReport load_pretrained(ClassifierImpl& model, const std::string& path,
                                 const std::vector<std::string>& classes) {
  PretrainedReport report;
  nlohmann::json header;
  StateDict weights = read_weights(path, report.source_kind, header);
  const std::string head = model.head_prefix();
  const StateDict own = state_dict_of(model);
  // A head of another shape is what fine-tuning to new classes expects: drop it from the
  // import so the model keeps its fresh head. An autoencoder's head was never trained.
  // Nor is a head whose outputs are other classes, even in the same number.
  const bool untrained_head = report.source_kind == "autoencoder encoder";
  const bool other_classes = report.source_kind == "classification model" && !classes.empty() &&
                             header.value("classes", std::vector<std::string>{}) != classes;
  for (const auto& [name, tensor] : own) {
    auto it = weights.find(name);
    if (under(name, head) && it != weights.end() &&
        (untrained_head || other_classes || it->second.sizes() != tensor.sizes())) {
      report.head_reinitialised.push_back(name);
      weights.erase(it);
    }
  }
  const ImportReport imported = import_state_dict(model, weights, /*strict=*/false, path);
  HP_CHECK(imported.shape_mismatch.empty(), ModelFileError, "--pretrained '", path, "' does not fit ",
           "this architecture: ", imported.shape_mismatch.size(), " tensors differ in shape (e.g. ",
           imported.shape_mismatch.front(), ")");
  size_t backbone_loaded = 0;
  for (const auto& name : imported.loaded) backbone_loaded += !under(name, head);
  HP_CHECK(backbone_loaded > 0, ModelFileError, "--pretrained '", path,
           "' matches none of this architecture's backbone tensors: is it for another architecture?");
  report.loaded = imported.loaded.size();
  for (const auto& name : imported.missing)
    if (!under(name, head)) report.missing.push_back(name);
  report.unexpected = imported.unexpected;
  if (report.head_reinitialised.empty() && header.contains("calibration")) {
    report.head_correction_tau = header["calibration"].value("tau", 0.0);
    report.head_correction_prior = header["calibration"].value("class_prior", std::vector<double>{});
  }
  return report;
}

PretrainedReport load_pretrained_segmenter(SegmenterImpl& model, const std::string& arch,
                                           const SegmenterOptions& options, const std::string& path) {
  const nlohmann::json header = is_model_file(path) ? read_model_header(path) : nlohmann::json::object();
  if (header.value("task", "") != "segmentation") return load_encoder_weights(model, path);
  const SegmenterHeader file = SegmenterHeader::from_json(header, path);
  HP_CHECK(file.arch == arch, ModelFileError, "--pretrained '", path, "' is a ", file.arch,
           " segmentation model and this run trains a ", arch,
           ": a whole segmentation network starts only from one of its own architecture");
  HP_CHECK(file.options.num_classes == options.num_classes, ModelFileError, "--pretrained '", path, "' has ",
           file.options.num_classes, " output channels and this run ", options.num_classes,
           ": a whole segmentation network starts only from one with the same classes");
  // By name with every shape checked: another depth or width is an error, not a silent reshape.
  const ImportReport imported =
      import_state_dict(model, state_dict_of(*load_segmenter(path, c10::kCPU).model), /*strict=*/true, path);
  PretrainedReport report;
  report.source_kind = "segmentation model";
  report.loaded = imported.loaded.size();
  return report;
}

PretrainedReport load_encoder_weights(SegmenterImpl& model, const std::string& path) {
  const ClassifierPtr encoder = model.encoder();
  HP_CHECK(encoder != nullptr, ConfigError, "--pretrained '", path, "': this segmentation network (", model.name(),
           ") has no classifier backbone to load it into");
  const std::string prefix = model.encoder_prefix();
  PretrainedReport report;
  nlohmann::json header;
  StateDict file = read_weights(path, report.source_kind, header);
  // A whole segmenter's state dict (torchvision's fcn_resnet50: "backbone.*", "classifier.*"):
  // only its backbone counts. A classifier's names never start with "encoder." or "backbone.".
  bool prefixed = false;
  for (const auto& entry : file) prefixed = prefixed || under(entry.first, prefix);
  StateDict weights;
  const std::string head = encoder->head_prefix();
  for (auto& [name, tensor] : file) {
    if (prefixed && !under(name, prefix)) continue;
    const std::string own = prefixed ? name.substr(prefix.size() + 1) : name;
    if (!under(own, head)) weights.emplace(own, std::move(tensor));
  }
  const ImportReport imported = import_state_dict(*encoder, weights, /*strict=*/false, path);
  HP_CHECK(imported.shape_mismatch.empty(), ModelFileError, "--pretrained '", path, "' does not fit the ",
           prefix, " of this network: ", imported.shape_mismatch.size(), " tensors differ in shape (e.g. ",
           imported.shape_mismatch.front(), ")");
  HP_CHECK(!imported.loaded.empty(), ModelFileError, "--pretrained '", path, "' matches none of the ", prefix,
           "'s tensors: is it for another architecture?");
  report.loaded = imported.loaded.size();
  report.missing = imported.missing;
  report.unexpected = imported.unexpected;
  return report;
}

}  // namespace hemapath
