#include "hemapath/train/segmentation_loss.h"

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

namespace F = torch::nn::functional;

// Per-pixel weights: 0 on ignored pixels, the class weight of the target elsewhere ([N,H,W]).
torch::Tensor pixel_weights(const torch::Tensor& targets, const std::vector<double>& class_weights,
                            int64_t ignore_index, int64_t num_classes, const torch::Tensor& like) {
  const torch::Tensor valid = targets != ignore_index;
  torch::Tensor weights = valid.to(like.scalar_type());
  if (class_weights.empty()) return weights;
  const torch::Tensor table = torch::tensor(std::vector<float>(class_weights.begin(), class_weights.end()))
                                  .to(like.device(), like.scalar_type());
  if (num_classes == 1)  // binary: the weight applies to the positive class
    return weights * torch::where(targets == 1, table[0], torch::ones({}, like.options()));
  return weights * table.index({targets.clamp(0, num_classes - 1)});
}

// One-hot targets [N,C,H,W] (binary: the foreground plane [N,1,H,W]) with ignored pixels zeroed.
torch::Tensor one_hot(const torch::Tensor& targets, int64_t num_classes, const torch::Tensor& like) {
  const torch::Tensor clamped = targets.clamp(0, std::max<int64_t>(1, num_classes) - 1);
  if (num_classes == 1) return (targets == 1).unsqueeze(1).to(like.scalar_type());
  return F::one_hot(clamped, num_classes).permute({0, 3, 1, 2}).to(like.scalar_type());
}

// log p_t per pixel [N,H,W] (ignored pixels hold any finite value).
torch::Tensor log_p_true(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (logits.size(1) == 1) {
    const torch::Tensor z = logits.squeeze(1);
    return torch::where(targets == 1, F::logsigmoid(z), F::logsigmoid(-z));
  }
  const torch::Tensor safe = targets.clamp(0, logits.size(1) - 1);
  return torch::log_softmax(logits, 1).gather(1, safe.unsqueeze(1)).squeeze(1);
}

// PyTorch's conventions, so that weights mean what they mean there: cross_entropy(weight=w)
// divides by the sum of the pixels' weights; BCE's pos_weight divides by the pixel count.
torch::Tensor weighted_mean(const torch::Tensor& per_pixel, const torch::Tensor& weights, const torch::Tensor& valid,
                            bool binary) {
  const torch::Tensor norm = binary ? valid.sum() : weights.sum();
  return (per_pixel * weights).sum() / norm.clamp_min(1e-12);
}

void check_inputs(const torch::Tensor& logits, const torch::Tensor& targets, const std::vector<double>& class_weights,
                  int64_t ignore_index) {
  HP_CHECK(logits.dim() == 4 && targets.dim() == 3 && logits.size(0) == targets.size(0) &&
               logits.size(2) == targets.size(1) && logits.size(3) == targets.size(2),
           InputError, "segmentation loss: logits ", logits.sizes(), " and targets ", targets.sizes(),
           " do not match: expected [N,C,H,W] and [N,H,W]");
  HP_CHECK(targets.scalar_type() == torch::kLong, InputError, "segmentation loss: targets must be int64 class indices");
  const int64_t classes = logits.size(1);
  const int64_t top = classes == 1 ? 1 : classes - 1;
  const torch::Tensor valid = targets != ignore_index;
  if (valid.any().item<bool>()) {
    const torch::Tensor used = targets.masked_select(valid);
    const int64_t lo = used.min().item<int64_t>(), hi = used.max().item<int64_t>();
    HP_CHECK(lo >= 0 && hi <= top, InputError, "segmentation targets hold class ", lo < 0 ? lo : hi,
             ": expected 0..", top, classes == 1 ? " (a binary network)" : "",
             ignore_index >= 0 ? " or the ignore index " + std::to_string(ignore_index) : std::string());
  }
  HP_CHECK(class_weights.empty() || static_cast<int64_t>(class_weights.size()) == classes, InputError,
           "loss.class_weights has ", class_weights.size(), " values: expected ", classes,
           classes == 1 ? " (the positive class of a binary network)" : " (one per class)");
}

}  // namespace

SegmentationLossConfig SegmentationLossConfig::from_config(const ConfigNode& node) {
  SegmentationLossConfig c;
  c.cross_entropy = node.get_number("cross_entropy", c.cross_entropy, 0, 1e6);
  c.dice = node.get_number("dice", c.dice, 0, 1e6);
  c.focal = node.get_number("focal", c.focal, 0, 1e6);
  c.focal_gamma = node.get_number("focal_gamma", c.focal_gamma, 0, 10);
  c.class_weights = node.get<std::vector<double>>("class_weights", {});
  for (double w : c.class_weights)
    HP_CHECK(w >= 0 && std::isfinite(w), ConfigError, node.where("class_weights"), " holds ", w,
             ": expected non-negative numbers");
  c.ignore_index = node.get_int("ignore_index", c.ignore_index, -1, 65535);
  HP_CHECK(c.cross_entropy + c.dice + c.focal > 0, ConfigError, node.where("cross_entropy"),
           ": the weights of cross_entropy, dice and focal must not all be 0");
  return c;
}

nlohmann::json SegmentationLossConfig::to_json() const {
  return {{"cross_entropy", cross_entropy}, {"dice", dice},        {"focal", focal}, {"focal_gamma", focal_gamma},
          {"class_weights", class_weights}, {"ignore_index", ignore_index}};
}

torch::Tensor pixel_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                  const std::vector<double>& class_weights, int64_t ignore_index) {
  return focal_loss(logits, targets, 0, class_weights, ignore_index);
}

torch::Tensor focal_loss(const torch::Tensor& logits, const torch::Tensor& targets, double gamma,
                         const std::vector<double>& class_weights, int64_t ignore_index) {
  const torch::Tensor log_pt = log_p_true(logits, targets);
  torch::Tensor per_pixel = -log_pt;
  if (gamma > 0) per_pixel = per_pixel * (1 - log_pt.exp()).pow(gamma);
  const torch::Tensor valid = (targets != ignore_index).to(logits.scalar_type());
  return weighted_mean(per_pixel, pixel_weights(targets, class_weights, ignore_index, logits.size(1), logits), valid,
                       logits.size(1) == 1);
}

torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index) {
  const int64_t classes = logits.size(1);
  const torch::Tensor probabilities = classes == 1 ? torch::sigmoid(logits) : torch::softmax(logits, 1);
  const torch::Tensor valid = (targets != ignore_index).unsqueeze(1).to(logits.scalar_type());
  const torch::Tensor p = probabilities * valid, y = one_hot(targets, classes, logits) * valid;
  const std::vector<int64_t> pixels = {0, 2, 3};
  const torch::Tensor dice = (2 * (p * y).sum(pixels) + 1) / (p.sum(pixels) + y.sum(pixels) + 1);
  return 1 - dice.mean();
}

torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                                const SegmentationLossConfig& config) {
  check_inputs(logits, targets, config.class_weights, config.ignore_index);
  torch::Tensor total = torch::zeros({}, logits.options());
  if (config.cross_entropy > 0)
    total = total + config.cross_entropy * pixel_cross_entropy(logits, targets, config.class_weights, config.ignore_index);
  if (config.dice > 0) total = total + config.dice * soft_dice_loss(logits, targets, config.ignore_index);
  if (config.focal > 0)
    total = total + config.focal * focal_loss(logits, targets, config.focal_gamma, config.class_weights,
                                              config.ignore_index);
  return total;
}

}  // namespace hemapath
