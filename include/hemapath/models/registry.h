#pragma once
/// Classifier registry: builds a network from its architecture name. Kept free of torch so
/// code that only lists or validates names does not pay for <torch/torch.h>; include
/// classifier.h to fill `ClassifierOptions` and to use the returned network.
#include <memory>
#include <string>
#include <vector>

namespace hemapath {

struct ClassifierOptions;
class ClassifierImpl;
using ClassifierPtr = std::shared_ptr<ClassifierImpl>;

/// Builds a classifier by architecture name. Unknown name ->
/// InputError("unknown architecture 'x': expected one of resnet18, resnet34, ...").
/// Invalid options (num_classes or in_channels < 1, dropout >= 1, unknown or mistyped `extra`
/// keys) -> ConfigError.
///
/// Architectures and their `extra` keys (dropout < 0 picks the default in brackets):
///   resnet18, resnet34, resnet50 [0]   zero_init_residual (bool, false), attention (none | se |
///                                      cbam | eca, none), attention_reduction (integer >= 1, 16),
///                                      loss_net (bool, false), loss_net_width (integer >= 1, 128)
///   efficientnet_b0 [0.2]              stochastic_depth_prob (number in [0, 1), 0.2)
///   mobilenet_v3_large, mobilenet_v3_small [0.2]   width_mult (number > 0, 1.0)
///   separable_cnn [0.3]                width (number > 0, 1.0)
///   densenet121, densenet201 [0]       none
///   vgg16, vgg16_bn [0.5]              none
///   inception_resnet_v2 [0]            none; inputs of at least 75x75 px (else InputError)
ClassifierPtr create_classifier(const std::string& arch, const ClassifierOptions& options);

/// Registered classifier names, in registration order.
std::vector<std::string> classifier_names();

}  // namespace hemapath
