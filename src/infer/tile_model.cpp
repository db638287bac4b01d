#include "hemapath/infer/tile_model.h"

#include <filesystem>
#include <fstream>

#include <torch/script.h>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/infer/inference_engine.h"
#include "hemapath/models/model_file.h"

namespace hemapath {
namespace {

// Softmax over classes, or (1 - p, p) for a single foreground channel.
torch::Tensor to_probabilities(const torch::Tensor& output, bool logits) {
  if (output.size(1) == 1) {
    const torch::Tensor p = logits ? torch::sigmoid(output) : output;
    return torch::cat({1 - p, p}, 1);
  }
  return logits ? torch::softmax(output, 1) : output;
}

class HpmTileModel : public TileModel {
 public:
  HpmTileModel(const std::string& path, const InferenceOptions& inference)
      : loaded_(load_segmenter(path, inference.device)),
        engine_(loaded_.model, [model = loaded_.model](const torch::Tensor& x) { return model->forward(x); },
                inference) {
    const SegmenterHeader& h = loaded_.header;
    info_.source = path;
    info_.kind = "hpm";
    info_.classes = h.classes;
    info_.normalization = h.normalization;
    // The network works at the training images' mpp over data.scale (when the config said it).
    const nlohmann::json data = h.training.value("config", nlohmann::json::object()).value("data", nlohmann::json::object());
    if (data.value("mpp", 0.0) > 0) info_.mpp = data["mpp"].get<double>() / h.scale;
    if (data.contains("stain") && data["stain"].is_object())
      info_.stain = StainNormalizer::from_json(data["stain"], path + " (training stain normaliser)");
    info_.stride = h.output_stride;
    info_.target = h.target;
    info_.instances = h.instances;
    if (h.arch == "mrn") info_.context_ratio = h.options.extra.value("context_ratio", 4.0);
  }
  torch::Tensor probabilities(const torch::Tensor& tiles) override {
    torch::InferenceMode guard;
    return to_probabilities(engine_(tiles).to(torch::kFloat), true).to(torch::kCPU);
  }

 private:
  LoadedSegmenter loaded_;
  InferenceEngine engine_;
};

class TorchScriptTileModel : public TileModel {
 public:
  TorchScriptTileModel(const std::string& path, const InferenceOptions& inference) : device_(inference.device) {
    const std::string sidecar_path = std::filesystem::path(path).replace_extension(".json").string();
    HP_CHECK(std::filesystem::is_regular_file(sidecar_path), ModelFileError, "TorchScript model '", path,
             "' needs a JSON sidecar '", sidecar_path, "' (classes, mpp, normalization)");
    nlohmann::json sidecar;
    try {
      std::ifstream in(sidecar_path);
      sidecar = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw ModelFileError("sidecar '" + sidecar_path + "' is not valid JSON: " + e.what());
    }
    info_.source = path;
    info_.kind = "torchscript";
    logits_ = read_torchscript_sidecar(sidecar, sidecar_path, info_);
    try {
      module_ = torch::jit::load(path, device_);
    } catch (const c10::Error& e) {
      throw ModelFileError("'" + path + "' is not a TorchScript module torch.jit.save wrote: " + e.what_without_backtrace());
    }
    module_.eval();
    if (inference.plan == "eager") return;
    // As torch.jit.optimize_for_inference: weights frozen in, BatchNorm folded, oneDNN layout.
    try {
      module_ = torch::jit::optimize_for_inference(module_);
    } catch (const std::exception& e) {
      logger("infer")->warn("TorchScript model '{}' runs unoptimised: freezing it failed: {}", path, e.what());
    }
  }
  torch::Tensor probabilities(const torch::Tensor& tiles) override {
    torch::InferenceMode guard;
    torch::Tensor out;
    try {
      out = module_.forward({tiles.to(device_)}).toTensor();
    } catch (const c10::Error& e) {
      throw InputError("TorchScript model '" + info_.source + "' failed on tiles " + c10::str(tiles.sizes()) + ": " +
                       e.what_without_backtrace());
    }
    const int64_t classes = static_cast<int64_t>(info_.classes.size());
    HP_CHECK(out.dim() == 4 && out.size(0) == tiles.size(0) && out.size(2) == tiles.size(2) &&
                 out.size(3) == tiles.size(3) && (out.size(1) == classes || (classes == 2 && out.size(1) == 1)),
             ModelFileError, "TorchScript model '", info_.source, "' returned ", out.sizes(), " for tiles ",
             tiles.sizes(), ": expected [N,", classes, ",H,W] (or [N,1,H,W] for two classes)");
    return to_probabilities(out, logits_).to(torch::kCPU, torch::kFloat);
  }

 private:
  torch::jit::script::Module module_;
  c10::Device device_;
  bool logits_ = true;
};

}  // namespace

bool read_torchscript_sidecar(const nlohmann::json& sidecar, const std::string& source, TileModelInfo& info) {
  auto fail = [&](const std::string& key, const std::string& expected) {
    return ModelFileError("sidecar '" + source + "': key '" + key + "' " + expected);
  };
  if (!sidecar.is_object()) throw ModelFileError("sidecar '" + source + "' must be a JSON object");
  const auto classes = sidecar.find("classes");
  if (classes == sidecar.end() || !classes->is_array() || classes->size() < 2) throw fail("classes", "must list at least two class names, background first");
  info.classes.clear();
  for (const auto& c : *classes) {
    if (!c.is_string()) throw fail("classes", "must hold strings");
    info.classes.push_back(c.get<std::string>());
  }
  if (sidecar.contains("mpp")) {
    if (!sidecar["mpp"].is_number() || sidecar["mpp"].get<double>() <= 0) throw fail("mpp", "must be a number > 0 (um/px)");
    info.mpp = sidecar["mpp"].get<double>();
  }
  if (sidecar.contains("tile_size")) {
    if (!sidecar["tile_size"].is_number_integer() || sidecar["tile_size"].get<int>() <= 0) throw fail("tile_size", "must be a positive integer (px)");
    info.tile_size = sidecar["tile_size"].get<int>();
  }
  if (sidecar.contains("stride")) {
    if (!sidecar["stride"].is_number_integer() || sidecar["stride"].get<int>() <= 0) throw fail("stride", "must be a positive integer (px)");
    info.stride = sidecar["stride"].get<int>();
  }
  if (sidecar.contains("normalization")) {
    try {
      info.normalization = Normalization::from_json(sidecar["normalization"]);
    } catch (const Error& e) {
      throw fail("normalization", std::string("is invalid: ") + e.what());
    }
    if (info.normalization.needs_statistics) throw fail("normalization", "with mode standardize must give mean and std");
  }
  const std::string output = sidecar.value("output", "logits");
  if (output != "logits" && output != "probabilities") throw fail("output", "must be \"logits\" or \"probabilities\"");
  return output == "logits";
}

std::unique_ptr<TileModel> TileModel::load(const std::string& path, const InferenceOptions& inference) {
  check_inference_options(inference);
  HP_CHECK(std::filesystem::is_regular_file(path), ModelFileError, "model '", path, "' does not exist");
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".hpm") return std::make_unique<HpmTileModel>(path, inference);
  HP_CHECK(ext == ".pt" || ext == ".pth" || ext == ".ts", ModelFileError, "model '", path,
           "' is neither a hemapath model (.hpm) nor a TorchScript module (.pt, .pth, .ts)");
  return std::make_unique<TorchScriptTileModel>(path, inference);
}

}  // namespace hemapath
