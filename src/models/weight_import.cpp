#include "hemapath/models/weight_import.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << '[';
  for (int64_t d = 0; d < t.dim(); ++d) out << (d ? "," : "") << t.size(d);
  out << ']';
  return out.str();
}

// "name: [a,b] vs [c,d]"; the dtypes are added only when they are what differs, so the usual
// case stays short.
std::string mismatch_text(const std::string& name, const torch::Tensor& given,
                          const torch::Tensor& wanted) {
  std::string text = name + ": " + shape_text(given);
  if (given.scalar_type() != wanted.scalar_type()) text += std::string(" ") + c10::toString(given.scalar_type());
  text += " vs " + shape_text(wanted);
  if (given.scalar_type() != wanted.scalar_type()) text += std::string(" ") + c10::toString(wanted.scalar_type());
  return text;
}

// "3 missing (a, b, c, ...)": enough names to act on without flooding the message.
std::string summary(const std::vector<std::string>& names, const std::string& what) {
  constexpr size_t kShown = 5;
  std::string text = std::to_string(names.size()) + " " + what + " (";
  for (size_t i = 0; i < std::min(names.size(), kShown); ++i) text += (i ? "; " : "") + names[i];
  if (names.size() > kShown) text += "; ...";
  return text + ")";
}

}  // namespace

StateDict read_state_dict(const std::string& path) {
  HP_CHECK(std::filesystem::is_regular_file(path), ModelFileError, "state-dict file '", path,
           "' does not exist");
  std::ifstream in(path, std::ios::binary);
  HP_CHECK(in, ModelFileError, "cannot open state-dict file '", path, "'");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const std::string expected = "': expected a dict of name -> tensor saved by torch.save (zip format)";
  torch::IValue value;
  try {
    // LibTorch's own reader of torch.save's zip archive (data.pkl + one record per storage).
    value = torch::pickle_load(bytes);
  } catch (const std::exception& error) {
    std::string reason = error.what();
    reason = reason.substr(0, reason.find('\n'));  // c10 errors append a long backtrace
    // A torchvision .pth (an OrderedDict with metadata) or a legacy-format file ends up here.
    throw ModelFileError("cannot read state-dict file '" + path + expected +
                         "; convert torchvision weights with scripts/convert_torchvision_weights.py (" +
                         reason + ")");
  }
  HP_CHECK(value.isGenericDict(), ModelFileError, "state-dict file '", path, expected, ", got ",
           value.tagKind());

  StateDict weights;
  for (const auto& item : value.toGenericDict()) {
    HP_CHECK(item.key().isString(), ModelFileError, "state-dict file '", path, expected,
             ", got a key of type ", item.key().tagKind());
    const std::string name = item.key().toStringRef();
    HP_CHECK(item.value().isTensor(), ModelFileError, "state-dict file '", path, expected,
             ", got '", name, "' of type ", item.value().tagKind());
    weights[name] = item.value().toTensor();
  }
  return weights;
}

StateDict state_dict_of(const torch::nn::Module& module) {
  StateDict weights;
  for (const auto& item : module.named_parameters()) weights[item.key()] = item.value().detach();
  for (const auto& item : module.named_buffers()) weights[item.key()] = item.value().detach();
  return weights;
}

ImportReport import_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict,
                               const std::string& source) {
  // Parameters and buffers under one namespace of names, as PyTorch's state_dict() has them.
  StateDict targets;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) targets[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) targets[item.key()] = item.value();

  ImportReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (target, source)
  for (const auto& [name, target] : targets) {
    auto found = weights.find(name);
    if (found == weights.end()) {
      report.missing.push_back(name);
    } else if (!found->second.defined() || found->second.sizes() != target.sizes() ||
               found->second.scalar_type() != target.scalar_type()) {
      report.shape_mismatch.push_back(found->second.defined()
                                          ? mismatch_text(name, found->second, target)
                                          : name + ": undefined vs " + shape_text(target));
    } else {
      report.loaded.push_back(name);
      copies.emplace_back(target, found->second);
    }
  }
  for (const auto& item : weights) {
    if (targets.count(item.first) == 0) report.unexpected.push_back(item.first);
  }

  if (strict) {
    std::vector<std::string> problems;
    if (!report.missing.empty()) problems.push_back(summary(report.missing, "missing"));
    if (!report.unexpected.empty()) problems.push_back(summary(report.unexpected, "unexpected"));
    if (!report.shape_mismatch.empty()) {
      problems.push_back(summary(report.shape_mismatch, "of another shape or dtype (file vs model)"));
    }
    if (!problems.empty()) {
      std::string text;
      for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
      // Checked before any copy, so a failed strict import leaves the module untouched.
      throw ModelFileError("weights in '" + source + "' do not match the model: " + text);
    }
  }

  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  return report;
}

}  // namespace hemapath
