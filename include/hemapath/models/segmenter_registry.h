#pragma once
/// Segmenter registry: builds a segmentation network from its architecture name. Kept free of
/// torch (as registry.h); include segmenter.h to fill `SegmenterOptions` and use the network.
#include <memory>
#include <string>
#include <vector>

namespace hemapath {

struct SegmenterOptions;
class SegmenterImpl;
using SegmenterPtr = std::shared_ptr<SegmenterImpl>;

/// Builds a segmenter by architecture name. Unknown name ->
/// InputError("unknown segmentation architecture 'x': expected one of unet, ...").
/// Invalid options (num_classes or in_channels < 1, unknown or mistyped `extra` keys, values
/// out of range) -> ConfigError naming the key.
///
/// Architectures (output stride in brackets) and their `extra` keys:
///   unet [2^depth, 32 with an encoder]
///       depth (integer 1..8, 4): downsamplings; with an encoder only 5 is accepted
///       width (integer >= 1, 32): channels at full resolution, doubled per level
///       upsampling ("bilinear" | "transposed", "bilinear")
///       encoder ("" | "resnet18" | "resnet34" | "resnet50" | "efficientnet_b0", ""): a
///           classifier backbone as the contracting path, parameters under "encoder."
///   mrn [2^depth]   multi-resolution network (mrn.h); in_channels counts both patches (6 for RGB)
///       depth (integer 1..8, 4), width (integer >= 1, 32), upsampling as unet
///       context_width (integer >= 0, 0 = width): the context encoder's level-0 channels
///       context_ratio (number > 1, 4): context mpp / fine mpp
///   fcn_resnet50 [8], deeplabv3_resnet50 [8]   torchvision's (aux_loss=False)
///       backbone ("resnet50" | "resnet34" | "resnet18", "resnet50"): lighter dilated
///           backbones, hemapath's own variants; parameters under "backbone."
SegmenterPtr create_segmenter(const std::string& arch, const SegmenterOptions& options);

/// Registered segmenter names, in registration order.
std::vector<std::string> segmenter_names();

}  // namespace hemapath
