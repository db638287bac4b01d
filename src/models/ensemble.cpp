#include "hemapath/models/ensemble.h"

#include <algorithm>
#include <filesystem>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/models/registry.h"

namespace hemapath {
namespace fs = std::filesystem;

EnsembleClassifierImpl::EnsembleClassifierImpl(std::vector<ClassifierPtr> members) : members_(std::move(members)) {
  HP_CHECK(members_.size() >= 2, InputError, "an ensemble needs at least two classifiers, got ", members_.size());
  torch::nn::ModuleList list;
  for (const auto& member : members_) list->push_back(member);
  register_module("members", list);
}

torch::Tensor EnsembleClassifierImpl::forward(torch::Tensor x) {
  torch::Tensor sum = torch::log_softmax(members_[0]->forward(x), 1);
  for (size_t i = 1; i < members_.size(); ++i) sum = sum + torch::log_softmax(members_[i]->forward(x), 1);
  return sum / static_cast<double>(members_.size());
}

std::string EnsembleClassifierImpl::head_prefix() const {
  throw ConfigError("an ensemble of classifiers has no single head: fine-tune one of its members instead");
}

torch::Tensor EnsembleClassifierImpl::forward_features(torch::Tensor) {
  throw ConfigError("an ensemble of classifiers has no single feature map: use one of its members as an encoder");
}

ClassifierPtr create_ensemble(const ClassifierOptions& options) {
  const nlohmann::json& list =
      options.extra.is_object() ? options.extra.value("members", nlohmann::json()) : nlohmann::json();
  HP_CHECK(list.is_array() && list.size() >= 2, ConfigError,
           "an ensemble's extra.members must list at least two member classifiers");
  std::vector<ClassifierPtr> members;
  for (const auto& entry : list) {
    HP_CHECK(entry.is_object() && entry.contains("arch") && entry["arch"].is_string() && entry.contains("dropout") &&
                 entry["dropout"].is_number(),
             ConfigError, "an ensemble member must be {\"arch\", \"dropout\", \"extra\"}, got ", entry.dump());
    ClassifierOptions member = options;
    member.dropout = entry["dropout"].get<double>();
    member.extra = entry.value("extra", nlohmann::json::object());
    const std::string arch = entry["arch"].get<std::string>();
    HP_CHECK(arch != kEnsembleArch, ConfigError, "an ensemble member cannot itself be an ensemble");
    members.push_back(create_classifier(arch, member));
  }
  return std::make_shared<EnsembleClassifierImpl>(std::move(members));
}

namespace {

// InputError naming `path` unless its header describes the same task inputs and outputs as `first`'s.
void check_same_task(const ClassifierHeader& first, const std::string& first_path, const ClassifierHeader& h,
                     const std::string& path) {
  auto differs = [&](const char* what) {
    return "ensemble: '" + path + "' has other " + what + " than '" + first_path + "'";
  };
  HP_CHECK(h.classes == first.classes, InputError, differs("classes"));
  HP_CHECK(h.options.in_channels == first.options.in_channels, InputError, differs("input channels"));
  HP_CHECK(h.crop.to_json() == first.crop.to_json(), InputError, differs("crop settings"));
  HP_CHECK(h.normalization.to_json() == first.normalization.to_json(), InputError,
           differs("normalisation statistics") + " (train the members on the same split)");
}

// The data section of a member's training config, its file paths made absolute: one run may
// have been given the labels as runs/x/labels.csv, another as /home/lab/project/runs/x/labels.csv.
// Null when the member records no config.
nlohmann::json training_data(const ClassifierHeader& h) {
  // A cross-validation fold trained on its own parts, not on its config's split.
  if (h.training.is_object() && h.training.contains("split_origin")) return nullptr;
  const nlohmann::json* config =
      h.training.is_object() && h.training.contains("config") ? &h.training["config"] : nullptr;
  if (!config || !config->is_object() || !config->contains("data")) return nullptr;
  nlohmann::json data = (*config)["data"];
  if (data.is_object() && data.contains("spec") && data["spec"].is_object())
    for (auto& [key, value] : data["spec"].items())
      if (value.is_string() && !value.get<std::string>().empty())
        value = fs::weakly_canonical(fs::absolute(value.get<std::string>())).string();
  return data;
}

}  // namespace

ClassifierHeader save_ensemble_file(const std::vector<std::string>& members, const std::string& path,
                                    WeightPrecision precision) {
  HP_CHECK(members.size() >= 2, InputError, "ensemble: give at least two classifier model files, got ", members.size());
  std::vector<LoadedClassifier> loaded;
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string& member = members[i];
    HP_CHECK(!is_same_existing_file(member, path), InputError, "ensemble: '", path,
             "' is one of the members: write to another file");
    for (size_t j = 0; j < i; ++j)
      HP_CHECK(!is_same_existing_file(members[j], member), InputError, "ensemble: '", member,
               "' is listed twice");
    // The ensemble's header could not say so, and calibrating it would correct twice. Checked on
    // the header alone, before the weights are read.
    HP_CHECK(!read_model_header(member).contains("calibration"), InputError, "ensemble: '", member,
             "' carries a prior correction: join the uncorrected files, then calibrate the ensemble");
    loaded.push_back(load_classifier(member, c10::kCPU));
    const ClassifierHeader& h = loaded.back().header;
    HP_CHECK(h.arch != kEnsembleArch, InputError, "ensemble: '", member,
             "' is already an ensemble: list its member files instead");
    check_same_task(loaded.front().header, members.front(), h, member);
  }
  ClassifierHeader header = loaded.front().header;
  header.arch = kEnsembleArch;
  header.options.dropout = -1;
  header.options.extra = {{"members", nlohmann::json::array()}};
  header.training = {{"members", nlohmann::json::array()}};
  header.metrics = {{"members", nlohmann::json::array()}};
  std::vector<ClassifierPtr> networks;
  for (size_t i = 0; i < loaded.size(); ++i) {
    const ClassifierHeader& h = loaded[i].header;
    header.options.extra["members"].push_back(
        {{"arch", h.arch}, {"dropout", h.options.dropout}, {"extra", h.options.extra}});
    nlohmann::json training = h.training;
    training["file"] = fs::path(members[i]).filename().string();
    header.training["members"].push_back(training);
    header.metrics["members"].push_back(h.metrics);
    networks.push_back(loaded[i].model);
  }
  // The split the members share (all were trained on the same data and split) is the
  // ensemble's, so that `eval --split val|test` can recompute it; members of different splits
  // leave it out, as every part of either split was seen in training by one of them.
  const nlohmann::json data = training_data(loaded.front().header);
  const bool one_split = !data.is_null() && std::all_of(loaded.begin(), loaded.end(),
                                                        [&](const auto& m) { return training_data(m.header) == data; });
  if (one_split) header.training["config"] = loaded.front().header.training["config"];
  EnsembleClassifierImpl ensemble(std::move(networks));
  save_model_file(path, header.to_json(), ensemble, precision);
  return header;
}

}  // namespace hemapath
