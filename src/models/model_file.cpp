#include "hemapath/models/model_file.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/models/ensemble.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/segmenter_registry.h"

namespace hemapath {
namespace {

constexpr char kMagic[4] = {'H', 'P', 'M', '1'};
constexpr int kFormatVersion = 1;

uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

void write_u64(std::ostream& out, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  out.write(reinterpret_cast<const char*>(b), 8);
}

bool read_u64(std::istream& in, uint64_t& v) {
  unsigned char b[8];
  if (!in.read(reinterpret_cast<char*>(b), 8)) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return true;
}

struct RawModelFile {
  nlohmann::json header;
  std::string weights;
};

RawModelFile read_raw(const std::string& path, bool with_weights) {
  HP_CHECK(std::filesystem::is_regular_file(path), ModelFileError, "model file '", path, "' does not exist");
  std::ifstream in(path, std::ios::binary);
  HP_CHECK(in, ModelFileError, "model file '", path, "' cannot be opened");
  const uint64_t file_size = std::filesystem::file_size(path);
  char magic[4] = {};
  in.read(magic, 4);
  HP_CHECK(in && std::equal(magic, magic + 4, kMagic), ModelFileError, "'", path,
           "' is not a hemapath model file (.hpm): its first bytes are not 'HPM1'");
  uint64_t header_size = 0;
  HP_CHECK(read_u64(in, header_size) && header_size <= file_size, ModelFileError, "model file '", path,
           "' is truncated or damaged (header length)");
  std::string header_text(header_size, '\0');
  HP_CHECK(in.read(header_text.data(), static_cast<std::streamsize>(header_size)), ModelFileError, "model file '",
           path, "' is truncated: the header is incomplete");
  RawModelFile raw;
  try {
    raw.header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception&) {
    throw ModelFileError("model file '" + path + "' is damaged: its header is not valid JSON");
  }
  uint64_t weight_size = 0;
  HP_CHECK(read_u64(in, weight_size) && 4 + 8 + header_size + 8 + weight_size + 8 == file_size, ModelFileError,
           "model file '", path, "' is truncated or damaged: expected ", 4 + 8 + header_size + 8 + weight_size + 8,
           " bytes, found ", file_size);
  if (with_weights) {
    raw.weights.resize(weight_size);
    in.read(raw.weights.data(), static_cast<std::streamsize>(weight_size));
    uint64_t hash = 0;
    HP_CHECK(in && read_u64(in, hash), ModelFileError, "model file '", path, "' is truncated: weights incomplete");
    HP_CHECK(hash == fnv1a(raw.weights), ModelFileError, "model file '", path,
             "' is damaged: the weights do not match their checksum");
  }
  return raw;
}

// Every parameter, then every buffer, in the module's own order: the layout of float16 files.
std::vector<torch::Tensor> module_tensors(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.named_parameters(true)) tensors.push_back(p.value());
  for (auto& b : module.named_buffers(true)) tensors.push_back(b.value());
  return tensors;
}

// Convolution and linear weights (2-D and up) are what int8 files store as integers.
bool stored_as_int8(const torch::Tensor& t) { return t.is_floating_point() && t.dim() >= 2; }

// `scale` [C] shaped to broadcast over a weight [C, ...] of `dims` dimensions.
torch::Tensor per_output_channel(const torch::Tensor& scale, int64_t dims) {
  std::vector<int64_t> shape(static_cast<size_t>(dims), 1);
  shape[0] = -1;
  return scale.view(shape);
}

// float16 and int8 files hold the module's tensors as one list: floating ones as float16, or
// (int8) each weight stored_as_int8 as two entries, its int8 values and a float32 scale per
// output channel. Other tensors are kept as they are.
std::vector<torch::Tensor> compact_tensors(torch::nn::Module& module, WeightPrecision precision) {
  std::vector<torch::Tensor> tensors;
  for (const auto& t : module_tensors(module)) {
    if (!t.is_floating_point()) {
      tensors.push_back(t.detach().cpu());
      continue;
    }
    const torch::Tensor cpu = t.detach().to(torch::kCPU, torch::kFloat);
    if (precision == WeightPrecision::int8 && stored_as_int8(cpu)) {
      const torch::Tensor scale = cpu.abs().flatten(1).amax(1).clamp_min(1e-30) / 127;
      tensors.push_back((cpu / per_output_channel(scale, cpu.dim())).round().to(torch::kChar));
      tensors.push_back(scale);
    } else {
      tensors.push_back(cpu.to(torch::kHalf));
    }
  }
  return tensors;
}

// Reads compact_tensors' list back into the module, widened to its float32.
void load_compact_weights(std::istream& stream, torch::nn::Module& module, const std::string& path) {
  std::vector<torch::Tensor> stored;
  torch::load(stored, stream);
  const std::vector<torch::Tensor> targets = module_tensors(module);
  auto misfit = [&](const std::string& why) {
    return "model file '" + path + "': its weights do not fit the architecture (" + why + ")";
  };
  torch::NoGradGuard no_grad;
  size_t next = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    HP_CHECK(next < stored.size(), ModelFileError,
             misfit(std::to_string(stored.size()) + " tensors stored, more expected"));
    torch::Tensor value = stored[next++];
    if (value.scalar_type() == torch::kChar) {  // int8 values, then their scales
      HP_CHECK(value.dim() >= 2 && next < stored.size() && stored[next].numel() == value.size(0), ModelFileError,
               misfit("tensor " + std::to_string(i) + " has no scales"));
      value = value.to(torch::kFloat) * per_output_channel(stored[next++].to(torch::kFloat), value.dim());
    }
    HP_CHECK(value.sizes() == targets[i].sizes(), ModelFileError,
             misfit("tensor " + std::to_string(i) + " has another shape"));
    targets[i].copy_(value);
  }
  HP_CHECK(next == stored.size(), ModelFileError,
           misfit(std::to_string(stored.size()) + " tensors stored, " + std::to_string(next) + " expected"));
}

