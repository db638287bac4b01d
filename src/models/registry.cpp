#include "hemapath/models/registry.h"

#include <functional>
#include <set>
#include <utility>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/densenet.h"
#include "hemapath/models/efficientnet.h"
#include "hemapath/models/extra_options.h"
#include "hemapath/models/inception_resnet_v2.h"
#include "hemapath/models/mobilenet_v3.h"
#include "hemapath/models/resnet.h"
#include "hemapath/models/separable_cnn.h"
#include "hemapath/models/vgg.h"

namespace hemapath {
namespace {

double dropout_or(const ClassifierOptions& options, double fallback) {
  return options.dropout < 0 ? fallback : options.dropout;
}

using Factory = std::function<ClassifierPtr(const std::string&, const ClassifierOptions&)>;
using FactoryTable = std::vector<std::pair<std::string, Factory>>;

Factory resnet_factory(int64_t depth) {
  return [depth](const std::string& arch, const ClassifierOptions& o) -> ClassifierPtr {
    const ExtraOptions extra(arch, o.extra,
                             {"zero_init_residual", "attention", "attention_reduction", "loss_net", "loss_net_width"});
    return ResNet(ResNetOptions(depth)
                      .num_classes(o.num_classes)
                      .in_channels(o.in_channels)
                      .dropout(dropout_or(o, 0.0))
                      .zero_init_residual(extra.boolean("zero_init_residual", false))
                      .attention(parse_attention(extra.choice("attention", "none", {"none", "se", "cbam", "eca"}),
                                                 "extra.attention"))
                      .attention_reduction(extra.integer("attention_reduction", 16))
                      .loss_net(extra.boolean("loss_net", false))
                      .loss_net_width(extra.integer("loss_net_width", 128)))
        .ptr();
  };
}

Factory mobilenet_v3_factory(MobileNetV3Variant variant) {
  return [variant](const std::string& arch, const ClassifierOptions& o) -> ClassifierPtr {
    const ExtraOptions extra(arch, o.extra, {"width_mult"});
    return MobileNetV3(MobileNetV3Options(variant)
                           .num_classes(o.num_classes)
                           .in_channels(o.in_channels)
                           .dropout(dropout_or(o, 0.2))
                           .width_mult(extra.number("width_mult", 1.0)))
        .ptr();
  };
}

Factory densenet_factory(int64_t depth) {
  return [depth](const std::string& arch, const ClassifierOptions& o) -> ClassifierPtr {
    const ExtraOptions extra(arch, o.extra, {});
    return DenseNet(DenseNetOptions(depth)
                        .num_classes(o.num_classes)
                        .in_channels(o.in_channels)
                        .dropout(dropout_or(o, 0.0)))
        .ptr();
  };
}

Factory vgg_factory(int64_t depth, bool batch_norm) {
  return [depth, batch_norm](const std::string& arch, const ClassifierOptions& o) -> ClassifierPtr {
    const ExtraOptions extra(arch, o.extra, {});
    return Vgg(VggOptions(depth)
                   .batch_norm(batch_norm)
                   .num_classes(o.num_classes)
                   .in_channels(o.in_channels)
                   .dropout(dropout_or(o, 0.5)))
        .ptr();
  };
}

// The one place architectures are registered, in the order `classifier_names` lists them.
void register_classifiers(FactoryTable& table) {
  table.emplace_back("resnet18", resnet_factory(18));
  table.emplace_back("resnet34", resnet_factory(34));
  table.emplace_back("resnet50", resnet_factory(50));
  table.emplace_back("efficientnet_b0", [](const std::string& arch, const ClassifierOptions& o) {
    const ExtraOptions extra(arch, o.extra, {"stochastic_depth_prob"});
    return ClassifierPtr(
        EfficientNet(EfficientNetOptions()
                         .num_classes(o.num_classes)
                         .in_channels(o.in_channels)
                         .dropout(dropout_or(o, 0.2))
                         .stochastic_depth_prob(extra.number("stochastic_depth_prob", 0.2)))
            .ptr());
  });
  table.emplace_back("mobilenet_v3_large", mobilenet_v3_factory(MobileNetV3Variant::kLarge));
  table.emplace_back("mobilenet_v3_small", mobilenet_v3_factory(MobileNetV3Variant::kSmall));
  table.emplace_back("separable_cnn", [](const std::string& arch, const ClassifierOptions& o) {
    const ExtraOptions extra(arch, o.extra, {"width"});
    return ClassifierPtr(SeparableCnn(SeparableCnnOptions()
                                          .num_classes(o.num_classes)
                                          .in_channels(o.in_channels)
                                          .dropout(dropout_or(o, 0.3))
                                          .width(extra.number("width", 1.0)))
                             .ptr());
  });
  table.emplace_back("densenet121", densenet_factory(121));
  table.emplace_back("densenet201", densenet_factory(201));
  table.emplace_back("vgg16", vgg_factory(16, false));
  table.emplace_back("vgg16_bn", vgg_factory(16, true));
  table.emplace_back("inception_resnet_v2", [](const std::string& arch,
                                               const ClassifierOptions& o) {
    const ExtraOptions extra(arch, o.extra, {});
    return ClassifierPtr(InceptionResNetV2(InceptionResNetV2Options()
                                               .num_classes(o.num_classes)
                                               .in_channels(o.in_channels)
                                               .dropout(dropout_or(o, 0.0)))
                             .ptr());
  });
}

const FactoryTable& factories() {
  static const FactoryTable table = [] {
    FactoryTable t;
    register_classifiers(t);
    return t;
  }();
  return table;
}

}  // namespace

ClassifierPtr create_classifier(const std::string& arch, const ClassifierOptions& options) {
  for (const auto& [name, factory] : factories()) {
    if (name == arch) return factory(arch, options);
  }
  std::string valid;
  for (const auto& name : classifier_names()) valid += (valid.empty() ? "" : ", ") + name;
  throw InputError("unknown architecture '" + arch + "': expected one of " + valid);
}

std::vector<std::string> classifier_names() {
  std::vector<std::string> names;
  for (const auto& entry : factories()) names.push_back(entry.first);
  return names;
}

}  // namespace hemapath