// The precision weight_precision_names() gives that name, if any.
std::optional<WeightPrecision> precision_named(const std::string& name) {
  const auto& names = weight_precision_names();
  const auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) return std::nullopt;
  return static_cast<WeightPrecision>(found - names.begin());
}

void load_weights_from_bytes(const std::string& bytes, torch::nn::Module& module, const std::string& path,
                             const nlohmann::json& header) {
  try {
    std::istringstream stream(bytes);
    const std::string name = header.value("weights_precision", "float32");
    const std::optional<WeightPrecision> precision = precision_named(name);
    HP_CHECK(precision, ModelFileError, "model file '", path, "' stores its weights as '", name,
             "': expected float32, float16 or int8");
    if (*precision != WeightPrecision::float32) return load_compact_weights(stream, module, path);
    torch::serialize::InputArchive archive;
    archive.load_from(stream);
    module.load(archive);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw ModelFileError("model file '" + path + "': its weights do not fit the architecture (" +
                         what.substr(0, what.find('\n')) + ")");
  }
}

// ModelFileError unless the header is a hemapath model of `task` (`what` names it in the message).
void check_task(const nlohmann::json& j, const std::string& source, const std::string& task, const std::string& what) {
  HP_CHECK(j.value("format", "") == "hemapath-model", ModelFileError, "model file '", source,
           "' has no hemapath-model header");
  const std::string found = j.value("task", "");
  HP_CHECK(found == task, ModelFileError, "model file '", source, "' holds ",
           found.empty() ? "a model of unknown task" : "a model of task '" + found + "'", ": expected ", what);
}

// Builds the network a header describes (an unknown architecture is the file's fault) and
// fills it with the file's weights, ready for inference on `device`.
template <typename Build>
auto build_and_load(const RawModelFile& raw, const std::string& path, const c10::Device& device, Build build) {
  decltype(build()) module{nullptr};
  try {
    module = build();
  } catch (const InputError& e) {
    throw ModelFileError("model file '" + path + "': " + e.what());
  }
  load_weights_from_bytes(raw.weights, *module, path, raw.header);
  module->to(device);
  module->eval();
  return module;
}

}  // namespace

const std::vector<std::string>& weight_precision_names() {
  static const std::vector<std::string> names{"float32", "float16", "int8"};  // in WeightPrecision's order
  return names;
}

WeightPrecision weight_precision(const std::string& name, const std::string& option) {
  const std::optional<WeightPrecision> precision = precision_named(name);
  HP_CHECK(precision, ConfigError, option, " '", name, "': expected float32, float16 or int8");
  return *precision;
}

nlohmann::json model_header_base(const std::string& task) {
  return {{"format", "hemapath-model"},
          {"format_version", kFormatVersion},
          {"hemapath_version", HEMAPATH_VERSION},
          {"task", task}};
}

nlohmann::json ClassifierHeader::to_json() const {
  nlohmann::json j = model_header_base("classification");
  j.update({{"arch", arch},
            {"options",
             {{"num_classes", options.num_classes},
              {"in_channels", options.in_channels},
              {"dropout", options.dropout},
              {"extra", options.extra}}},
            {"classes", classes},
            {"input", {{"size", crop.size}, {"channels", options.in_channels}, {"crop", crop.to_json()}}},
            {"normalization", normalization.to_json()},
            {"training", training},
            {"metrics", metrics}});
  return j;
}

ClassificationDataOptions ClassifierHeader::inference_data_options() const {
  ClassificationDataOptions o;
  o.crop = crop;
  o.augment.enabled = false;
  o.normalization = normalization;
  return o;
}

ClassifierHeader ClassifierHeader::from_json(const nlohmann::json& j, const std::string& source) {
  check_task(j, source, "classification", "a classification model");
  ClassifierHeader h;
  try {
    h.arch = j.at("arch").get<std::string>();
    const auto& o = j.at("options");
    h.options.num_classes = o.at("num_classes").get<int64_t>();
    h.options.in_channels = o.at("in_channels").get<int64_t>();
    h.options.dropout = o.at("dropout").get<double>();
    h.options.extra = o.at("extra");
    h.classes = j.at("classes").get<std::vector<std::string>>();
    h.crop = CropOptions::from_json(j.at("input").at("crop"));
    h.normalization = Normalization::from_json(j.at("normalization"));
    h.training = j.value("training", nlohmann::json::object());
    h.metrics = j.value("metrics", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("model file '" + source + "' has a malformed header: " + e.what());
  }
  HP_CHECK(static_cast<int64_t>(h.classes.size()) == h.options.num_classes, ModelFileError, "model file '", source,
           "' names ", h.classes.size(), " classes but its head has ", h.options.num_classes, " outputs");
  return h;
}

nlohmann::json AutoencoderHeader::to_json() const {
  nlohmann::json j = model_header_base("autoencoder");
  j.update({{"arch", options.arch},
            {"options", {{"extra", options.extra}, {"decoder_width", options.decoder_width}}},
            {"input", {{"size", crop.size}, {"channels", 3}, {"crop", crop.to_json()}}},
            {"normalization", normalization.to_json()},
            {"training", training},
            {"metrics", metrics}});
  return j;
}

AutoencoderHeader AutoencoderHeader::from_json(const nlohmann::json& j, const std::string& source) {
  check_task(j, source, "autoencoder", "an autoencoder");
  AutoencoderHeader h;
  try {
    h.options.arch = j.at("arch").get<std::string>();
    h.options.extra = j.at("options").at("extra");
    h.options.decoder_width = j.at("options").at("decoder_width").get<int64_t>();
    h.crop = CropOptions::from_json(j.at("input").at("crop"));
    h.options.input_size = h.crop.size;
    h.normalization = Normalization::from_json(j.at("normalization"));
    h.training = j.value("training", nlohmann::json::object());
    h.metrics = j.value("metrics", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("model file '" + source + "' has a malformed header: " + e.what());
  }
  return h;
}

nlohmann::json SegmenterHeader::to_json() const {
  nlohmann::json j = model_header_base("segmentation");
  j.update({{"arch", arch},
            {"options", {{"num_classes", options.num_classes}, {"in_channels", options.in_channels}, {"extra", options.extra}}},
            {"classes", classes},
            {"target", target},
            {"input", {{"scale", scale}, {"channels", options.in_channels}, {"output_stride", output_stride}}},
            {"normalization", normalization.to_json()},
            {"instances", instances},
            {"training", training},
            {"metrics", metrics}});
  return j;
}

SegmenterHeader SegmenterHeader::from_json(const nlohmann::json& j, const std::string& source) {
  check_task(j, source, "segmentation", "a segmentation model");
  SegmenterHeader h;
  try {
    h.arch = j.at("arch").get<std::string>();
    const auto& o = j.at("options");
    h.options.num_classes = o.at("num_classes").get<int64_t>();
    h.options.in_channels = o.at("in_channels").get<int64_t>();
    h.options.extra = o.at("extra");
    h.classes = j.at("classes").get<std::vector<std::string>>();
    h.target = j.value("target", "classes");
    h.scale = j.at("input").at("scale").get<double>();
    h.output_stride = j.at("input").at("output_stride").get<int64_t>();
    h.normalization = Normalization::from_json(j.at("normalization"));
    h.instances = j.value("instances", nlohmann::json::object());
    h.training = j.value("training", nlohmann::json::object());
    h.metrics = j.value("metrics", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("model file '" + source + "' has a malformed header: " + e.what());
  }
  const size_t expected = h.options.num_classes == 1 ? 2 : static_cast<size_t>(h.options.num_classes);
  HP_CHECK(h.classes.size() >= 2 && h.classes.size() == expected, ModelFileError, "model file '", source, "' names ",
           h.classes.size(), " classes but its network has ", h.options.num_classes, " output channels");
  HP_CHECK(h.target != "boundary" || h.classes.size() == 3, ModelFileError, "model file '", source,
           "' has target 'boundary' but ", h.classes.size(), " classes: expected background, interior, boundary");
  HP_CHECK(h.scale > 0 && h.output_stride >= 1, ModelFileError, "model file '", source,
           "' has an invalid input scale or stride");
  return h;
}

namespace {

// The layout of the file comment in model_file.h, written atomically.
void write_model_bytes(const std::string& path, const nlohmann::json& header, const std::string& weights) {
  const std::string header_text = header.dump();
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    out.write(kMagic, 4);
    write_u64(out, header_text.size());
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    write_u64(out, weights.size());
    out.write(weights.data(), static_cast<std::streamsize>(weights.size()));
    write_u64(out, fnv1a(weights));
    out.flush();
    HP_CHECK(out.good(), OutputError, "cannot write model file '", path, "'");
  }
  file.commit();
}

}  // namespace

void save_model_file(const std::string& path, nlohmann::json header, torch::nn::Module& module,
                     WeightPrecision precision) {
  std::ostringstream weights_stream;
  if (precision != WeightPrecision::float32) {
    torch::save(compact_tensors(module, precision), weights_stream);
    header["weights_precision"] = weight_precision_names()[static_cast<size_t>(precision)];
  } else {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    archive.save_to(weights_stream);
    header.erase("weights_precision");
  }
  write_model_bytes(path, header, weights_stream.str());
}

void copy_model_file_with_header(const std::string& from, const std::string& to, const nlohmann::json& header) {
  HP_CHECK(!is_same_existing_file(from, to), InputError, "'", to,
           "' is the model file being read: write to another file");
  write_model_bytes(to, header, read_raw(from, true).weights);
}

nlohmann::json read_model_header(const std::string& path) { return read_raw(path, false).header; }

LoadedClassifier load_classifier(const std::string& path, const c10::Device& device) {
  RawModelFile raw = read_raw(path, true);
  LoadedClassifier loaded;
  loaded.header = ClassifierHeader::from_json(raw.header, path);
  const ClassifierHeader& h = loaded.header;
  loaded.model = build_and_load(raw, path, device, [&] {
    return h.arch == kEnsembleArch ? create_ensemble(h.options) : create_classifier(h.arch, h.options);
  });
  return loaded;
}

LoadedAutoencoder load_autoencoder(const std::string& path, const c10::Device& device) {
  RawModelFile raw = read_raw(path, true);
  LoadedAutoencoder loaded;
  loaded.header = AutoencoderHeader::from_json(raw.header, path);
  loaded.model = build_and_load(raw, path, device, [&] { return Autoencoder(loaded.header.options); });
  return loaded;
}

LoadedSegmenter load_segmenter(const std::string& path, const c10::Device& device) {
  RawModelFile raw = read_raw(path, true);
  LoadedSegmenter loaded;
  loaded.header = SegmenterHeader::from_json(raw.header, path);
  loaded.model =
      build_and_load(raw, path, device, [&] { return create_segmenter(loaded.header.arch, loaded.header.options); });
  return loaded;
}

}  // namespace hemapath
